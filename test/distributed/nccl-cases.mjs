// Run by test/distributed.nccl.test.ts under `mpirun -np N` on a machine with N CUDA devices and
// libnccl.so.2: each rank steps an AdamW on its own device (cuda:<local rank>) with `comm`, so
// the gradient is all-reduced with NCCL on the device. Every rank prints one line
// `RESULT {json}`; a failed check throws (non-zero exit, and mpirun ends the job).
//
// Checked: the data-parallel parameters after STEPS steps (step() and stepAsync() alternating),
// with different gradients on every rank, against a float64 reference of one process stepped
// with the averaged gradient, and against a CPU float32 run of one process stepped with the
// summed gradient and gradScale/size; bitwise equal on every rank; the norms the step saw are
// those of the summed gradient; the gradient slot holds the sum after a step; clipping decides
// on the summed gradient; dispose() (ncclCommDestroy) on every rank.
//
// Usage: nccl-cases.mjs [cuda|cpu]. 'cpu' is a dry run of the same cases on CPU arenas (the
// MPI all-reduce instead of NCCL), which checks the harness and its references anywhere.
import { AdamW, buildInfo } from '../../dist/index.js';
import { ncclInfo } from '../../dist/distributed/index.js';
import { mulberry32 } from '../../dist/random.js';
import { check, checks, comm, digest, grad, rank, sameOnEveryRank, size } from './harness.mjs';

const dry = process.argv[2] === 'cpu';
const nccl = ncclInfo();
const cuda = buildInfo().cuda;
const local = Number(process.env.OMPI_COMM_WORLD_LOCAL_RANK ?? rank);
check(comm.localRank === local, `comm.localRank is OMPI_COMM_WORLD_LOCAL_RANK (${comm.localRank})`);
const device = dry ? 'cpu' : 'cuda'; // with comm: GPU comm.localRank % device count
if (!dry) {
  check(nccl.available, `NCCL available (${nccl.reason})`);
  check(cuda.available && cuda.devices.length > local, `a CUDA device for local rank ${local} (${cuda.reason ?? `${cuda.devices.length} found`})`);
}

/** The sum over ranks (exact, see grad). */
function sumOverRanks(t, s, n) {
  const out = new Float64Array(n);
  for (let r = 0; r < size; r++) {
    const g = grad(r, t, s, n);
    for (let i = 0; i < n; i++) out[i] += g[i];
  }
  return out;
}

const lengths = [7, 33, 1001, 4099, 5]; // odd sizes, several chunks
const init0 = lengths.map((n, t) => {
  const rnd = mulberry32(17 + t);
  return Float32Array.from({ length: n }, () => rnd() - 0.5);
});
const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };
const STEPS = 10;

/** One AdamW step in float64 (src/optim/classes/adam.ts, decoupled): p *= 1 − lr·wd; m, v; p −= lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + eps). */
function refStep(ref, grads, t, clip) {
  const { lr, beta1, beta2, eps, weightDecay } = hyper;
  for (let k = 0; k < lengths.length; k++) {
    const { p, m, v } = ref[k];
    const g = grads[k];
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * clip;
      p[i] *= 1 - lr * weightDecay;
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      p[i] -= (lr / (1 - beta1 ** t)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - beta2 ** t) + eps));
    }
  }
}

