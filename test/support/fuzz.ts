/**
 * Random configurations of the fused steps checked against the float64 reference
 * (test/support/reference.ts). Used by test/fuzz.test.ts (a few hundred configurations in
 * `npm test`) and by `FUZZ_RUNS=10000 npx vitest run test/fuzz.test.ts` (scripts/fuzz.mjs).
 *
 * ## The error measure
 *
 * For a result `a` (float32 kernel) and its reference `b` (float64), element by element:
 *
 *     err = |a − b| / max(|b|, σ, 1e-30)
 *
 * The floor σ is the element's *condition scale*: the same formulas evaluated on the absolute
 * values of every term (a − b becomes |a| + |b|), carried across steps (`stepScales`). It is
 * needed because float32 rounding errors are proportional to the size of the operands, not
 * to the size of the result: where terms cancel — g + wd·p in SGD, β1·m + (1 − β1)·g, a weight
 * that a step sends through zero — a correct kernel leaves an absolute error of a few ulps of
 * the operands on a result that may be 1000× smaller, an unbounded "relative" error. Without
 * cancellation σ ≈ |b| and err is the plain relative error. No fixed floor works here:
 * values span 1e-6 to 1e4 across configurations. 1e-30 only stops 0/0 for elements that are
 * exactly zero (then any non-zero result fails). Equal values (infinities included) and NaN
 * against NaN count as error 0; NaN against a number as an infinite error.
 *
 * The bound is 1e-5 (about 84 float32 ulps of σ): a step chains ~10 float32 operations with
 * ≤ 6e-8 relative rounding each, over up to 4 steps.
 */
import fc from 'fast-check';

import {
  AdamW,
  Adam,
  SGD,
  adamStep,
  buildInfo,
  encodeCheckpoint,
  getThreads,
  setSimd,
  setThreads,
  sgdStep,
  type FusedOptimizer,
  type SimdLevel,
} from '../../src/index.js';
import { randomF32, refAdamStep, refSgdStep, rng, type RefOutcome } from './reference.js';

export const FUZZ_TOL = 1e-5;
/**
 * Norms (and the clip coefficient derived from them): the CPU kernels sum squares in double in
 * 16 lanes (native/cpu/kernels.inc), a different order than the reference's plain double sum;
 * 2e-6 is generous and leaves room for other backends' reductions.
 */
export const NORM_TOL = 2e-6;

export type FuzzKind = 'sgd' | 'adam' | 'adamw';

export interface FuzzConfig {
  api: 'class' | 'functional';
  kind: FuzzKind;
  lengths: number[];
  steps: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  maxGradNorm: number | null;
  gradScale: number;
  skipNonFinite: boolean;
  /** How the thread count is set: not at all, the global setThreads, or the per-call/optimizer option. */
  threads: { how: 'default' | 'global' | 'option' | 'setOptions'; n: number };
  simd: SimdLevel | 'default';
  gradMagnitude: number;
  /** Step (0-based) whose gradient gets a NaN/±Inf, or -1. */
  nonFiniteStep: number;
  nonFiniteValue: number;
  seed: number;
}

// note: non-zero values stay >= 1e-4: a double such as 5e-324 is 0 once the kernel casts it to
// float32 (by design: float32 math), which is not what the fuzz is after. Extremes are in faults.
const pow10 = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true }).map((e) => 10 ** e);

const length = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 3, 15, 16, 17, 31, 33) },
  { weight: 4, arbitrary: fc.integer({ min: 2, max: 200 }) },
  { weight: 2, arbitrary: fc.integer({ min: 200, max: 5000 }) },
  // over one reduction chunk (16384) and over the parallel threshold (32768 elements)
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 16_380, max: 16_400 }), fc.integer({ min: 33_000, max: 40_000 })) },
);

const SIMD_LEVELS = buildInfo().simdSupported as SimdLevel[];
const SIMD_DEFAULT = buildInfo().simd as SimdLevel;

