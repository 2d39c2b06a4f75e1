// CUDA-vs-CPU parity cases, shared by test/cuda/parity.test.ts (vitest, on the TypeScript
// sources) and bench/gpu/check.mjs (plain Node on dist/, on the GPU host, which has no
// node_modules). Plain JavaScript with no imports: the caller passes the library.
//
// Every case builds the same optimizer twice, on 'cpu' and on the CUDA device, from the same
// initial parameters, feeds both the same fresh random gradients for several steps and
// compares what comes out. Tolerances (stated, not tuned to pass):
// - norms (L2, L1, per tensor, trace) and the clip coefficient: relative 1e-10. Both backends
//   sum in double over the same chunks, in a different order: ~1e-13 is typical.
// - parameters and state: bitwise equal (NaN equal to NaN) when nothing depends on a norm,
//   because both backends run the same fp32 rule (native/core/rules.h) without FMA
//   contraction (--fmad=false, -ffp-contract=off) and the same host-derived constants.
// - with clipping the clip coefficient may differ in its last float bit: parameters and state
//   within relative 1e-5 of the CPU's (floor 1e-3 of the array's RMS).
// - skipped / nonFinite flags, lr and appliedSteps: equal.

/** Norm tolerance (relative). */
export const NORM_RTOL = 1e-10;
/** Parameter / state tolerance (relative, floor 1e-3 RMS) where bitwise is not expected. */
export const STATE_RTOL = 1e-5;

/** mulberry32 (src/random.ts), re-exported for check.mjs. */
export { mulberry32 } from '../../dist/random.js';
import { mulberry32 } from '../../dist/random.js';