async function run(tag, extra) {
  const dp = new AdamW(init0.map((a) => a.slice()), { ...hyper, ...extra, comm, device });
  const expected = dry ? 'cpu' : `cuda:${local}`;
  check(dp.device === expected, `${tag}: on ${expected} (device '${device}', local rank ${comm.localRank})`);
  const cpu = new AdamW(init0.map((a) => a.slice()), { ...hyper, ...extra, gradScale: 1 / size });
  const ref = init0.map((a) => ({ p: Float64Array.from(a), m: new Float64Array(a.length), v: new Float64Array(a.length) }));
  let clipped = 0;
  for (let s = 0; s < STEPS; s++) {
    const sums = lengths.map((n, t) => sumOverRanks(t, s, n));
    lengths.forEach((n, t) => {
      dp.setGrads(t, grad(rank, t, s, n));
      cpu.setGrads(t, Float32Array.from(sums[t]));
    });
    const a = s % 2 === 1 ? await dp.stepAsync() : dp.step();
    const b = cpu.step();
    // The averaged gradient's norm, in float64.
    let sq = 0;
    for (const g of sums) for (const x of g) sq += (x / size) ** 2;
    const norm = Math.sqrt(sq);
    check(Math.abs(a.gradNormL2 - b.gradNormL2) <= 1e-6 * b.gradNormL2, `${tag} step ${s}: gradNormL2 ${a.gradNormL2} as one process (${b.gradNormL2})`);
    check(Math.abs(a.gradNormL2 - norm) <= 1e-5 * norm, `${tag} step ${s}: gradNormL2 ${a.gradNormL2} is the averaged gradient's (${norm})`);
    check(!a.skipped && !b.skipped && Math.abs(a.clipCoef - b.clipCoef) <= 1e-6 * b.clipCoef, `${tag} step ${s}: clip ${a.clipCoef} and skip as one process (${b.clipCoef})`);
    const clip = extra.maxGradNorm !== undefined && norm > extra.maxGradNorm ? extra.maxGradNorm / (norm + 1e-6) : 1;
    if (clip < 1) clipped++;
    refStep(ref, sums.map((g) => g.map((x) => x / size)), s + 1, clip);
    if (s === 0) {
      // The gradient slot holds the sum over ranks after a step (the 1/size is in gradScale).
      let worst = 0;
      lengths.forEach((n, t) => {
        const g = dp.readGrads(t);
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(g[i] - sums[t][i]));
      });
      check(worst === 0, `${tag}: the gradient slot holds the exact sum over ranks after a step (max diff ${worst})`);
    }
  }
  if (extra.maxGradNorm !== undefined) check(clipped === STEPS, `${tag}: every step clipped on the averaged gradient (${clipped} of ${STEPS})`);
  sameOnEveryRank(digest(dp), `${tag}: parameters`);
  let vs64 = 0;
  let vsCpu = 0;
  for (let t = 0; t < lengths.length; t++) {
    const x = dp.readParams(t);
    const y = cpu.readParams(t);
    const z = ref[t].p;
    for (let i = 0; i < x.length; i++) {
      vs64 = Math.max(vs64, Math.abs(x[i] - z[i]));
      vsCpu = Math.max(vsCpu, Math.abs(x[i] - y[i]));
    }
  }
  // Parameters are within ±0.5 and a step moves them by about lr = 0.01: 5e-6 is float32 rounding over STEPS steps, far below one step.
  check(vs64 < 5e-6, `${tag}: parameters within 5e-6 of the float64 reference stepped with the averaged gradient (max diff ${vs64})`);
  check(vsCpu < 5e-6, `${tag}: parameters within 5e-6 of one CPU process stepped with the sum and gradScale/size (max diff ${vsCpu}${vsCpu === 0 ? ', bitwise equal' : ''})`);
  check(dp.appliedSteps === STEPS && dp.iteration === STEPS, `${tag}: ${STEPS} steps applied`);
  dp.dispose();
  cpu.dispose();
  return { vs64, vsCpu };
}

const plain = await run('AdamW', {});
const clipped = await run('AdamW clip', { maxGradNorm: 0.05 });

// Sharding stays CPU only.
if (!dry) {
  let err = null;
  try {
    new AdamW([8], { comm, device, shard: true });
  } catch (e) {
    err = e;
  }
  check(err instanceof RangeError && /options\.shard/.test(err.message) && /CPU/.test(err.message), 'shard on CUDA: RangeError (ZeRO-1 is CPU only)');
}

comm.barrier();
console.log(`RESULT ${JSON.stringify({ rank, size, ok: true, checks: checks.length, device, dry, nccl: nccl.version, plain, clipped })}`);
comm.close();