export const fuzzConfig: fc.Arbitrary<FuzzConfig> = fc
  .record({
    api: fc.constantFrom<'class' | 'functional'>('class', 'class', 'functional'),
    kind: fc.constantFrom<FuzzKind>('sgd', 'adam', 'adamw'),
    lengths: fc.array(length, { minLength: 1, maxLength: 6 }),
    steps: fc.integer({ min: 1, max: 4 }),
    lr: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 9, arbitrary: pow10(-6, 0) }),
    beta1: fc.oneof(fc.constant(0), fc.double({ min: 1e-4, max: 0.99, noNaN: true })),
    beta2: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 0.9999, noNaN: true })),
    eps: fc.oneof(fc.constant(0), pow10(-12, -4)),
    weightDecay: fc.oneof(fc.constant(0), pow10(-4, -1)),
    momentum: fc.oneof(fc.constant(0), fc.double({ min: 1e-4, max: 0.99, noNaN: true })),
    dampening: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 1e-4, max: 1, noNaN: true })),
    nesterov: fc.boolean(),
    maxGradNorm: fc.oneof(fc.constant(null), pow10(-2, 2)),
    gradScale: fc.oneof(fc.constant(1), fc.integer({ min: -10, max: 4 }).map((k) => 2 ** k), pow10(-2, 1)),
    skipNonFinite: fc.boolean(),
    threads: fc.record({
      how: fc.constantFrom<'default' | 'global' | 'option' | 'setOptions'>('default', 'global', 'option', 'setOptions'),
      n: fc.integer({ min: 1, max: 8 }),
    }),
    simd: fc.constantFrom<SimdLevel | 'default'>('default', ...SIMD_LEVELS),
    gradMagnitude: pow10(-3, 2),
    nonFiniteStep: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
    nonFiniteValue: fc.constantFrom(NaN, Infinity, -Infinity),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map((c) => {
    // Keep to valid combinations: nesterov needs momentum > 0 and dampening 0; functional = one tensor.
    const nesterov = c.kind === 'sgd' && c.nesterov && c.momentum > 0;
    return {
      ...c,
      nesterov,
      dampening: nesterov ? 0 : c.dampening,
      lengths: c.api === 'functional' ? c.lengths.slice(0, 1) : c.lengths,
      threads: c.api === 'functional' && c.threads.how === 'setOptions' ? { ...c.threads, how: 'option' as const } : c.threads,
    };
  });

/** Element-wise error as documented above; returns the worst and where. */
export function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: ArrayLike<number> | null): { err: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    // σ = +Infinity: an earlier step was ill-conditioned for this element (e.g. g + wd·p
    // cancelled to ~eps, so float32 and float64 legitimately took different steps); no bound.
    const sigma = scale && !Number.isNaN(scale[i]) ? scale[i] : 0;
    let err = Math.abs(a - b) / Math.max(Math.abs(b), sigma, 1e-30);
    if (Number.isNaN(err)) err = Infinity;
    if (err > worst) {
      worst = err;
      at = i;
    }
  }
  return { err: worst, at };
}

export interface FuzzResult {
  /** Worst error over params and states, every step. */
  worst: number;
  where: string;
  /** Worst relative error of the norms. */
  normErr: number;
  /** Mismatched skip/nonFinite flags, or a broken bitwise property; empty when fine. */
  problems: string[];
  elements: number;
  skippedSteps: number;
}

/** Condition scales σ of params (p), first state (s1: m or momentum buffer) and v (s2). */
export interface Scales {
  p: Float64Array[];
  s1: Float64Array[];
  s2: Float64Array[];
}

/**
 * Propagates the condition scales through one applied step (first-order error analysis of the
 * kernel's float32 operations, native/core/rules.h): every term in absolute value.
 * `after` is the reference state after the step (|m|, v and √v enter the Adam update).
 */
