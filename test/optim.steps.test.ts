/**
 * The fused CPU steps against the plain float64 reference (test/support/reference.ts), over
 * 7 steps, on odd lengths (tails of every SIMD width and chunk), fresh random data each run.
 *
 * Tolerances: params are compared as |a − e| / max(|e|, 1e-2) ≤ 2e-6. float32 arithmetic gives
 * a relative error of ~6e-8 per operation; a step chains ~10 of them and 7 steps accumulate,
 * so ~1e-6 is the expected worst case; the 1e-2 floor stops weights that pass near 0 from
 * turning an absolute error of 1e-10 into a huge relative one. Norms are lane-wise float
 * sums of 16 terms flushed to double (native/cpu/kernels.inc): relative 2e-6.
 */
import { describe, expect, test } from 'vitest';

import { Adam, AdamW, SGD, adamStep, linearDecay, sgdStep } from '../src/index.js';
import {
  type RefAdamOptions,
  type RefSgdOptions,
  maxRelError,
  randomF32,
  refAdamStep,
  refSgdStep,
  rng,
} from './support/reference.js';

const STEPS = 7;
const PARAM_TOL = 2e-6;
const PARAM_FLOOR = 1e-2;
// Norms: per-lane float sums of 16 terms flushed to double (native/cpu/kernels.inc): ~1e-6 worst case.
const NORM_TOL = 2e-6;
/**
 * Optimizer states (m, v, momentum) are sums of gradients that can cancel to ~0, so their
 * relative error uses a floor of 5% of the state's RMS: |a − e| / max(|e|, 0.05·rms) ≤ 1e-5.
 */
const STATE_TOL = 1e-5;
function stateFloor(ref: Float64Array): number {
  let s = 0;
  for (const x of ref) s += x * x;
  return Math.max(0.05 * Math.sqrt(s / Math.max(1, ref.length)), 1e-30);
}
// Fresh data every run; FUSED_OPTIM_TEST_SEED replays a run.
const seed = Number(process.env.FUSED_OPTIM_TEST_SEED ?? ((Date.now() ^ (Math.random() * 2 ** 31)) >>> 0));
console.log(`optim.steps: random seed ${seed} (fresh data every run)`);

const ADAM: RefAdamOptions = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  decoupled: false,
  maxGradNorm: null,
  gradScale: 1,
  skipNonFinite: false,
};
const SGD_O: RefSgdOptions = {
  lr: 1e-2,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  weightDecay: 0,
  maxGradNorm: null,
  gradScale: 1,
  skipNonFinite: false,
};

const adamCases: [string, Partial<RefAdamOptions>][] = [
  ['defaults', {}],
  ['L2 weight decay (Adam)', { weightDecay: 0.1 }],
  ['decoupled weight decay (AdamW)', { weightDecay: 0.1, decoupled: true, lr: 3e-3 }],
  ['betas and eps', { beta1: 0.8, beta2: 0.95, eps: 1e-6 }],
  ['clipping active', { maxGradNorm: 0.5 }],
  ['clipping inactive', { maxGradNorm: 1e9 }],
  ['gradScale', { gradScale: 1 / 1024 }],
  ['skipNonFinite (finite grads)', { skipNonFinite: true }],
  ['everything', { weightDecay: 0.05, decoupled: true, maxGradNorm: 1, gradScale: 0.5, skipNonFinite: true, beta2: 0.98 }],
];

const sgdCases: [string, Partial<RefSgdOptions>][] = [
  ['plain', {}],
  ['momentum', { momentum: 0.9 }],
  ['momentum + dampening', { momentum: 0.9, dampening: 0.3 }],
  ['nesterov', { momentum: 0.9, nesterov: true }],
  ['weight decay', { weightDecay: 0.01, momentum: 0.5 }],
  ['clipping', { maxGradNorm: 0.3, momentum: 0.9 }],
  ['gradScale', { gradScale: 4 }],
  ['everything', { momentum: 0.9, nesterov: true, weightDecay: 1e-3, maxGradNorm: 2, gradScale: 0.25, skipNonFinite: true }],
];

const LENGTHS = [1, 7, 17, 278011];

describe('adamStep (functional) against the float64 reference', () => {
  for (const [name, over] of adamCases) {
    for (const n of LENGTHS) {
      test(`${name}, n = ${n}`, () => {
        const o = { ...ADAM, ...over };
        const r = rng(seed + n);
        const p = randomF32(n, r);
        const m = new Float32Array(n);
        const v = new Float32Array(n);
        const P = [Float64Array.from(p)];
        const M = [new Float64Array(n)];
        const V = [new Float64Array(n)];
        for (let t = 1; t <= STEPS; t++) {
          const g = randomF32(n, r, 0.1 * t);
          const res = adamStep(p, g, m, v, { ...o, maxGradNorm: o.maxGradNorm ?? undefined, step: t });
          const ref = refAdamStep(P, [g], M, V, o, t);
          expect(Math.abs(res.gradNormL2 - ref.l2) / ref.l2).toBeLessThan(NORM_TOL);
          expect(Math.abs(res.gradNormL1 - ref.l1) / ref.l1).toBeLessThan(NORM_TOL);
          expect(Math.abs(res.clipCoef - ref.clipCoef)).toBeLessThan(NORM_TOL);
          if (o.maxGradNorm === 0.5 && n > 100) expect(res.clipCoef).toBeLessThan(1);
          expect(res.skipped).toBe(false);
        }
        expect(maxRelError(p, P[0], PARAM_FLOOR)).toBeLessThan(PARAM_TOL);
        expect(maxRelError(m, M[0], stateFloor(M[0]))).toBeLessThan(STATE_TOL);
        expect(maxRelError(v, V[0], stateFloor(V[0]))).toBeLessThan(STATE_TOL);
      });
    }
  }
});

