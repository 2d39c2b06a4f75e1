/**
 * RAdam (`torch.optim.RAdam` of PyTorch 2.x) against a plain float64 reference
 * (test/support/ref-nadam-radam-lion.ts): 8 steps — the unrectified steps 1–5 (momentum SGD)
 * and the rectified steps from 6 on — odd lengths (SIMD tails, a tensor over three
 * 16384-element chunks), several tensors, three parameter groups (one whose β2 never
 * rectifies), gradScale and global clipping; a random property over configurations; bitwise
 * determinism across thread counts and SIMD levels; skipped steps (t counts applied steps);
 * checkpoints; the tfjs adapter; bad inputs; and, when present, PyTorch vectors
 * (test/fixtures/radam-torch.json).
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance: |a − e| ≤ 2e-5 · max(|e|,
 * 1e-2 · max|e| of the array) — float32 arithmetic against float64 over 8 steps.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';

import { RAdam, buildInfo } from '../src/index.js';
import { randomF32, rng } from './support/reference.js';
import { closeError, refRAdamApply, refRho, type RefRAdamOptions } from './support/ref-nadam-radam-lion.js';
import {
  assertRandomGroupsMatchFloat64,
  expectCheckpointResumesBitwise,
  expectCloseByGroup,
  expectCudaMatchesCpu,
  expectRuleDeterministic,
  expectSkippedStepInvisible,
  expectTfAdapterMatchesClass,
  FLOAT64_CASES,
  propertyLength,
  stepAndDecide,
  testBadInputs,
  threeGroupData,
  type BadInputCase,
} from './support/rule-harness.js';
import { testSeed } from './support/seed.js';

const seed = testSeed('rules.radam', 20261207);
const STEPS = 8;
const TOL = 2e-5;
const DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-radam-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the rectification starts at step 6 for β2 0.999 and 0.9, never for β2 0.5', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map((t) => refRho(0.999, t).rectified)).toEqual([false, false, false, false, false, true, true]);
  expect([5, 6].map((t) => refRho(0.9, t).rectified)).toEqual([false, true]);
  expect([1, 10, 1000].map((t) => refRho(0.5, t).rectified)).toEqual([false, false, false]);
});

describe('RAdam against float64 (three groups, 8 steps: both variants)', () => {
  for (const [maxGradNorm, gradScale] of FLOAT64_CASES) {
    test(`maxGradNorm ${maxGradNorm}, gradScale ${gradScale}`, () => {
      const { r, lengths, init, p, zeros } = threeGroupData(seed);
      const cfg: Omit<RefRAdamOptions, 'gradScale'>[] = [
        { ...DEFAULTS, lr: 3e-3, weightDecay: 0.01 },
        { ...DEFAULTS, lr: 1e-3, beta2: 0.5 },
        { ...DEFAULTS, lr: 3e-3, beta1: 0.8, beta2: 0.9, eps: 1e-3 },
      ];
      const opt = new RAdam(
        [
          { params: init[0], weightDecay: 0.01 },
          { params: init[1], lr: 1e-3, beta2: 0.5 },
          { params: init[2], beta1: 0.8, beta2: 0.9, eps: 1e-3 },
        ],
        { lr: 3e-3, maxGradNorm, gradScale, threads: 2 },
      );
      expect(opt.groups.map((g) => g.tensors)).toEqual([[0, 1], [2, 3], [4]]);
      const m = zeros();
      const v = zeros();
      for (let t = 1; t <= STEPS; t++) {
        const grads = lengths.map((g) => g.map((n) => randomF32(n, r, 0.5)));
        const { d } = stepAndDecide(opt, grads, gradScale, maxGradNorm);
        for (let gi = 0; gi < 3; gi++) refRAdamApply(p[gi], grads[gi], m[gi], v[gi], { ...cfg[gi], gradScale }, t, d.clipCoef);
        // Check every step: the variant switch at step 6 must match.
        expectCloseByGroup(`step ${t}, params`, (k) => opt.readParams(k), p, TOL);
      }
      const state = opt.stateDict().state;
      expectCloseByGroup('expAvg', (k) => state.expAvg[k], m, TOL);
      expectCloseByGroup('expAvgSq', (k) => state.expAvgSq[k], v, TOL);
      opt.dispose();
    });
  }
});

test('bitwise the same with 1 and 2 threads and on every SIMD level, one pass and two', () => {
  expectRuleDeterministic('rules.radam', seed, 7, (init, maxGradNorm, threads) => new RAdam([{ params: init.slice(0, 3) }, { params: init.slice(3), beta2: 0.5, weightDecay: 0.01 }], { lr: 1e-2, maxGradNorm, threads }));
});

test('skipNonFinite: a skipped step changes nothing and does not count (the rectification starts one step later)', async () => {
  const r = rng(seed + 3);
  const lengths = [300, 20_000];
  const init = lengths.map((n) => randomF32(n, r));
  await expectSkippedStepInvisible({
    make: () => new RAdam(init, { lr: 1e-2, skipNonFinite: true, threads: 2 }),
    grads: Array.from({ length: 7 }, () => lengths.map((n) => randomF32(n, r))),
    badAt: 4,
    poison: (bad) => (bad[0][5] = Number.POSITIVE_INFINITY),
    slots: ['expAvg', 'expAvgSq'],
    check: (a) => expect(a.iteration).toBe(8),
  });
});

test('checkpoints: save, load into a fresh optimizer, resume across the rectification: the same bits', () => {
  const r = rng(seed + 4);
  const lengths = [17, 3000];
  const init = lengths.map((n) => randomF32(n, r));
  const grads = Array.from({ length: 8 }, () => lengths.map((n) => randomF32(n, r)));
  expectCheckpointResumesBitwise({
    make: () => new RAdam([{ params: [init[0]], beta2: 0.99 }, { params: [init[1]], weightDecay: 0.01 }], { lr: 5e-3 }),
    grads,
    saveAfter: 4,
    file: path.join(tmp, 'radam.ckpt'),
    afterLoad: ({ fromFile }) => expect(fromFile.appliedSteps).toBe(4),
  });
});

test('FusedTfOptimizer runs RAdam: the same bits as the class', async () => {
  const options = { lr: 0.01, weightDecay: 0.01, beta2: 0.99 };
  await expectTfAdapterMatchesClass({ optimizer: 'radam', ...options }, (w0) => new RAdam([w0], options), 7);
});

// Gradients bounded away from 0, weightDecay ≤ 3e-3, gradScale ≥ 0.5 and clip coefficients ≈ 0.7 or 1 (see
// wellConditionedGrad): no cancellation in g + wd·p.
test('property: random configurations against float64', () => {
  assertRandomGroupsMatchFloat64({
    seed,
    numRuns: Number(process.env.FUZZ_RUNS ?? 24),
    group: fc.record({
      lengths: fc.array(propertyLength, { minLength: 1, maxLength: 3 }),
      lr: fc.double({ min: 1e-4, max: 0.05, noNaN: true }),
      beta1: fc.constantFrom(0, 0.5, 0.9, 0.99),
      beta2: fc.constantFrom(0, 0.5, 0.9, 0.999, 0.9999),
      eps: fc.constantFrom(1e-8, 1e-6, 1e-3),
      weightDecay: fc.constantFrom(0, 1e-3, 3e-3),
    }),
    maxSteps: 10,
    make: (groups, options) => new RAdam(groups, options),
    reference: (g, init) => {
      const p = init.map((a) => Float64Array.from(a));
      const m = g.lengths.map((n) => new Float64Array(n));
      const v = g.lengths.map((n) => new Float64Array(n));
      return { params: p, step: (grads, gradScale, t, clipCoef) => refRAdamApply(p, grads, m, v, { ...g, gradScale }, t, clipCoef) };
    },
  });
});

describe('bad inputs: typed errors naming the option', () => {
  const cases: BadInputCase[] = [
    ['beta2 = 1', () => new RAdam([2], { beta2: 1 }), RangeError, /a number in \[0, 1\) for options\.beta2 but received 1/],
    ['beta1 negative', () => new RAdam([2], { beta1: -0.5 }), RangeError, /for options\.beta1 but received -0\.5/],
    ['eps negative', () => new RAdam([2], { eps: -1e-8 }), RangeError, /for options\.eps but received -1e-8/],
    ['weightDecay a string', () => new RAdam([2], { weightDecay: '0' as never }), TypeError, /for options\.weightDecay but received '0'/],
    ['lr NaN', () => new RAdam([2], { lr: Number.NaN }), RangeError, /for options\.lr but received NaN/],
    ['a group beta1', () => new RAdam([{ params: [2] }, { params: [2], beta1: 2 }]), RangeError, /for params\[1\]\.beta1 but received 2/],
    ['a NAdam-only option', () => new RAdam([2], { momentumDecay: 0.004 } as never), TypeError, /Unknown option options\.momentumDecay/],
    ['setOptions eps', () => new RAdam([2]).setOptions({ eps: null as never }), TypeError, /for options\.eps but received null/],
  ];
  testBadInputs(cases);

  test("defaults are the issue table's (torch.optim.RAdam)", () => {
    const opt = new RAdam([2]);
    expect(opt.hyperparameters).toMatchObject({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    opt.dispose();
  });
});

/** Vectors generated with PyTorch by bench/peers/torch_vectors.py (see the fixture's `source`). */
const fixture = path.join(import.meta.dirname, 'fixtures', 'radam-torch.json');
describe.skipIf(!fs.existsSync(fixture))('PyTorch vectors (test/fixtures/radam-torch.json)', () => {
  interface Case {
    name: string;
    options: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };
    params: number[];
    grads: number[][];
    expected: number[][];
  }
  const data = fs.existsSync(fixture) ? (JSON.parse(fs.readFileSync(fixture, 'utf8')) as { source: string; cases: Case[] }) : { source: '', cases: [] };
  for (const c of data.cases) {
    test(`${c.name} (${data.source})`, () => {
      const opt = new RAdam([Float32Array.from(c.params)], c.options);
      c.grads.forEach((g, t) => {
        opt.grads[0].set(g);
        opt.step();
        expect(closeError(opt.params[0], c.expected[t]), `step ${t + 1}`).toBeLessThan(1e-5);
      });
      opt.dispose();
    });
  }
});

describe.skipIf(!buildInfo().cuda.available)('CUDA against the CPU', () => {
  test('three groups, both variants, clipping and a skipped step: the same bits', () => {
    expectCudaMatchesCpu({
      seed: seed + 5,
      make: (init, device): RAdam =>
        new RAdam([{ params: [init[0]] }, { params: [init[1]], beta2: 0.5 }, { params: [init[2]], weightDecay: 0.01 }], { lr: 1e-2, device, skipNonFinite: true }),
      steps: 9,
    });
  });
});
if (!buildInfo().cuda.available) console.log(`rules.radam: CUDA tests skipped: ${buildInfo().cuda.reason}`);
