/**
 * Adagrad, RMSprop, Adamax and Adadelta (torch.optim semantics) against references
 * (test/support/reference-adaptive.ts):
 *
 * - float64, 8 steps, odd lengths (SIMD tails; 20 001 elements span two chunks), several
 *   tensors, three groups with different hyperparameters, with and without clipping (the
 *   two-pass step), gradScale, and a skipped non-finite step in the middle;
 * - bitwise: 1 and 2 threads and every SIMD level give the same bits;
 * - fuzz (fast-check): random configurations against the float32 emulation of the kernels, bit
 *   for bit;
 * - checkpoints: a save/load round trip continues bit for bit;
 * - bad inputs: typed errors naming the option and the value.
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance of the float64 comparison:
 * |a − e| ≤ 2e-5 · max(|e|, 1e-2 · max|e| of the array): float32 arithmetic against float64
 * over 8 steps, scaled so that entries near 0 are judged against the array's magnitude
 * (as test/groups.test.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';

import { Adadelta, Adagrad, Adamax, RMSprop, type FusedOptimizer } from '../src/index.js';
import { randomF32, refDecide, rng, scaledError } from './support/reference.js';
import { STATE_NAMES, initialState, refAdaptiveApply, usedSlots, type AdaptiveHyper, type AdaptiveKind } from './support/reference-adaptive.js';
import { expectCheckpointResumesBitwise, expectSameBitsAcrossSimdAndThreads, stepWith, testBadInputs, type BadInputCase } from './support/rule-harness.js';
import { testSeed } from './support/seed.js';

const SEED = testSeed('rules.adaptive', 20261212);
const STEPS = 8;
const TOL = 2e-5;

type Ctor = new (params: never, options?: never) => FusedOptimizer<object>;
const CLASSES: Record<AdaptiveKind, Ctor> = { adagrad: Adagrad as never, rmsprop: RMSprop as never, adamax: Adamax as never, adadelta: Adadelta as never };
const KINDS: AdaptiveKind[] = ['adagrad', 'rmsprop', 'adamax', 'adadelta'];

/** Per rule: the constructor's defaults and three groups' overrides (the resolved hyperparameters follow). */
const GROUPS: Record<AdaptiveKind, { base: Record<string, number | boolean>; groups: Record<string, number | boolean>[] }> = {
  adagrad: {
    base: { lr: 0.05, lrDecay: 0.01, weightDecay: 1e-3, eps: 1e-10, initialAccumulatorValue: 0 },
    groups: [{}, { lr: 0.02, lrDecay: 0, initialAccumulatorValue: 0.1 }, { weightDecay: 0, eps: 1e-6, initialAccumulatorValue: 0.5 }],
  },
  rmsprop: {
    // the three groups cover three of the four variants; the last of these tests adds the fourth
    base: { lr: 1e-3, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
    groups: [{}, { momentum: 0.9, weightDecay: 1e-2 }, { lr: 5e-4, alpha: 0.9, centered: true }],
  },
  adamax: {
    base: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    groups: [{}, { beta1: 0.8, beta2: 0.99, weightDecay: 1e-2 }, { lr: 1e-2, eps: 1e-3 }],
  },
  adadelta: {
    base: { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 },
    groups: [{}, { rho: 0.95, weightDecay: 1e-2 }, { lr: 0.5, eps: 1e-4 }],
  },
};

const close = scaledError;

/** Bit for bit (the fuzz's comparison with the float32 emulation), except that any NaN equals any NaN (the sign and payload of a NaN are not specified). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-adaptive-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface RunSetup {
  kind: AdaptiveKind;
  groups: Record<string, number | boolean>[];
  base: Record<string, number | boolean>;
  lengths: number[][];
  maxGradNorm: number | null;
  gradScale: number;
}

describe.each(KINDS)('%s against float64 over 8 steps, 3 groups', (kind) => {
  const cases: [string, number | null, number][] = [
    ['one pass', null, 1],
    ['clipped (two passes), gradScale 0.5', 5, 0.5],
  ];
  for (const [label, maxGradNorm, gradScale] of cases) {
    test(label, () => {
      const { base, groups } = GROUPS[kind];
      const setup: RunSetup = { kind, groups, base, lengths: [[1000, 17], [33, 20_001], [5, 1]], maxGradNorm, gradScale };
      checkAgainstFloat64(setup, SEED + KINDS.indexOf(kind) * 10 + (maxGradNorm === null ? 0 : 1));
    });
  }
  if (kind === 'rmsprop') {
    test('every variant: momentum and centered together; unused slots are never written', () => {
      const setup: RunSetup = {
        kind,
        base: GROUPS.rmsprop.base,
        groups: [{ momentum: 0.5, centered: true }, { centered: true }, { momentum: 0.9 }, {}],
        lengths: [[17, 3], [33], [20_001], [9]],
        maxGradNorm: null,
        gradScale: 1,
      };
      checkAgainstFloat64(setup, SEED + 100);
    });
  }
});

function checkAgainstFloat64(s: RunSetup, seed: number): void {
  const r = rng(seed);
  const Ctor = CLASSES[s.kind];
  const hyper: AdaptiveHyper[] = s.groups.map((g) => ({ ...s.base, ...g }) as unknown as AdaptiveHyper);
  const init = s.lengths.map((g) => g.map((n) => randomF32(n, r)));
  const opt = new Ctor(
    s.groups.map((g, gi) => ({ params: init[gi], ...g })) as never,
    { ...s.base, maxGradNorm: s.maxGradNorm, gradScale: s.gradScale, skipNonFinite: true, threads: 2 } as never,
  );
  expect(opt.kind).toBe(s.kind);
  const p = init.map((g) => g.map((a) => Float64Array.from(a)));
  const nSlots = STATE_NAMES[s.kind].length;
  const st = Array.from({ length: nSlots }, (_, k) => s.lengths.map((g, gi) => g.map((n) => new Float64Array(n).fill(initialState(s.kind, hyper[gi])[k]))));
  let applied = 0;
  for (let it = 0; it < STEPS; it++) {
    const grads = s.lengths.map((g) => g.map((n) => randomF32(n, r, 0.5)));
    if (it === 3) grads[1][0][7] = Number.NaN; // skipped: nothing moves, t does not advance
    grads.flat().forEach((g, i) => opt.setGrads(i, g));
    const info = opt.step();
    const d = refDecide(grads.flat(), s.gradScale, s.maxGradNorm, true);
    expect(info.skipped).toBe(d.skipped);
    expect(info.skipped).toBe(it === 3);
    if (d.skipped) continue;
    applied++;
    expect(Math.abs(info.gradNormL2 - d.l2) / d.l2).toBeLessThan(2e-6);
    expect(Math.abs(info.clipCoef - d.clipCoef)).toBeLessThan(1e-6);
    if (s.maxGradNorm !== null) expect(info.clipCoef).toBeLessThan(1);
    for (let gi = 0; gi < s.groups.length; gi++) {
      refAdaptiveApply(s.kind, p[gi], grads[gi], st.map((slot) => slot[gi]), hyper[gi], applied, s.gradScale, d.clipCoef);
    }
  }
  expect(opt.appliedSteps).toBe(STEPS - 1);
  const state = opt.stateDict().state;
  expect(Object.keys(state)).toEqual(STATE_NAMES[s.kind]);
  let k = 0;
  let moved = 0;
  for (let gi = 0; gi < s.groups.length; gi++) {
    const used = usedSlots(s.kind, hyper[gi]);
    for (let j = 0; j < p[gi].length; j++, k++) {
      const got = opt.readParams(k);
      expect(close(got, p[gi][j]), `group ${gi} tensor ${j} params`).toBeLessThan(TOL);
      for (let i = 0; i < got.length; i++) moved = Math.max(moved, Math.abs(got[i] - init[gi][j][i]));
      STATE_NAMES[s.kind].forEach((name, slot) => {
        if (used[slot]) expect(close(state[name][k], st[slot][gi][j]), `group ${gi} tensor ${j} ${name}`).toBeLessThan(TOL);
        else expect(state[name][k].every((x) => x === 0), `group ${gi} tensor ${j} ${name} untouched`).toBe(true);
      });
    }
  }
  expect(moved).toBeGreaterThan(1e-3); // the steps did something
  opt.dispose();
}

describe('determinism: the same bits for 1 and 2 threads and on every SIMD level', () => {
  test.each(KINDS)('%s', (kind) => {
    const r = rng(SEED + 200 + KINDS.indexOf(kind));
    const lengths = [70_001, 3, 40_000, 17];
    const init = lengths.map((n) => randomF32(n, r));
    const gradSeq = Array.from({ length: 4 }, () => lengths.map((n) => randomF32(n, r)));
    const { base, groups } = GROUPS[kind];
    expectSameBitsAcrossSimdAndThreads(
      `rules.adaptive ${kind}`,
      'params and state',
      (threads) => new CLASSES[kind]([{ params: init.slice(0, 2), ...groups[1] }, { params: init.slice(2), ...groups[2] }] as never, { ...base, threads } as never),
      (opt) => {
        for (const gs of gradSeq) stepWith(opt, gs);
      },
    );
  });
});

describe('fuzz: random configurations against the float32 emulation, bit for bit', () => {
  const pow10 = (lo: number, hi: number): fc.Arbitrary<number> => fc.double({ min: lo, max: hi, noNaN: true }).map((e) => 10 ** e);
  const length = fc.oneof(fc.constantFrom(0, 1, 2, 15, 16, 17, 33), fc.integer({ min: 2, max: 3000 }), fc.integer({ min: 16_380, max: 16_400 }));
  const hyper = fc.record({
    lr: fc.oneof(fc.constant(0), pow10(-5, 0)),
    weightDecay: fc.oneof(fc.constant(0), pow10(-4, -1)),
    eps: fc.oneof(fc.constant(0), pow10(-12, -3)),
    lrDecay: fc.oneof(fc.constant(0), pow10(-4, 0)),
    initialAccumulatorValue: fc.oneof(fc.constant(0), pow10(-3, 0)),
    alpha: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 0.999, noNaN: true })),
    momentum: fc.oneof(fc.constant(0), fc.double({ min: 0.1, max: 0.99, noNaN: true })),
    centered: fc.boolean(),
    beta1: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 0.99, noNaN: true })),
    beta2: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 0.9999, noNaN: true })),
    rho: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0.5, max: 0.999, noNaN: true })),
  });
  const config = fc.record({
    kind: fc.constantFrom(...KINDS),
    groups: fc.array(fc.record({ hyper, lengths: fc.array(length, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 3 }),
    steps: fc.integer({ min: 1, max: 4 }),
    maxGradNorm: fc.oneof(fc.constant(null), pow10(-2, 2)),
    gradScale: fc.oneof(fc.constant(1), pow10(-2, 1)),
    gradMagnitude: pow10(-3, 1),
    nonFiniteStep: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 3 })),
    skipNonFinite: fc.boolean(),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
  const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

  test(`${RUNS} configurations`, () => {
    fc.assert(
      fc.property(config, (c) => {
        const r = rng(c.seed);
        const lengths = c.groups.map((g) => g.lengths);
        // only the rule's own options (any other key is refused)
        const own = (h: Record<string, number | boolean>) => Object.fromEntries(Object.entries(h).filter(([k]) => k === 'lr' || k in GROUPS[c.kind].base));
        const hyp = c.groups.map((g) => own(g.hyper) as unknown as AdaptiveHyper);
        const init = lengths.map((g) => g.map((n) => randomF32(n, r)));
        const opt = new CLASSES[c.kind](
          c.groups.map((g, gi) => ({ params: init[gi], ...hyp[gi] })) as never,
          { maxGradNorm: c.maxGradNorm, gradScale: c.gradScale, skipNonFinite: c.skipNonFinite, threads: c.threads } as never,
        );
        try {
          const p = init.map((g) => g.map((a) => a.slice()));
          const nSlots = STATE_NAMES[c.kind].length;
          const st = Array.from({ length: nSlots }, (_, k) => lengths.map((g, gi) => g.map((n) => new Float32Array(n).fill(initialState(c.kind, hyp[gi])[k]))));
          let applied = 0;
          for (let s = 0; s < c.steps; s++) {
            const grads = lengths.map((g) => g.map((n) => randomF32(n, r, c.gradMagnitude)));
            const flat = grads.flat();
            const nonEmpty = flat.findIndex((g) => g.length > 0);
            if (s === c.nonFiniteStep && nonEmpty >= 0) flat[nonEmpty][0] = Number.NaN;
            flat.forEach((g, i) => opt.setGrads(i, g));
            const info = opt.step();
            const d = refDecide(flat, c.gradScale, c.maxGradNorm, c.skipNonFinite);
            expect(info.skipped).toBe(d.skipped);
            expect(info.nonFinite).toBe(d.nonFinite);
            if (d.skipped) continue;
            applied++;
            for (let gi = 0; gi < hyp.length; gi++) refAdaptiveApply(c.kind, p[gi], grads[gi], st.map((x) => x[gi]), hyp[gi], applied, c.gradScale, info.clipCoef, 'f32');
          }
          expect(opt.appliedSteps).toBe(applied);
          const state = opt.stateDict().state;
          let k = 0;
          for (let gi = 0; gi < hyp.length; gi++) {
            const used = usedSlots(c.kind, hyp[gi]);
            for (let j = 0; j < lengths[gi].length; j++, k++) {
              expect(sameBits(opt.readParams(k), p[gi][j]), `params ${k}`).toBe(true);
              STATE_NAMES[c.kind].forEach((name, slot) => {
                const want = used[slot] ? st[slot][gi][j] : new Float32Array(lengths[gi][j]);
                expect(sameBits(state[name][k], want), `${name} ${k}`).toBe(true);
              });
            }
          }
        } finally {
          opt.dispose();
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 300_000);
});

describe('checkpoints: a round trip continues bit for bit', () => {
  test.each(KINDS)('%s', (kind) => {
    const r = rng(SEED + 300 + KINDS.indexOf(kind));
    const { base, groups } = GROUPS[kind];
    const file = path.join(tmp, `${kind}.ckpt`);
    expectCheckpointResumesBitwise({
      make: () =>
        new CLASSES[kind]([{ params: [5, 7], ...groups[0] }, { params: [9], ...groups[2] }] as never, { ...base, lr: (t: number) => (base.lr as number) / (1 + t) } as never),
      grads: Array.from({ length: 6 }, () => [randomF32(5, r), randomF32(7, r), randomF32(9, r)]),
      saveAfter: 3,
      file,
      afterLoad: ({ a, fromFile }) => {
        expect(fromFile.appliedSteps).toBe(3);
        expect(fromFile.groups.map((g) => g.hyperparameters)).toEqual(a.groups.map((g) => g.hyperparameters));
        expect(Object.keys(fromFile.stateDict().state)).toEqual(STATE_NAMES[kind]);
      },
    });
    // a checkpoint of one rule does not load into another
    const other = new CLASSES[kind === 'adagrad' ? 'adadelta' : 'adagrad']([{ params: [5, 7] }, { params: [9] }] as never);
    expect(() => other.loadSync(file)).toThrow();
    other.dispose();
  });

  test("Adagrad's initial accumulator comes from its group; a checkpoint carries the accumulated sum", () => {
    const opt = new Adagrad([{ params: [3] }, { params: [2], initialAccumulatorValue: 0.25 }], { initialAccumulatorValue: 0.1 });
    const sum = opt.stateDict().state.sum;
    expect(Array.from(sum[0])).toEqual(Array(3).fill(Math.fround(0.1)));
    expect(Array.from(sum[1])).toEqual([0.25, 0.25]);
    opt.dispose();
  });
});

describe('bad inputs: typed errors naming the option and the value', () => {
  const cases: BadInputCase[] = [
    ['Adagrad lrDecay < 0', () => new Adagrad([2], { lrDecay: -1 }), RangeError, /options\.lrDecay.*-1/],
    ['Adagrad initialAccumulatorValue NaN', () => new Adagrad([2], { initialAccumulatorValue: Number.NaN }), RangeError, /options\.initialAccumulatorValue.*NaN/],
    ['Adagrad eps a string', () => new Adagrad([2], { eps: '1e-10' as never }), TypeError, /options\.eps.*'1e-10'/],
    ['Adagrad weightDecay < 0 in a group', () => new Adagrad([{ params: [2] }, { params: [2], weightDecay: -0.5 }]), RangeError, /params\[1\]\.weightDecay.*-0\.5/],
    ['Adagrad with an Adam option', () => new Adagrad([2], { beta1: 0.9 } as never), TypeError, /Unknown option options\.beta1/],
    ['RMSprop alpha > 1', () => new RMSprop([2], { alpha: 1.5 }), RangeError, /options\.alpha.*1\.5/],
    ['RMSprop momentum < 0', () => new RMSprop([2], { momentum: -0.1 }), RangeError, /options\.momentum.*-0\.1/],
    ['RMSprop centered a number', () => new RMSprop([2], { centered: 1 as never }), TypeError, /options\.centered.*1/],
    ['RMSprop lr Infinity', () => new RMSprop([2], { lr: Infinity }), RangeError, /options\.lr.*Infinity/],
    ['Adamax beta1 = 1', () => new Adamax([2], { beta1: 1 }), RangeError, /options\.beta1.*1/],
    ['Adamax beta2 < 0', () => new Adamax([2], { beta2: -0.5 }), RangeError, /options\.beta2.*-0\.5/],
    ['Adamax eps null', () => new Adamax([2], { eps: null as never }), TypeError, /options\.eps.*null/],
    ['Adadelta rho > 1', () => new Adadelta([2], { rho: 1.01 }), RangeError, /options\.rho.*1\.01/],
    ['Adadelta rho in a group', () => new Adadelta([{ params: [2], rho: -1 }]), RangeError, /params\[0\]\.rho.*-1/],
    ['Adadelta unknown option', () => new Adadelta([2], { rh0: 0.9 } as never), TypeError, /Unknown option options\.rh0/],
    ['RMSprop setOptions bad alpha', () => {
      const o = new RMSprop([2]);
      try {
        o.setOptions({ alpha: 2 });
      } finally {
        o.dispose();
      }
    }, RangeError, /options\.alpha.*2/],
  ];
  testBadInputs(cases);

  test('defaults are torch.optim\'s', () => {
    const d = (o: FusedOptimizer<object>) => {
      const g = o.groups[0];
      o.dispose();
      return { lr: g.lr, ...g.hyperparameters };
    };
    expect(d(new Adagrad([1]))).toMatchObject({ lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 });
    expect(d(new RMSprop([1]))).toMatchObject({ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    expect(d(new Adamax([1]))).toMatchObject({ lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    expect(d(new Adadelta([1]))).toMatchObject({ lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 });
  });
});