describe('sgdStep (functional) against the float64 reference', () => {
  for (const [name, over] of sgdCases) {
    for (const n of LENGTHS) {
      test(`${name}, n = ${n}`, () => {
        const o = { ...SGD_O, ...over };
        const r = rng(seed + 7 * n);
        const p = randomF32(n, r);
        const buf = o.momentum ? new Float32Array(n) : null;
        const P = [Float64Array.from(p)];
        const B = [new Float64Array(n)];
        for (let t = 1; t <= STEPS; t++) {
          const g = randomF32(n, r, 0.1 * t);
          const res = sgdStep(p, g, buf, { ...o, maxGradNorm: o.maxGradNorm ?? undefined, step: t });
          const ref = refSgdStep(P, [g], B, o, t);
          expect(Math.abs(res.gradNormL2 - ref.l2) / ref.l2).toBeLessThan(NORM_TOL);
          expect(Math.abs(res.clipCoef - ref.clipCoef)).toBeLessThan(NORM_TOL);
        }
        expect(maxRelError(p, P[0], PARAM_FLOOR)).toBeLessThan(PARAM_TOL);
        if (buf) expect(maxRelError(buf, B[0], stateFloor(B[0]))).toBeLessThan(STATE_TOL);
      });
    }
  }
});

/** Mixed sizes: empty, single, around the 16-element alignment and the 16384-element chunk. */
const MANY = [0, 1, 2, 15, 16, 17, 31, 33, 100, 1000, 16383, 16384, 16385, 40000, 3, 5, 278011, 7, 64, 65];

describe('optimizer classes (arena of many tensors) against the reference', () => {
  const classes = [
    ['Adam', (ps: Float32Array[], o: object) => new Adam(ps, o), { ...ADAM, weightDecay: 0.01 }],
    ['AdamW', (ps: Float32Array[], o: object) => new AdamW(ps, o), { ...ADAM, weightDecay: 0.01, decoupled: true }],
    ['SGD', (ps: Float32Array[], o: object) => new SGD(ps, o), { ...SGD_O, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ] as const;
  for (const [name, make, base] of classes) {
    for (const clip of [null, 5]) {
      test(`${name} over ${MANY.length} tensors, schedule lr, maxGradNorm ${clip}`, () => {
        const r = rng(seed ^ 0x5eed ^ (clip ?? 0));
        const init = MANY.map((n) => randomF32(n, r));
        const schedule = linearDecay({ peak: name === 'SGD' ? 0.05 : 3e-3, steps: STEPS + 1, warmup: 2 });
        const { lr: _lr, decoupled: _d, ...hyper } = base as Record<string, unknown>;
        const opt = make(init, { ...hyper, lr: schedule, maxGradNorm: clip ?? undefined });
        const P = init.map((a) => Float64Array.from(a));
        const S1 = MANY.map((n) => new Float64Array(n));
        const S2 = MANY.map((n) => new Float64Array(n));
        for (let t = 1; t <= STEPS; t++) {
          const gs = MANY.map((n) => randomF32(n, r, 0.05 * t));
          gs.forEach((g, i) => opt.grads[i].set(g));
          const info = opt.step();
          const o = { ...(base as object), lr: schedule(t - 1), maxGradNorm: clip } as RefAdamOptions & RefSgdOptions;
          const ref = name === 'SGD' ? refSgdStep(P, gs, S1, o, t) : refAdamStep(P, gs, S1, S2, o, t);
          expect(info.iteration).toBe(t - 1);
          expect(info.lr).toBe(schedule(t - 1));
          expect(Math.abs(info.gradNormL2 - ref.l2) / ref.l2).toBeLessThan(NORM_TOL);
          expect(Math.abs(info.gradNormL1 - ref.l1) / ref.l1).toBeLessThan(NORM_TOL);
          expect(Math.abs(info.clipCoef - ref.clipCoef)).toBeLessThan(NORM_TOL);
          const norms = opt.tensorNorms();
          gs.forEach((g, i) => {
            let sq = 0;
            for (const x of g) sq += x * x;
            expect(Math.abs(norms.l2[i] - Math.sqrt(sq))).toBeLessThanOrEqual(NORM_TOL * Math.sqrt(sq));
          });
        }
        P.forEach((ref, i) => {
          expect(maxRelError(opt.params[i], ref, PARAM_FLOOR)).toBeLessThan(PARAM_TOL);
          expect(maxRelError(opt.readParams(i), ref, PARAM_FLOOR)).toBeLessThan(PARAM_TOL);
        });
        expect(opt.iteration).toBe(STEPS);
        expect(opt.appliedSteps).toBe(STEPS);
        const trace = opt.trace;
        expect(trace.length).toBe(STEPS);
        expect(Array.from(trace.lr)).toEqual(Array.from({ length: STEPS }, (_, t) => schedule(t)));
        opt.dispose();
      });
    }
  }
});