export function stepScales(
  kind: FuzzKind,
  sc: Scales,
  grads: ArrayLike<number>[],
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; momentum: number; dampening: number; nesterov: boolean; gradScale: number },
  clipCoef: number,
  t: number,
  after: { m: Float64Array[]; v: Float64Array[] },
): void {
  const decoupled = kind === 'adamw';
  const bc1 = 1 - o.beta1 ** t;
  const bc2 = 1 - o.beta2 ** t;
  for (let k = 0; k < grads.length; k++) {
    const g = grads[k];
    const P = sc.p[k];
    const S1 = sc.s1[k];
    const S2 = sc.s2[k];
    for (let i = 0; i < g.length; i++) {
      const gq = Math.abs(Math.fround(g[i] * o.gradScale) * clipCoef);
      if (kind === 'sgd') {
        const sg = gq + o.weightDecay * P[i];
        let sd = sg;
        if (o.momentum !== 0) {
          S1[i] = t === 1 ? sg : o.momentum * S1[i] + (1 - o.dampening) * sg;
          sd = o.nesterov ? sg + o.momentum * S1[i] : S1[i];
        }
        P[i] += o.lr * sd;
      } else {
        const sg = gq + (decoupled ? 0 : o.weightDecay * P[i]);
        S1[i] = o.beta1 * S1[i] + (1 - o.beta1) * sg;
        // g² carries g's error twice: σ(g²) = g² + 2|g|·σg <= 3σg²
        S2[i] = o.beta2 * S2[i] + (1 - o.beta2) * 3 * sg * sg;
        const v = after.v[k][i];
        const sqrtV = Math.sqrt(v);
        const sSqrt = sqrtV + (sqrtV > 0 ? S2[i] / (2 * sqrtV) : Math.sqrt(S2[i]));
        const den = sqrtV / Math.sqrt(bc2) + o.eps;
        const sDen = sSqrt / Math.sqrt(bc2) + o.eps;
        const su = (o.lr / bc1) * (S1[i] / den + (Math.abs(after.m[k][i]) * sDen) / (den * den));
        P[i] = (decoupled ? Math.abs(1 - o.lr * o.weightDecay) : 1) * P[i] + su;
      }
    }
  }
}

const stateNames = (kind: FuzzKind): string[] => (kind === 'sgd' ? ['momentumBuffer'] : ['expAvg', 'expAvgSq']);

function relNorm(a: number, b: number): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  const e = Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  return Number.isNaN(e) ? Infinity : e;
}

