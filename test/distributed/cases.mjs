// Run by test/distributed.test.ts under `mpirun -np N`: every rank runs the same cases and
// prints one line `RESULT {json}`; a failed check throws (non-zero exit, and mpirun ends the job).
// Usage: cases.mjs <mode> where mode is 'all' (every equality case) or 'hang' (rank 1 never steps).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { Adagrad, Adam, AdamW, Lion, OPTIMIZER_KINDS, SGD, createOptimizer } from '../../dist/index.js';
import { init, ncclInfo } from '../../dist/distributed/index.js';
import { mulberry32 } from '../../dist/random.js';
import { check, checks, comm, digest, grad, rank, sameOnEveryRank, size } from './harness.mjs';

const mode = process.argv[2] ?? 'all';
/** The sum over ranks, in rank order, in fp32. */
function sumOverRanks(t, s, n, exact) {
  const out = new Float32Array(n);
  for (let r = 0; r < size; r++) {
    const g = grad(r, t, s, n, exact);
    for (let i = 0; i < n; i++) out[i] = Math.fround(out[i] + g[i]);
  }
  return out;
}

const lengths = [7, 33, 1001, 5]; // 1046 parameters: not divisible by 3 or 4
const init0 = lengths.map((n, t) => {
  const rnd = mulberry32(17 + t);
  return Float32Array.from({ length: n }, () => rnd() - 0.5);
});

const configs = [
  ['Adam', (o) => new Adam(init0.map((a) => a.slice()), { lr: 0.01, ...o })],
  ['AdamW groups', (o) => new AdamW([{ params: init0.slice(0, 2).map((a) => a.slice()), lr: 0.02 }, { params: init0.slice(2).map((a) => a.slice()), weightDecay: 0 }], { lr: 0.01, ...o })],
  ['SGD momentum', (o) => new SGD(init0.map((a) => a.slice()), { lr: 0.05, momentum: 0.9, ...o })],
  ['Lion', (o) => new Lion(init0.map((a) => a.slice()), { lr: 0.001, ...o })],
];

const STEPS = 4;

async function compare(name, make, exact, extra, useAsync) {
  const dp = make({ comm, ...extra });
  const ref = make({ ...extra, gradScale: (extra.gradScale ?? 1) / size });
  const infos = [];
  for (let s = 0; s < STEPS; s++) {
    lengths.forEach((n, t) => {
      dp.setGrads(t, grad(rank, t, s, n, exact));
      ref.setGrads(t, sumOverRanks(t, s, n, exact));
    });
    const a = useAsync ? await dp.stepAsync() : dp.step();
    const b = ref.step();
    infos.push([a, b]);
  }
  const tag = `${name}${exact ? ' exact' : ' float'}${useAsync ? ' async' : ''}${extra.maxGradNorm ? ' clip' : ''}`;
  sameOnEveryRank(digest(dp), `${tag}: parameters`);
  if (exact) {
    check(digest(dp) === digest(ref), `${tag}: parameters bitwise equal to one process stepped with the sum and gradScale/size`);
    for (const [a, b] of infos) {
      check(a.gradNormL2 === b.gradNormL2 && a.clipCoef === b.clipCoef && a.skipped === b.skipped, `${tag}: norms, clip and skip as one process`);
    }
  } else {
    let worst = 0;
    for (let t = 0; t < lengths.length; t++) {
      const x = dp.readParams(t);
      const y = ref.readParams(t);
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    }
    check(worst < 1e-5, `${tag}: parameters within 1e-5 of one process (max diff ${worst})`);
  }
  dp.dispose();
  ref.dispose();
  return infos;
}

/** Runs fn, which must throw a DistributedError with `code` (and a message matching `re`). */
async function expectCode(code, re, what, fn) {
  let err = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  check(err !== null, `${what}: throws`);
  check(err?.name === 'DistributedError' && err.code === code, `${what}: DistributedError ${code} (got ${err?.name} ${err?.code}: ${err?.message})`);
  if (re) check(re.test(err.message), `${what}: message ${re} (got: ${err.message})`);
}

