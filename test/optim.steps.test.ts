/**
 * The fused CPU steps against the plain float64 reference (test/support/reference.ts), over
 * 7 steps, on odd lengths (tails of every SIMD width and chunk), random data from a fixed seed (FUSED_OPTIM_TEST_SEED overrides it; see test/support/seed.ts).
 *
 * Tolerances: params and states use the condition-scaled relative error of the fuzz tests
 * (test/support/fuzz.ts): |a − e| / max(|e|, σ) ≤ 1e-5, σ being the same formulas evaluated on
 * the absolute values of every term. float32 rounding is relative to the operands, so where
 * terms cancel (g + wd·p, a weight passing through 0, a gradient cancelling to ~eps) a correct
 * kernel leaves a few ulps of the operands on a much smaller result; without cancellation
 * σ ≈ |e| and this is the plain relative error (observed worst ~6e-7 over 7 steps). Norms are
 * double sums of the same float32 terms in another order: relative 2e-6 (generous).
 */
import { describe, expect, test } from 'vitest';

import { Adam, AdamW, SGD, adamStep, linearDecay, sgdStep } from '../src/index.js';
import { FUZZ_TOL, type Scales, stepScales, worstError } from './support/fuzz.js';
import { testSeed } from './support/seed.js';
import { type RefAdamOptions, type RefSgdOptions, randomF32, refAdamStep, refSgdStep, rng } from './support/reference.js';

const STEPS = 7;
const NORM_TOL = 2e-6;
const TOL = FUZZ_TOL;

function scales(lengths: number[]): Scales {
  return {
    p: lengths.map((n) => new Float64Array(n)),
    s1: lengths.map((n) => new Float64Array(n)),
    s2: lengths.map((n) => new Float64Array(n)),
  };
}

/** Seeds σ(p) with |p0|: the initial weights carry their own float32 rounding. */
function seedScales(sc: Scales, init: ArrayLike<number>[]): Scales {
  init.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) sc.p[k][i] = Math.abs(a[i]);
  });
  return sc;
}

function scaleOptions(o: Partial<RefAdamOptions & RefSgdOptions>) {
  return {
    lr: o.lr ?? 0,
    beta1: o.beta1 ?? 0,
    beta2: o.beta2 ?? 0,
    eps: o.eps ?? 0,
    weightDecay: o.weightDecay ?? 0,
    momentum: o.momentum ?? 0,
    dampening: o.dampening ?? 0,
    nesterov: o.nesterov ?? false,
    gradScale: o.gradScale ?? 1,
  };
}

const seed = testSeed('optim.steps', 20261202);

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
        const sc = seedScales(scales([n]), [p]);
        for (let t = 1; t <= STEPS; t++) {
          const g = randomF32(n, r, 0.1 * t);
          const res = adamStep(p, g, m, v, { ...o, maxGradNorm: o.maxGradNorm ?? undefined, step: t });
          const ref = refAdamStep(P, [g], M, V, o, t);
          stepScales(o.decoupled ? 'adamw' : 'adam', sc, [g], scaleOptions(o), ref.clipCoef, t, { m: M, v: V });
          expect(Math.abs(res.gradNormL2 - ref.l2) / ref.l2).toBeLessThan(NORM_TOL);
          expect(Math.abs(res.gradNormL1 - ref.l1) / ref.l1).toBeLessThan(NORM_TOL);
          expect(Math.abs(res.clipCoef - ref.clipCoef)).toBeLessThan(NORM_TOL);
          if (o.maxGradNorm === 0.5 && n > 100) expect(res.clipCoef).toBeLessThan(1);
          expect(res.skipped).toBe(false);
        }
        expect(worstError(p, P[0], sc.p[0]).err).toBeLessThan(TOL);
        expect(worstError(m, M[0], sc.s1[0]).err).toBeLessThan(TOL);
        expect(worstError(v, V[0], sc.s2[0]).err).toBeLessThan(TOL);
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
        const sc = seedScales(scales([n]), [p]);
        for (let t = 1; t <= STEPS; t++) {
          const g = randomF32(n, r, 0.1 * t);
          const res = sgdStep(p, g, buf, { ...o, maxGradNorm: o.maxGradNorm ?? undefined, step: t });
          const ref = refSgdStep(P, [g], B, o, t);
          stepScales('sgd', sc, [g], scaleOptions(o), ref.clipCoef, t, { m: [], v: [] });
          expect(Math.abs(res.gradNormL2 - ref.l2) / ref.l2).toBeLessThan(NORM_TOL);
          expect(Math.abs(res.clipCoef - ref.clipCoef)).toBeLessThan(NORM_TOL);
        }
        expect(worstError(p, P[0], sc.p[0]).err).toBeLessThan(TOL);
        if (buf) expect(worstError(buf, B[0], sc.s1[0]).err).toBeLessThan(TOL);
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
        const sc = seedScales(scales(MANY), init);
        for (let t = 1; t <= STEPS; t++) {
          const gs = MANY.map((n) => randomF32(n, r, 0.05 * t));
          gs.forEach((g, i) => opt.grads[i].set(g));
          const info = opt.step();
          const o = { ...(base as object), lr: schedule(t - 1), maxGradNorm: clip } as RefAdamOptions & RefSgdOptions;
          const ref = name === 'SGD' ? refSgdStep(P, gs, S1, o, t) : refAdamStep(P, gs, S1, S2, o, t);
          stepScales(name === 'SGD' ? 'sgd' : name === 'Adam' ? 'adam' : 'adamw', sc, gs, scaleOptions(o), ref.clipCoef, t, { m: S1, v: S2 });
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
          expect(worstError(opt.params[i], ref, sc.p[i]).err).toBeLessThan(TOL);
          expect(Array.from(opt.readParams(i))).toEqual(Array.from(opt.params[i]));
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