/** Runs one configuration through the fused code and the reference; reports the errors. */
export function runFuzzConfig(c: FuzzConfig): FuzzResult {
  const random = rng(c.seed);
  const n = c.lengths.length;
  const initP = c.lengths.map((len) => randomF32(len, random));
  const initS: Float32Array[][] = stateNames(c.kind).map(() => c.lengths.map((len) => new Float32Array(len)));
  if (c.kind !== 'sgd') {
    // start Adam from a non-trivial state: v >= 0
    initS[0] = c.lengths.map((len) => randomF32(len, random, 0.1));
    initS[1] = c.lengths.map((len) => randomF32(len, random, 0.01).map(Math.abs));
  }
  const grads: Float32Array[][] = [];
  for (let s = 0; s < c.steps; s++) {
    const gs = c.lengths.map((len) => randomF32(len, random, c.gradMagnitude));
    if (s === c.nonFiniteStep) {
      const nonEmpty = gs.findIndex((g) => g.length > 0);
      if (nonEmpty >= 0) gs[nonEmpty][Math.floor(random() * gs[nonEmpty].length)] = c.nonFiniteValue;
    }
    grads.push(gs);
  }

  // reference state (float64); SGD with a fresh optimizer starts at applied step 1 (buffer = g)
  const rp = initP.map((a) => Float64Array.from(a));
  const rs = initS.map((list) => list.map((a) => Float64Array.from(a)));
  const decoupled = c.kind === 'adamw';
  const refAdam = { lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, decoupled, maxGradNorm: c.maxGradNorm, gradScale: c.gradScale, skipNonFinite: c.skipNonFinite };
  const refSgd = { lr: c.lr, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm, gradScale: c.gradScale, skipNonFinite: c.skipNonFinite };

  const hyper =
    c.kind === 'sgd'
      ? { lr: c.lr, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm, gradScale: c.gradScale, skipNonFinite: c.skipNonFinite }
      : { lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm, gradScale: c.gradScale, skipNonFinite: c.skipNonFinite, ...(c.kind === 'adam' ? { decoupled: false } : {}) };

  const scales: Scales = {
    p: initP.map((a) => Float64Array.from(a, Math.abs)),
    s1: c.kind === 'sgd' ? c.lengths.map((len) => new Float64Array(len)) : initS[0].map((a) => Float64Array.from(a, Math.abs)),
    s2: c.kind === 'sgd' ? c.lengths.map((len) => new Float64Array(len)) : initS[1].map((a) => Float64Array.from(a)),
  };
  const problems: string[] = [];
  let worst = 0;
  let where = '';
  let normErr = 0;
  let skippedSteps = 0;
  const note = (what: string, e: { err: number; at: number }): void => {
    if (e.err > worst || (Number.isNaN(e.err) && !Number.isNaN(worst))) {
      worst = e.err;
      where = `${what}[${e.at}]`;
    }
  };

  const savedThreads = getThreads();
  if (c.threads.how === 'global') setThreads(c.threads.n);
  if (c.simd !== 'default') setSimd(c.simd);
  try {
    // --- the fused side -----------------------------------------------------------------------
    let opt: FusedOptimizer<object> | null = null;
    const fp = initP.map((a) => a.slice());
    const fs = initS.map((list) => list.map((a) => a.slice()));
    if (c.api === 'class') {
      const options = { ...hyper, ...(c.threads.how === 'option' ? { threads: c.threads.n } : {}) };
      opt = c.kind === 'sgd' ? new SGD(fp, options) : c.kind === 'adam' ? new Adam(fp, options) : new AdamW(fp, options);
      if (c.threads.how === 'setOptions') (opt as SGD).setOptions({ threads: c.threads.n });
      if (c.kind !== 'sgd') {
        const st = opt.stateDict();
        st.state.expAvg = initS[0].map((a) => a.slice());
        st.state.expAvgSq = initS[1].map((a) => a.slice());
        opt.loadStateDict(st);
      }
    }
    let applied = 0;
    let stepsRun = 0;
    for (let s = 0; s < c.steps; s++) {
      stepsRun++;
      const fusedBefore = opt ? c.lengths.map((_, i) => opt!.readParams(i)) : fp.map((a) => a.slice());
      const fusedStateBefore = opt ? stateNames(c.kind).map((k) => opt!.stateDict().state[k]) : fs.map((l) => l.map((a) => a.slice()));
      const ref: RefOutcome =
        c.kind === 'sgd' ? refSgdStep(rp, grads[s], rs[0], refSgd, applied + 1) : refAdamStep(rp, grads[s], rs[0], rs[1], refAdam, applied + 1);
      let out: { gradNormL2: number; gradNormL1: number; clipCoef: number; skipped: boolean; nonFinite: boolean };
      if (opt) {
        grads[s].forEach((g, i) => opt!.setGrads(i, g));
        out = opt.step();
      } else {
        const options = { ...hyper, step: applied + 1, ...(c.threads.how === 'option' ? { threads: c.threads.n } : {}) };
        out =
          c.kind === 'sgd'
            ? sgdStep(fp[0], grads[s][0], c.momentum !== 0 ? fs[0][0] : null, options)
            : adamStep(fp[0], grads[s][0], fs[0][0], fs[1][0], { ...options, decoupled });
      }
      if (!ref.skipped) {
        stepScales(c.kind, scales, grads[s], { ...refSgd, ...refAdam }, ref.clipCoef, applied + 1, { m: rs[0], v: rs[1] ?? rs[0] });
        applied++;
      }
      if (ref.skipped) skippedSteps++;
      if (out.skipped !== ref.skipped) problems.push(`step ${s}: skipped ${out.skipped}, reference ${ref.skipped}`);
      if (out.nonFinite !== ref.nonFinite) problems.push(`step ${s}: nonFinite ${out.nonFinite}, reference ${ref.nonFinite}`);
      normErr = Math.max(normErr, relNorm(out.gradNormL2, ref.l2), relNorm(out.gradNormL1, ref.l1), relNorm(out.clipCoef, ref.clipCoef));
      // compare after every step
      const gotP = opt ? c.lengths.map((_, i) => opt!.readParams(i)) : fp;
      const gotS = opt ? (() => {
        const st = opt!.stateDict().state;
        return stateNames(c.kind).map((k) => st[k]);
      })() : fs;
      for (let i = 0; i < n; i++) {
        note(`step ${s} params[${i}]`, worstError(gotP[i], rp[i], scales.p[i]));
        const used = c.kind === 'sgd' ? (c.momentum !== 0 ? 1 : 0) : 2;
        for (let k = 0; k < used; k++) note(`step ${s} ${stateNames(c.kind)[k]}[${i}]`, worstError(gotS[k][i], rs[k][i], k === 0 ? scales.s1[i] : scales.s2[i]));
      }
      // A non-finite gradient that is not skipped makes the weights NaN: the run is over. (From
      // there on the kernel's m and v for AdamW turn NaN too — it adds 0·p to the gradient —
      // where torch and the reference leave them finite: not worth comparing.)
      if (ref.nonFinite && !ref.skipped) break;
      if (ref.skipped) {
        // bitwise intact
        for (let i = 0; i < n; i++) {
          const same = Buffer.from(gotP[i].buffer, gotP[i].byteOffset, gotP[i].byteLength).equals(
            Buffer.from(fusedBefore[i].buffer, fusedBefore[i].byteOffset, fusedBefore[i].byteLength),
          );
          if (!same) problems.push(`step ${s}: skipped but params[${i}] changed`);
          gotS.forEach((list, k) => {
            const a = list[i];
            const b = fusedStateBefore[k][i];
            if (!Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) {
              problems.push(`step ${s}: skipped but ${stateNames(c.kind)[k]}[${i}] changed`);
            }
          });
        }
      }
    }
    if (opt) {
      if (opt.iteration !== stepsRun) problems.push(`iteration ${opt.iteration}, expected ${stepsRun}`);
      if (opt.appliedSteps !== applied) problems.push(`appliedSteps ${opt.appliedSteps}, expected ${applied}`);
      const tr = opt.trace;
      if (tr.length !== stepsRun) problems.push(`trace length ${tr.length}`);
      const skippedInTrace = tr.skipped.reduce((a, b) => a + b, 0);
      if (skippedInTrace !== skippedSteps) problems.push(`trace skipped ${skippedInTrace}, expected ${skippedSteps}`);
      opt.dispose();
    }
  } finally {
    if (c.threads.how === 'global') setThreads(savedThreads);
    if (c.simd !== 'default') setSimd(SIMD_DEFAULT);
  }
  return { worst, where, normErr, problems, elements: c.lengths.reduce((a, b) => a + b, 0), skippedSteps };
}

/** Runs a class-API configuration and returns its final state as checkpoint bytes (no reference). */
export function runBits(c: FuzzConfig): Buffer {
  const random = rng(c.seed);
  const init = c.lengths.map((len) => randomF32(len, random));
  const common = { lr: c.lr, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm, gradScale: c.gradScale, skipNonFinite: c.skipNonFinite, threads: c.threads.n };
  const opt: FusedOptimizer<object> =
    c.kind === 'sgd'
      ? new SGD(init, { ...common, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov })
      : new (c.kind === 'adam' ? Adam : AdamW)(init, { ...common, beta1: c.beta1, beta2: c.beta2, eps: c.eps });
  try {
    for (let s = 0; s < c.steps; s++) {
      c.lengths.forEach((len, i) => opt.setGrads(i, randomF32(len, random, c.gradMagnitude)));
      opt.step();
    }
    return Buffer.concat([...encodeCheckpoint(opt.stateDict())]);
  } finally {
    opt.dispose();
  }
}