/** Steps every optimizer of `opts` `n` times with this rank's exact gradients. */
function stepAll(opts, n) {
  for (let s = 0; s < n; s++) {
    for (const o of opts) {
      lengths.forEach((len, t) => o.setGrads(t, grad(rank, t, o.iteration, len, true)));
      o.step();
    }
  }
}

const last = size - 1;

if (mode === 'hang') {
  // Rank 1 never steps and no timeout is set (30 minutes by default): the others wait; the
  // test's watchdog must end the job.
  const opt = new Adam([10], { comm });
  if (rank !== 1) opt.step();
  else await new Promise((r) => setTimeout(r, 600_000));
} else if (mode === 'timeout') {
  // Rank 1 never steps; the others' step fails after comm.timeoutMs instead of hanging.
  comm.timeoutMs = 1500;
  const opt = new Adam([10], { comm });
  if (rank === 1) await new Promise((r) => setTimeout(r, 600_000));
  const t0 = performance.now();
  await expectCode('ERR_FUSED_OPTIM_MPI_TIMEOUT', /not every rank arrived within 1\.5 s/, 'a stalled rank', () => opt.step());
  const ms = performance.now() - t0;
  check(ms >= 1400 && ms < 20_000, `the timeout fired after ${ms.toFixed(0)} ms`);
  check(opt.iteration === 0, 'the timed-out step changed nothing');
  // MPI is unusable now, and says why at once.
  const t1 = performance.now();
  await expectCode('ERR_FUSED_OPTIM_MPI_TIMEOUT', /cannot be used any more/, 'a barrier after the timeout', () => comm.barrier());
  check(performance.now() - t1 < 1000, 'a collective after a timeout fails at once');
  opt.dispose();
  console.log(`RESULT ${JSON.stringify({ rank, size, ok: true, checks: checks.length, timeoutMs: ms })}`);
  // Exits without MPI_Finalize (it would wait for rank 1): mpirun ends the job.
} else if (mode === 'left') {
  // The last rank disposes its optimizers early; every other rank gets a typed error, not a hang.
  const a = new Adam(init0.map((x) => x.slice()), { lr: 0.01, comm });
  const b = new AdamW(init0.map((x) => x.slice()), { lr: 0.01, comm, shard: true });
  const c = new SGD(init0.map((x) => x.slice()), { lr: 0.01, momentum: 0.9, comm });
  stepAll([a, b, c], 2);
  if (rank === last) {
    a.dispose();
    b.dispose();
    // Disposed while its stepAsync is in flight: that step's collectives complete (the others
    // take the matching step), and the leave follows them.
    lengths.forEach((len, t) => c.setGrads(t, grad(rank, t, c.iteration, len, true)));
    const p = c.stepAsync();
    c.dispose();
    let err = null;
    await p.catch((e) => (err = e));
    check(/disposed during stepAsync/.test(err?.message), `dispose during stepAsync: the step's promise says so (${err?.message})`);
  } else {
    const re = new RegExp(`rank ${last} has left this distributed optimizer`);
    await expectCode('ERR_FUSED_OPTIM_RANK_LEFT', re, 'step after a rank disposed early', () => a.step());
    check(a.iteration === 2, 'the refused step changed nothing');
    await expectCode('ERR_FUSED_OPTIM_RANK_LEFT', /cannot run collectives any more/, 'a second step: refused at once', () => a.step());
    await expectCode('ERR_FUSED_OPTIM_RANK_LEFT', re, 'stateDict of a sharded optimizer after a rank left', () => b.stateDict());
    lengths.forEach((len, t) => c.setGrads(t, grad(rank, t, c.iteration, len, true)));
    await c.stepAsync(); // matches the last rank's in-flight step
    check(c.iteration === 3, 'the step matching a step disposed in flight completes');
    await expectCode('ERR_FUSED_OPTIM_RANK_LEFT', re, 'stepAsync after a rank left', () => c.stepAsync());
    a.dispose();
    b.dispose();
    c.dispose();
  }
  // The communicator itself still works, and so does a new optimizer.
  const d = new AdamW(init0.map((x) => x.slice()), { lr: 0.01, comm });
  stepAll([d], 3);
  sameOnEveryRank(digest(d), 'an optimizer built after one was left');

  // Disagreements: typed errors on every rank, nothing changed, and the optimizer goes on.
  const e = new Adam(init0.map((x) => x.slice()), { lr: 0.01, comm, shard: true });
  stepAll([e], 1);
  const before = digest(e);
  await expectCode('ERR_FUSED_OPTIM_MPI_MISMATCH', /disagree on the collective operation/, 'step on one rank, stateDict on the others', () => (rank === 0 ? e.step() : e.stateDict()));
  check(digest(e) === before && e.iteration === 1, 'the mismatched step changed nothing');
  const sd = e.stateDict();
  if (rank === 0) e.loadStateDict({ ...sd, iteration: 7, appliedSteps: 7 });
  await expectCode('ERR_FUSED_OPTIM_MPI_MISMATCH', /different iterations \(iterations from 1 to 7/, 'ranks at different iterations', () => e.step());
  if (rank === 0) e.loadStateDict(sd);
  stepAll([e, d], 2);
  sameOnEveryRank(digest(e), 'a sharded optimizer after the refused steps');

  // A rank that closes the communicator with a live optimizer leaves it: the others' next
  // step fails, and their close() does not wait for anything.
  const f = new Lion(init0.map((x) => x.slice()), { lr: 0.001, comm });
  stepAll([f], 1);
  if (rank !== last) {
    comm.barrier(); // the last rank is closing (after this barrier)
    await expectCode('ERR_FUSED_OPTIM_RANK_LEFT', new RegExp(`rank ${last} has left`), 'step after a rank closed the communicator', () => f.step());
  } else comm.barrier();
  console.log(`RESULT ${JSON.stringify({ rank, size, ok: true, checks: checks.length })}`);
  comm.close(); // d and e leave here, on every rank at once
} else {
  for (const [name, make] of configs) {
    await compare(name, make, true, {}, false);
    await compare(name, make, false, {}, false);
  }
  // Every rule (createOptimizer): data-parallel bitwise equal to one process with exact sums;
  // sharded bitwise equal to unsharded where sharding is allowed.
  for (const kind of OPTIMIZER_KINDS) {
    const make = (o) => createOptimizer(kind, init0.map((a) => a.slice()), { lr: 0.01, ...o });
    await compare(kind, make, true, {}, false);
    if (kind !== 'lamb' && kind !== 'schedulefree-adamw') {
      const a = make({ comm });
      const b = make({ comm, shard: true });
      stepAll([a, b], 3);
      check(digest(a) === digest(b), `${kind}: sharded bitwise equal to unsharded`);
      a.dispose();
      b.dispose();
    }
  }
  check(OPTIMIZER_KINDS.length >= 12, `every rule was run (${OPTIMIZER_KINDS.join(', ')})`);

  // Ranks that initialised differently: construction gives every rank rank 0's parameters
  // (the caller's arrays untouched); with broadcastParams: false each keeps its own.
  {
    const mine = lengths.map((n, t) => Float32Array.from(grad(rank, t, 99, n, true)));
    const ofRank0 = lengths.map((n, t) => grad(0, t, 99, n, true));
    const before = mine.map((a) => a.slice());
    const o = new AdamW(mine, { lr: 0.01, comm });
    check(lengths.every((_, t) => Buffer.from(o.readParams(t).buffer).equals(Buffer.from(ofRank0[t].buffer))), "broadcastParams: every rank holds rank 0's parameters");
    check(mine.every((a, t) => Buffer.from(a.buffer).equals(Buffer.from(before[t].buffer))), "broadcastParams: the caller's arrays are unchanged");
    stepAll([o], 2);
    sameOnEveryRank(digest(o), 'broadcastParams: after two steps');
    o.dispose();
    const own = new AdamW(mine, { lr: 0.01, comm, broadcastParams: false });
    check(Buffer.from(own.readParams(2).buffer).equals(Buffer.from(before[2].buffer)), 'broadcastParams: false keeps this rank\'s parameters');
    own.dispose();
    const f64 = Float64Array.from({ length: 5 }, (_, i) => rank * 10 + i);
    comm.broadcast(f64, size - 1);
    check(f64.every((x, i) => x === (size - 1) * 10 + i), 'comm.broadcast(Float64Array, last rank)');
    const f32 = new Float32Array(3).fill(rank + 0.5);
    check(comm.broadcast(f32) === f32 && f32.every((x) => x === 0.5), 'comm.broadcast(Float32Array) from rank 0 by default');
    for (const [bad, type] of [[-1, RangeError], [size, RangeError], [0.5, RangeError], ['0', TypeError]]) {
      let e = null;
      try {
        comm.broadcast(f32, bad);
      } catch (x) {
        e = x;
      }
      check(e instanceof type && /root/.test(e.message), `broadcast root ${String(bad)}: ${type.name} naming root`);
    }
    // Ranks in different calls of the communicator, or with different lengths: typed errors everywhere.
    await expectCode('ERR_FUSED_OPTIM_MPI_MISMATCH', /different collective calls/, 'barrier on rank 0, allreduce on the others', () => (rank === 0 ? comm.barrier() : comm.allreduce(new Float64Array(2))));
    await expectCode('ERR_FUSED_OPTIM_MPI_MISMATCH', /arrays of different lengths/, 'allreduce of different lengths', () => comm.allreduce(new Float64Array(rank + 1)));
    await expectCode('ERR_FUSED_OPTIM_MPI_MISMATCH', /different roots/, 'broadcast from different roots', () => comm.broadcast(new Float32Array(4), rank));
    comm.barrier();
  }
  await compare('Adam', configs[0][1], true, {}, true);
  await compare('AdamW groups', configs[1][1], true, {}, true);
  // Clipping on the averaged gradient (a norm below every step's).
  const clipped = await compare('Adam', configs[0][1], true, { maxGradNorm: 0.5, skipNonFinite: true }, false);
  check(clipped.every(([a]) => a.clipCoef < 1), 'clip: every step clipped on the averaged gradient');

  // A NaN on the last rank only: every rank skips, parameters stay as they were.
  {
    const opt = new AdamW(init0.map((a) => a.slice()), { lr: 0.01, skipNonFinite: true, comm });
    lengths.forEach((n, t) => opt.setGrads(t, grad(rank, t, 0, n, true)));
    opt.step();
    const before = digest(opt);
    lengths.forEach((n, t) => opt.setGrads(t, grad(rank, t, 1, n, true)));
    if (rank === size - 1) opt.grads[2][500] = NaN;
    const info = opt.step();
    check(info.skipped && info.nonFinite, 'NaN on one rank: this rank skipped');
    check(digest(opt) === before && opt.appliedSteps === 1 && opt.iteration === 2, 'NaN on one rank: parameters and applied count unchanged');
    sameOnEveryRank(digest(opt), 'NaN on one rank: parameters');
    lengths.forEach((n, t) => opt.setGrads(t, grad(rank, t, 2, n, true)));
    check(!opt.step().skipped, 'NaN on one rank: the next finite step applies');
    opt.dispose();
  }

  // Mismatched layouts: every rank gets the same RangeError, no hang.
  {
    let err = null;
    try {
      new Adam(rank === 1 ? [7, 34] : [7, 33], { comm });
    } catch (e) {
      err = e;
    }
    check(err instanceof RangeError && /same arena layout on every rank/.test(err.message), `mismatched lengths: RangeError on every rank (${err?.message})`);
    err = null;
    try {
      new SGD(rank === 0 ? [{ params: [4] }, { params: [4], lr: 0.5 }] : [{ params: [4, 4] }], { comm });
    } catch (e) {
      err = e;
    }
    check(err instanceof RangeError, 'mismatched groups, same parameter count: RangeError on every rank');
  }

  // ZeRO-1 (shard: true): equal to the unsharded data-parallel run, state bytes per rank.
  const sharded = {};
  {
    const cfgs = [...configs, ['Adagrad', (o) => new Adagrad(init0.map((a) => a.slice()), { lr: 0.05, ...o })]];
    for (const [name, make] of cfgs) {
      for (const extra of [{}, { maxGradNorm: 0.5, skipNonFinite: true }]) {
        const a = make({ comm, ...extra });
        const b = make({ comm, shard: true, ...extra });
        check(b.sharded && !a.sharded, `${name}: sharded flag`);
        for (let s = 0; s < STEPS; s++) {
          lengths.forEach((n, t) => {
            a.setGrads(t, grad(rank, t, s, n, true));
            b.setGrads(t, grad(rank, t, s, n, true));
          });
          const x = a.step();
          const y = s % 2 ? await b.stepAsync() : b.step();
          check(x.skipped === y.skipped && Math.abs(x.gradNormL2 - y.gradNormL2) <= 1e-12 * x.gradNormL2 && Math.abs(x.gradNormL1 - y.gradNormL1) <= 1e-12 * x.gradNormL1, `${name} shard: norms as unsharded`);
        }
        const tag = `${name} shard${extra.maxGradNorm ? ' clip' : ''}`;
        sameOnEveryRank(digest(b), `${tag}: parameters`);
        if (!extra.maxGradNorm) check(digest(a) === digest(b), `${tag}: parameters bitwise equal to unsharded`);
        else {
          let worst = 0;
          for (let t = 0; t < lengths.length; t++) {
            const x = a.readParams(t), y = b.readParams(t);
            for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
          }
          check(worst < 1e-6, `${tag}: parameters within 1e-6 of unsharded (clip coefficient from differently ordered sums; max diff ${worst})`);
        }
        const sa = a.stateDict(), sb = b.stateDict(); // collective for b
        for (const key of Object.keys(sa.state)) {
          check(sa.state[key].every((arr, t) => Buffer.from(arr.buffer).equals(Buffer.from(sb.state[key][t].buffer))) || extra.maxGradNorm, `${tag}: consolidated state ${key} equals unsharded`);
        }
        a.dispose();
        b.dispose();
      }
    }
    // NaN on one rank: every rank skips.
    const z = new Adam(init0.map((a) => a.slice()), { lr: 0.01, skipNonFinite: true, comm, shard: true });
    lengths.forEach((n, t) => z.setGrads(t, grad(rank, t, 0, n, true)));
    if (rank === 0) z.grads[0][3] = Infinity;
    const before = digest(z);
    const info = z.step();
    check(info.skipped && digest(z) === before && z.appliedSteps === 0, 'shard: Inf on rank 0 only skips on every rank');
    z.dispose();
    // Checkpoint: consolidated by save (collective, written by rank 0), loadable at any world size.
    const dir = rank === 0 ? mkdtempSync(join(tmpdir(), 'fo-dist-')) : '';
    const dirBuf = comm.allreduce(Float64Array.from(Buffer.from(dir.padEnd(64))), 'max');
    const file = join(Buffer.from(Array.from(dirBuf)).toString().trim(), 'ckpt.fo');
    const c1 = new AdamW(init0.map((a) => a.slice()), { lr: 0.01, comm, shard: true });
    for (let s = 0; s < 2; s++) {
      lengths.forEach((n, t) => c1.setGrads(t, grad(rank, t, s, n, true)));
      c1.step();
    }
    c1.saveSync(file);
    const c2 = new AdamW(lengths, { lr: 0.01, comm, shard: true });
    c2.loadSync(file);
    const solo = new AdamW(lengths, { lr: 0.01, gradScale: 1 / size });
    solo.loadSync(file); // world size 1, unsharded
    solo.setOptions({ gradScale: 1 / size }); // the file's gradScale (1) replaced: solo is given the sum of the ranks' gradients
    for (let s = 2; s < 4; s++) {
      lengths.forEach((n, t) => {
        c1.setGrads(t, grad(rank, t, s, n, true));
        c2.setGrads(t, grad(rank, t, s, n, true));
        solo.setGrads(t, sumOverRanks(t, s, n, true));
      });
      c1.step();
      c2.step();
      solo.step();
    }
    check(digest(c1) === digest(c2) && c2.iteration === 4, 'shard checkpoint: a sharded optimizer resumed from the consolidated file continues bit for bit');
    check(digest(solo) === digest(c1), 'shard checkpoint: the file loads in one process (unsharded) and continues identically');
    c1.dispose();
    c2.dispose();
    solo.dispose();
    comm.barrier();
    if (rank === 0) rmSync(dirname(file), { recursive: true, force: true });
    // Memory per rank: Adam over 1e6 parameters.
    const big = [600_000, 400_000];
    const u = new Adam(big, { comm });
    const sh = new Adam(big, { comm, shard: true });
    sharded.unshardedBytes = u.nativeBytes;
    sharded.shardedBytes = sh.nativeBytes;
    check(sh.nativeBytes < u.nativeBytes, 'shard: fewer native bytes per rank');
    // params + grads (2 x 4 MB) stay whole; the state (2 x 4 MB) and the gradient slice are 1/size.
    // (+ the trace ring: 4096 records of 32 bytes)
    const expected = 2 * 4e6 + (3 * 4e6) / size + 4096 * 32;
    check(Math.abs(sh.nativeBytes - expected) < 0.001 * expected, `shard: native bytes ${sh.nativeBytes} ~ 2 x 4 MB + 3 x 4 MB / ${size} + trace`);
    u.dispose();
    sh.dispose();
    let err = null;
    try {
      new Adam([8], { comm, shard: rank === 0 });
    } catch (e) {
      err = e;
    }
    check(err instanceof RangeError && /same arena layout/.test(err.message), 'shard on one rank only: RangeError on every rank');
    err = null;
    try {
      new Adam([8], { shard: true });
    } catch (e) {
      err = e;
    }
    check(err instanceof RangeError && /options\.shard/.test(err.message), 'shard without comm: RangeError');
  }

  // Typed errors for bad use.
  {
    let err = null;
    const nccl = ncclInfo();
    // Without NCCL (whether or not CUDA is usable): refused, with the probe's reason. With
    // NCCL this would build a communicator over one device per rank: test/distributed/nccl-cases.mjs.
    if (!nccl.available) {
      try {
        new Adam([4], { comm, device: 'cuda' });
      } catch (e) {
        err = e;
      }
      check(err instanceof RangeError && /NCCL is unavailable/.test(err.message) && err.message.includes(nccl.reason), 'CUDA arena with comm, no NCCL: RangeError naming NCCL and the reason');
      err = null;
      try {
        new Adam([4], { comm, device: 'cuda:0', shard: true });
      } catch (e) {
        err = e;
      }
      check(err instanceof RangeError && /NCCL/.test(err.message), 'sharded CUDA arena with comm, no NCCL: RangeError naming NCCL');
      err = null;
    }
    try {
      new Adam([{ params: [4], comm }]);
    } catch (e) {
      err = e;
    }
    check(err instanceof RangeError && /global/.test(err.message), 'comm in a group: RangeError (global option)');
    err = null;
    try {
      new Adam([4], { comm: { rank: 0, size: 1 } });
    } catch (e) {
      err = e;
    }
    check(err instanceof TypeError && /options\.comm/.test(err.message), 'a fake comm: TypeError naming options.comm');
    check(init() === comm, 'init twice: the same communicator');
    check(comm.timeoutMs === 30 * 60 * 1000, 'timeoutMs: 30 minutes by default');
    for (const [bad, type] of [[-1, RangeError], [0, RangeError], [Number.NaN, RangeError], ['5', TypeError]]) {
      let e = null;
      try {
        comm.timeoutMs = bad;
      } catch (x) {
        e = x;
      }
      check(e instanceof type && /timeoutMs/.test(e.message), `timeoutMs = ${String(bad)}: ${type.name} naming timeoutMs`);
    }
    check(init({ timeoutMs: 120_000 }) === comm && comm.timeoutMs === 120_000, 'init again with timeoutMs: the same communicator, new timeout');
    comm.timeoutMs = Infinity;
    comm.barrier();
    comm.timeoutMs = 30 * 60 * 1000;
    // A second collective while a stepAsync is in flight is refused, not interleaved.
    const opt = new Adam([8], { comm });
    const p = opt.stepAsync();
    err = null;
    try {
      comm.barrier();
    } catch (e) {
      err = e;
    }
    await p;
    check(err?.code === 'ERR_FUSED_OPTIM_MPI', 'barrier during a stepAsync: refused with ERR_FUSED_OPTIM_MPI');
    opt.dispose();
  }
  comm.barrier();
  console.log(`RESULT ${JSON.stringify({ rank, size, ok: true, checks: checks.length, threadLevel: comm.threadLevel, sharded })}`);
  comm.close();
  let err = null;
  try {
    new Adam([4], { comm });
  } catch (e) {
    err = e;
  }
  if (!(err instanceof RangeError)) throw new Error('a closed comm must be refused');
}