/** Fills `a` with normal(0, std) values (Box-Muller); never zeros only. */
export function fillNormal(rand, a, std) {
  for (let i = 0; i < a.length; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    a[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return a;
}

/**
 * Tensor lists:
 * - odd: one tensor of 278011 (apex's odd length: 16 full chunks and a tail that is not a
 *   multiple of 4);
 * - mixed: ~200 tensors of mixed sizes around the chunk (16384) and vector (4) boundaries, an
 *   empty tensor, and one of 4.5M elements (> 256 chunks: a whole finalize block);
 * - many: 2000 small tensors (finalize folds them a warp each, sixteen per block).
 */
export function tensorLengths(kind, rand) {
  if (kind === 'odd') return [278011];
  if (kind === 'many') return Array.from({ length: 2000 }, () => 1 + Math.floor(rand() * 3000));
  const edges = [1, 2, 3, 4, 5, 15, 16, 17, 63, 64, 65, 1023, 16383, 16384, 16385, 32768, 49153];
  const out = [0, 4_500_001];
  for (let i = 0; i < 190; i++) {
    out.push(rand() < 0.5 ? edges[Math.floor(rand() * edges.length)] : 1 + Math.floor(rand() * 70000));
  }
  out.splice(37, 0, 278011);
  return out;
}

const lrSchedule = (i) => 1e-3 * (1 + 0.37 * i) / (1 + 0.05 * i * i);

/**
 * The cases. `nonFinite`: [step, value] pairs written into one random element of one tensor.
 * `bitwise`: parameters/state expected bitwise equal. `lazy`: StepInfo fields are first read
 * after the last step (the device decides with no host sync in between). `async`: the CUDA
 * side uses stepAsync. `transferAt`: before that step, the CPU optimizer's stateDict is
 * loaded into the CUDA one (uploads, setCounters on the device).
 */
export const CASES = [
  { name: 'Adam, odd length', optimizer: 'Adam', tensors: 'odd', options: {}, steps: 6, bitwise: true },
  { name: 'Adam L2 weight decay, mixed', optimizer: 'Adam', tensors: 'mixed', options: { weightDecay: 0.01 }, steps: 4, bitwise: true },
  { name: 'AdamW, mixed', optimizer: 'AdamW', tensors: 'mixed', options: { weightDecay: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6 }, steps: 4, bitwise: true },
  { name: 'AdamW, 2000 tensors, lazy outcomes', optimizer: 'AdamW', tensors: 'many', options: {}, steps: 5, bitwise: true, lazy: true },
  { name: 'AdamW gradScale 1/1024', optimizer: 'AdamW', tensors: 'mixed', options: { gradScale: 1 / 1024 }, steps: 3, bitwise: true },
  { name: 'AdamW clipping', optimizer: 'AdamW', tensors: 'mixed', options: { maxGradNorm: 5 }, steps: 4, bitwise: false },
  { name: 'Adam clipping (inactive: large max)', optimizer: 'Adam', tensors: 'odd', options: { maxGradNorm: 1e9 }, steps: 3, bitwise: true },
  {
    name: 'AdamW skipNonFinite (NaN at step 1, +Inf at step 3)',
    optimizer: 'AdamW', tensors: 'mixed', options: { skipNonFinite: true }, steps: 5, bitwise: true,
    nonFinite: [[1, NaN], [3, Infinity]],
  },
  {
    name: 'Adam skipNonFinite, first step skipped, lazy (bias correction re-derived on the device)',
    optimizer: 'Adam', tensors: 'odd', options: { skipNonFinite: true }, steps: 5, bitwise: true, lazy: true,
    nonFinite: [[0, -Infinity], [2, NaN]],
  },
  {
    name: 'AdamW clipping + skipNonFinite + gradScale',
    optimizer: 'AdamW', tensors: 'many', options: { maxGradNorm: 2, skipNonFinite: true, gradScale: 0.5 }, steps: 5,
    bitwise: false, nonFinite: [[2, NaN]],
  },
  { name: 'Adam non-finite without skipping (NaN propagates)', optimizer: 'Adam', tensors: 'odd', options: {}, steps: 3, bitwise: true, nonFinite: [[1, NaN]] },
  { name: 'SGD plain, odd length', optimizer: 'SGD', tensors: 'odd', options: {}, steps: 4, bitwise: true },
  { name: 'SGD weight decay, mixed', optimizer: 'SGD', tensors: 'mixed', options: { weightDecay: 1e-3 }, steps: 3, bitwise: true },
  { name: 'SGD momentum 0.9, mixed', optimizer: 'SGD', tensors: 'mixed', options: { momentum: 0.9 }, steps: 4, bitwise: true },
  { name: 'SGD momentum + dampening, 2000 tensors', optimizer: 'SGD', tensors: 'many', options: { momentum: 0.8, dampening: 0.1 }, steps: 4, bitwise: true },
  { name: 'SGD nesterov + weight decay', optimizer: 'SGD', tensors: 'mixed', options: { momentum: 0.9, nesterov: true, weightDecay: 1e-4 }, steps: 4, bitwise: true },
  { name: 'SGD momentum clipping', optimizer: 'SGD', tensors: 'mixed', options: { momentum: 0.9, maxGradNorm: 3 }, steps: 4, bitwise: false },
  {
    name: 'SGD momentum skipNonFinite, first step skipped, lazy (first momentum step on the device)',
    optimizer: 'SGD', tensors: 'mixed', options: { momentum: 0.9, skipNonFinite: true }, steps: 4, bitwise: true, lazy: true,
    nonFinite: [[0, NaN]],
  },
  { name: 'AdamW stepAsync', optimizer: 'AdamW', tensors: 'mixed', options: {}, steps: 3, bitwise: true, async: true },
  { name: 'Adam state moved CPU → CUDA at step 2', optimizer: 'Adam', tensors: 'mixed', options: { weightDecay: 0.01 }, steps: 4, bitwise: true, transferAt: 2 },
  { name: 'Adagrad lrDecay + initial accumulator, odd length', optimizer: 'Adagrad', tensors: 'odd', options: { lrDecay: 0.01, initialAccumulatorValue: 0.1 }, steps: 4, bitwise: true },
  {
    name: 'Adagrad weight decay, skipNonFinite (first step skipped: lr decay re-derived on the device), lazy',
    optimizer: 'Adagrad', tensors: 'mixed', options: { weightDecay: 1e-3, lrDecay: 0.1, skipNonFinite: true }, steps: 4, bitwise: true, lazy: true,
    nonFinite: [[0, NaN]],
  },
  { name: 'RMSprop plain, 2000 tensors', optimizer: 'RMSprop', tensors: 'many', options: {}, steps: 4, bitwise: true },
  { name: 'RMSprop momentum + centered + weight decay, mixed', optimizer: 'RMSprop', tensors: 'mixed', options: { momentum: 0.9, centered: true, weightDecay: 1e-3 }, steps: 4, bitwise: true },
  { name: 'RMSprop centered without momentum (slots 0 and 2), odd length', optimizer: 'RMSprop', tensors: 'odd', options: { centered: true }, steps: 4, bitwise: true },
  { name: 'RMSprop momentum, clipping', optimizer: 'RMSprop', tensors: 'mixed', options: { momentum: 0.5, maxGradNorm: 3 }, steps: 4, bitwise: false },
  { name: 'Adamax, odd length', optimizer: 'Adamax', tensors: 'odd', options: {}, steps: 5, bitwise: true },
  {
    name: 'Adamax skipNonFinite (+Inf at step 1: bias correction re-derived on the device), lazy',
    optimizer: 'Adamax', tensors: 'mixed', options: { weightDecay: 1e-2, skipNonFinite: true }, steps: 4, bitwise: true, lazy: true,
    nonFinite: [[1, Infinity]],
  },
  { name: 'Adadelta, 2000 tensors', optimizer: 'Adadelta', tensors: 'many', options: { rho: 0.95 }, steps: 4, bitwise: true },
  { name: 'Adadelta weight decay + gradScale, stepAsync', optimizer: 'Adadelta', tensors: 'mixed', options: { weightDecay: 1e-2, gradScale: 0.25 }, steps: 3, bitwise: true, async: true },
  { name: 'ScheduleFreeAdamW warm-up + weight decay, mixed', optimizer: 'ScheduleFreeAdamW', tensors: 'mixed', options: { warmupSteps: 3, weightDecay: 0.01 }, steps: 5, bitwise: true },
  {
    name: 'ScheduleFreeAdamW skipNonFinite, first step skipped, lazy (z taken at the first applied step)',
    optimizer: 'ScheduleFreeAdamW', tensors: 'odd', options: { skipNonFinite: true, warmupSteps: 2 }, steps: 5, bitwise: true, lazy: true,
    nonFinite: [[0, NaN], [3, Infinity]],
  },
];

function bitsEqual(a, b) {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

function relErr(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return bitsEqual(a, b) || a === b ? 0 : Infinity;
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

/** { mismatches (bitwise, NaN = NaN), maxRel (floor 1e-3 of b's RMS) } of two Float32Arrays. */
export function compareArrays(a, b) {
  if (a.length !== b.length) return { mismatches: Math.max(a.length, b.length), maxRel: Infinity };
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let ss = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isFinite(b[i])) {
      ss += b[i] * b[i];
      n++;
    }
  }
  const floor = Math.max(1e-3 * Math.sqrt(ss / Math.max(n, 1)), 1e-30);
  let mismatches = 0;
  let maxRel = 0;
  for (let i = 0; i < a.length; i++) {
    if (ua[i] === ub[i]) continue;
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    mismatches++;
    const r = Number.isFinite(a[i]) && Number.isFinite(b[i]) ? Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor) : Infinity;
    if (r > maxRel) maxRel = r;
  }
  return { mismatches, maxRel };
}

const INFO_KEYS = ['gradNormL2', 'gradNormL1', 'clipCoef'];

/**
 * Runs one case. `lib` = the package's exports (at least the class each case names). Returns a summary with the largest errors seen
 * and `failures` (strings); `ok` when there are none.
 */
export async function runCase(lib, c, { seed = 1, device = 'cuda' } = {}) {
  const rand = mulberry32(seed);
  const lengths = tensorLengths(c.tensors, rand);
  const init = lengths.map((n) => fillNormal(rand, new Float32Array(n), 1));
  const Ctor = lib[c.optimizer];
  const opts = { lr: lrSchedule, ...c.options };
  const cpu = new Ctor(init, { ...opts, device: 'cpu' });
  const gpu = new Ctor(init, { ...opts, device });
  const failures = [];
  const r = {
    case: c.name,
    params: lengths.reduce((a, b) => a + b, 0),
    tensors: lengths.length,
    steps: c.steps,
    expect: c.bitwise ? 'bitwise' : `rel ${STATE_RTOL}`,
    maxRelNorm: 0,
    maxRelTensorNorm: 0,
    maxRelParams: 0,
    maxRelState: 0,
    mismatchedParams: 0,
    mismatchedState: 0,
    seed,
    failures,
  };
  const fail = (msg) => {
    if (failures.length < 12) failures.push(msg);
  };
  const gradStd = 1 / (c.options.gradScale ?? 1);
  const infos = [];
  try {
    for (let s = 0; s < c.steps; s++) {
      if (c.transferAt === s) gpu.loadStateDict(cpu.stateDict());
      const inject = (c.nonFinite ?? []).find(([at]) => at === s);
      const target = inject ? pickNonEmpty(lengths, rand) : -1;
      for (let i = 0; i < lengths.length; i++) {
        if (lengths[i] === 0) continue;
        const g = fillNormal(rand, new Float32Array(lengths[i]), gradStd);
        if (i === target) g[Math.floor(rand() * g.length)] = inject[1];
        cpu.setGrads(i, g);
        gpu.setGrads(i, g);
      }
      const a = cpu.step();
      const b = c.async ? await gpu.stepAsync() : gpu.step();
      infos.push([a, b]);
      if (!c.lazy) compareInfo(a, b, s, r, fail);
      if (!c.lazy && s === c.steps - 1) {
        const ta = cpu.tensorNorms();
        const tb = gpu.tensorNorms();
        for (const k of ['l2', 'l1']) {
          for (let i = 0; i < lengths.length; i++) {
            const e = relErr(tb[k][i], ta[k][i]);
            r.maxRelTensorNorm = Math.max(r.maxRelTensorNorm, e);
            if (!(e <= NORM_RTOL)) fail(`tensorNorms().${k}[${i}]: cuda ${tb[k][i]} vs cpu ${ta[k][i]}`);
          }
        }
      }
    }
    if (c.lazy) infos.forEach(([a, b], s) => compareInfo(a, b, s, r, fail));
    if (gpu.appliedSteps !== cpu.appliedSteps) fail(`appliedSteps: cuda ${gpu.appliedSteps} vs cpu ${cpu.appliedSteps}`);

    // Parameters and state.
    const sa = cpu.stateDict();
    const sb = gpu.stateDict();
    const arrays = [['params', sa.params, sb.params]];
    for (const k of Object.keys(sa.state)) arrays.push([k, sa.state[k], sb.state[k]]);
    for (const [name, xs, ys] of arrays) {
      for (let i = 0; i < xs.length; i++) {
        const { mismatches, maxRel } = compareArrays(ys[i], xs[i]);
        if (name === 'params') {
          r.mismatchedParams += mismatches;
          r.maxRelParams = Math.max(r.maxRelParams, maxRel);
        } else {
          r.mismatchedState += mismatches;
          r.maxRelState = Math.max(r.maxRelState, maxRel);
        }
        if (c.bitwise ? mismatches > 0 : !(maxRel <= STATE_RTOL)) {
          fail(`${name}[${i}] (length ${xs[i].length}): ${mismatches} elements differ, max relative error ${maxRel}`);
        }
      }
    }

    // The trace, read back in batches from the device ring.
    const ta = cpu.trace;
    const tb = gpu.trace;
    if (ta.length !== tb.length) fail(`trace length: cuda ${tb.length} vs cpu ${ta.length}`);
    for (let s = 0; s < Math.min(ta.length, tb.length); s++) {
      for (const k of ['l2', 'l1']) {
        const e = relErr(tb[k][s], ta[k][s]);
        r.maxRelNorm = Math.max(r.maxRelNorm, e);
        if (!(e <= NORM_RTOL)) fail(`trace.${k}[${s}]: cuda ${tb[k][s]} vs cpu ${ta[k][s]}`);
      }
      if (tb.lr[s] !== ta.lr[s]) fail(`trace.lr[${s}]: cuda ${tb.lr[s]} vs cpu ${ta.lr[s]}`);
      if (tb.skipped[s] !== ta.skipped[s]) fail(`trace.skipped[${s}]: cuda ${tb.skipped[s]} vs cpu ${ta.skipped[s]}`);
    }
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
  r.ok = failures.length === 0;
  return r;
}

function pickNonEmpty(lengths, rand) {
  for (;;) {
    const i = Math.floor(rand() * lengths.length);
    if (lengths[i] > 0) return i;
  }
}

function compareInfo(a, b, s, r, fail) {
  for (const k of INFO_KEYS) {
    const e = relErr(b[k], a[k]);
    r.maxRelNorm = Math.max(r.maxRelNorm, e);
    if (!(e <= NORM_RTOL)) fail(`step ${s} ${k}: cuda ${b[k]} vs cpu ${a[k]}`);
  }
  for (const k of ['skipped', 'nonFinite']) {
    if (b[k] !== a[k]) fail(`step ${s} ${k}: cuda ${b[k]} vs cpu ${a[k]}`);
  }
  if (b.lr !== a.lr || b.iteration !== a.iteration) fail(`step ${s} lr/iteration: cuda ${b.lr}/${b.iteration} vs cpu ${a.lr}/${a.iteration}`);
}

/**
 * Behaviour on a usable device, beyond numbers: lazy StepInfo getters, appliedSteps read from
 * the device, errors, out-of-memory without leaks. `lib` = { Adam, AdamW, SGD, CudaError,
 * buildInfo }. Returns [{ name, ok, detail }].
 */
export async function runDeviceChecks(lib, { device = 'cuda' } = {}) {
  const { Adam, SGD, CudaError, buildInfo } = lib;
  const checks = [];
  const check = async (name, fn) => {
    try {
      const detail = await fn();
      checks.push({ name, ok: true, detail: detail ?? '' });
    } catch (e) {
      checks.push({ name, ok: false, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  };
  const assert = (cond, msg) => {
    if (!cond) throw new Error(msg);
  };
  const expectThrow = (fn, test, msg) => {
    try {
      fn();
    } catch (e) {
      assert(test(e), `${msg}: threw ${e && e.name}: ${e && e.message}`);
      return e;
    }
    throw new Error(`${msg}: did not throw`);
  };

  await check("device 'auto' picks cuda:0", () => {
    assert(buildInfo().autoDevice === 'cuda:0', `autoDevice ${buildInfo().autoDevice}`);
    const opt = new Adam([100], { device: 'auto' });
    const d = opt.device;
    opt.dispose();
    assert(d === 'cuda:0', `device ${d}`);
  });

  await check('lazy StepInfo: getters fetch on first access; skip decided on the device; appliedSteps', () => {
    const opt = new SGD([5, 1000], { device, momentum: 0.9, skipNonFinite: true });
    const g = new Float32Array(1000).fill(2);
    opt.setGrads(1, g);
    const a = opt.step();
    g[3] = NaN;
    opt.setGrads(1, g);
    const b = opt.step();
    const c = opt.step(); // same NaN gradient: skipped again
    assert(typeof Object.getOwnPropertyDescriptor(a, 'gradNormL2')?.get === 'function', 'gradNormL2 is not a getter');
    assert(b.skipped === true && b.nonFinite === true, `b: skipped ${b.skipped} nonFinite ${b.nonFinite}`);
    assert(Math.abs(a.gradNormL2 - Math.sqrt(4000)) < 1e-9, `a.gradNormL2 ${a.gradNormL2}`);
    assert({ ...a }.gradNormL1 === 2000, `spread gradNormL1 ${{ ...a }.gradNormL1}`);
    assert(a.iteration === 0 && b.iteration === 1 && c.iteration === 2, 'iterations');
    assert(opt.appliedSteps === 1, `appliedSteps ${opt.appliedSteps}`);
    assert(opt.iteration === 3, `iteration ${opt.iteration}`);
    expectThrow(() => opt.params, (e) => /only on the CPU/.test(e.message), 'params views');
    opt.dispose();
    expectThrow(() => c.gradNormL2, (e) => /disposed/.test(e.message), 'unread StepInfo after dispose');
  });

  await check('outcomes older than 1024 steps say where to look', () => {
    const opt = new Adam([64], { device });
    const first = opt.step();
    for (let i = 0; i < 1100; i++) opt.step();
    expectThrow(() => first.gradNormL2, (e) => /no longer held/.test(e.message), 'old outcome');
    const t = opt.trace;
    opt.dispose();
    assert(t.length === 1101, `trace length ${t.length}`);
  });

  await check('out of device memory: CudaError cudaErrorMemoryAllocation, nothing leaked', () => {
    const m = /(\d+) GiB/.exec(buildInfo().cuda.devices[0] ?? '');
    assert(m, 'device memory size not in buildInfo().cuda.devices[0]');
    const gib = Number(m[1]);
    // First slot (60% of the memory) fits, the second does not: the constructor must free the
    // first. Three times, then an arena of 4 x 20% must still fit.
    const big = Math.floor((gib * 0.6 * 2 ** 30) / 4);
    for (let i = 0; i < 3; i++) {
      const e = expectThrow(() => new Adam([big], { device }), (x) => x instanceof CudaError, 'oversized arena');
      assert(e.code === 'cudaErrorMemoryAllocation', `code ${e.code}`);
    }
    const fits = new Adam([Math.floor((gib * 0.2 * 2 ** 30) / 4)], { device });
    fits.dispose();
    return `${gib} GiB device`;
  });

  await check('a malformed device index is a RangeError', () => {
    expectThrow(() => new Adam([10], { device: 'cuda:99' }), (e) => e instanceof RangeError, 'cuda:99');
  });

  await check("stream 'own' / { priority }: same results as the shared stream, read in any order", () => {
    const streams = ['shared', 'own', { priority: -100 }, { priority: 100 }];
    const opts = streams.map((stream) => new SGD([1000, 7], { device, momentum: 0.9, stream }));
    const g = fillNormal(mulberry32(3), new Float32Array(1000), 1);
    const infos = opts.map((o) => {
      o.setGrads(0, g);
      return [o.step(), o.step()];
    });
    // The last optimizer's second step first: each read waits for its own slot only.
    const l2 = infos.map((_, k) => infos[infos.length - 1 - k][1].gradNormL2).reverse();
    const firsts = infos.map(([a]) => a.gradNormL1);
    const params = opts.map((o) => o.readParams(0));
    for (const o of opts) o.dispose();
    assert(l2.every((x) => x === l2[0]) && l2[0] > 0, `second-step norms ${l2}`);
    assert(firsts.every((x) => x === firsts[0]), `first-step L1 ${firsts}`);
    for (let k = 1; k < params.length; k++) assert(compareArrays(params[k], params[0]).mismatches === 0, `params of ${JSON.stringify(streams[k])}`);
    return `${streams.length} streams`;
  });

  await check('zeroGrad, setParams/readParams round trip, empty tensors', () => {
    const opt = new Adam([0, 7, 16385], { device });
    const p = fillNormal(mulberry32(5), new Float32Array(16385), 1);
    opt.setParams(2, p);
    const back = opt.readParams(2);
    assert(compareArrays(back, p).mismatches === 0, 'params round trip');
    opt.setGrads(1, new Float32Array(7).fill(3));
    opt.zeroGrad();
    const s = opt.step();
    assert(s.gradNormL2 === 0 && s.gradNormL1 === 0, `norms after zeroGrad ${s.gradNormL2} ${s.gradNormL1}`);
    const n = opt.tensorNorms();
    assert(n.l2.length === 3 && n.l2.every((x) => x === 0), 'tensor norms');
    opt.dispose();
  });

  return checks;
}
