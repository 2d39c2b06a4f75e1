/**
 * Lion (optax.lion; Chen et al. 2023, Program 1) against two references
 * (test/support/ref-nadam-radam-lion.ts):
 * - float64, written from the formula: 8 steps, odd lengths (SIMD tails, a tensor over three
 *   16384-element chunks), several tensors, three parameter groups, gradScale and global
 *   clipping. sign(c) is discontinuous at 0: an element whose c is within float32 rounding of
 *   0 may take the other sign in float32, so the reference marks such elements and leaves
 *   them out (the test asserts they are rare);
 * - float32 emulated with Math.fround in the kernel's order: bitwise equality, over random
 *   configurations (fast-check), where no clipping makes the clip coefficient exactly 1.
 * Also: sign(0) = 0 and NaN propagation, bitwise determinism across thread counts and SIMD
 * levels, skipped steps, checkpoints, half of Adam's state, the tfjs adapter, bad inputs.
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance of the float64 comparison:
 * |a − e| ≤ 2e-5 · max(|e|, 1e-2 · max|e| of the array).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';

import { Adam, Lion, buildInfo } from '../src/index.js';
import { randomF32, rng } from './support/reference.js';
import { refLionApply, refLionApplyF32, sameBits, type RefLionOptions } from './support/ref-nadam-radam-lion.js';
import {
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

const seed = testSeed('rules.lion', 20261208);
const STEPS = 8;
const TOL = 2e-5;
const DEFAULTS = { beta1: 0.9, beta2: 0.99, weightDecay: 0 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-lion-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Lion against float64 (three groups, 8 steps)', () => {
  for (const [maxGradNorm, gradScale] of FLOAT64_CASES) {
    test(`maxGradNorm ${maxGradNorm}, gradScale ${gradScale}`, () => {
      const { r, lengths, init, p, zeros } = threeGroupData(seed);
      const cfg: Omit<RefLionOptions, 'gradScale'>[] = [
        { ...DEFAULTS, lr: 3e-3, weightDecay: 0.1 },
        { ...DEFAULTS, lr: 1e-3 },
        { ...DEFAULTS, lr: 3e-3, beta1: 0.5, beta2: 0.9 },
      ];
      const opt = new Lion(
        [{ params: init[0], weightDecay: 0.1 }, { params: init[1], lr: 1e-3 }, { params: init[2], beta1: 0.5, beta2: 0.9 }],
        { lr: 3e-3, maxGradNorm, gradScale, threads: 2 },
      );
      const m = zeros();
      const ambiguous = lengths.map((g) => g.map((n) => new Uint8Array(n)));
      for (let t = 1; t <= STEPS; t++) {
        const grads = lengths.map((g) => g.map((n) => randomF32(n, r, 0.5)));
        const { d } = stepAndDecide(opt, grads, gradScale, maxGradNorm);
        for (let gi = 0; gi < 3; gi++) refLionApply(p[gi], grads[gi], m[gi], { ...cfg[gi], gradScale }, d.clipCoef, ambiguous[gi]);
      }
      const marked = ambiguous.flat().reduce((s, a) => s + a.reduce((x, y) => x + y, 0), 0);
      const total = lengths.flat().reduce((a, b) => a + b, 0);
      console.log(`rules.lion: ${marked} of ${total} elements left out (sign of c within float32 rounding of 0)`);
      expect(marked).toBeLessThan(total * 1e-3);
      const state = opt.stateDict().state;
      expect(Object.keys(state)).toEqual(['expAvg']);
      expectCloseByGroup('params', (k) => opt.readParams(k), p, TOL, { skip: ambiguous });
      expectCloseByGroup('expAvg', (k) => state.expAvg[k], m, TOL);
      opt.dispose();
    });
  }
});

test('property: bitwise equal to float32 emulated in the kernel order (no clipping)', () => {
  const runs = Number(process.env.FUZZ_RUNS ?? 30);
  const group = fc.record({
    lengths: fc.array(propertyLength, { minLength: 1, maxLength: 3 }),
    lr: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
    beta1: fc.constantFrom(0, 0.5, 0.9, 0.99, 1),
    beta2: fc.constantFrom(0, 0.9, 0.99, 0.999, 1),
    weightDecay: fc.constantFrom(0, 1e-3, 0.1, 1),
  });
  const config = fc.record({
    groups: fc.array(group, { minLength: 1, maxLength: 2 }),
    steps: fc.integer({ min: 1, max: 9 }),
    gradScale: fc.constantFrom(1, 0.25, 4, 1 / 3),
    zeros: fc.boolean(), // some exact zeros in the gradients: sign(0) = 0
    threads: fc.constantFrom(1, 2),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
  fc.assert(
    fc.property(config, (c) => {
      const r = rng(c.seed);
      const init = c.groups.map((g) => g.lengths.map((n) => randomF32(n, r)));
      const opt = new Lion(
        c.groups.map(({ lengths: _l, ...g }, gi) => ({ ...g, params: init[gi] })),
        { gradScale: c.gradScale, threads: c.threads },
      );
      try {
        const p = init.map((g) => g.map((a) => a.slice()));
        const m = c.groups.map((g) => g.lengths.map((n) => new Float32Array(n)));
        for (let t = 1; t <= c.steps; t++) {
          const grads = c.groups.map((g) => g.lengths.map((n) => randomF32(n, r)));
          if (c.zeros) for (const a of grads.flat()) for (let i = 0; i < a.length; i += 3) a[i] = 0;
          grads.flat().forEach((g, i) => opt.setGrads(i, g));
          opt.step();
          c.groups.forEach((g, gi) => refLionApplyF32(p[gi], grads[gi], m[gi], { ...g, gradScale: c.gradScale }));
        }
        const state = opt.stateDict().state.expAvg;
        let k = 0;
        for (let gi = 0; gi < c.groups.length; gi++) {
          for (let j = 0; j < p[gi].length; j++, k++) {
            if (!sameBits(opt.readParams(k), p[gi][j])) throw new Error(`group ${gi} tensor ${j}: params differ`);
            if (!sameBits(state[k], m[gi][j])) throw new Error(`group ${gi} tensor ${j}: expAvg differs`);
          }
        }
      } finally {
        opt.dispose();
      }
    }),
    { seed, numRuns: runs },
  );
});

test('sign(0) = 0 (only the decay moves p); a NaN gradient gives NaN (as torch.sign / jnp.sign)', () => {
  const opt = new Lion([Float32Array.from([1, -2, 3, 4])], { lr: 0.5, weightDecay: 0.5 });
  opt.grads[0].set([0, -0, 1, Number.NaN]);
  opt.step();
  expect(Array.from(opt.params[0]).slice(0, 3)).toEqual([0.75, -1.5, 3 * 0.75 - 0.5]);
  expect(Number.isNaN(opt.params[0][3])).toBe(true);
  opt.dispose();
});

test('half of Adam\'s state: one slot, 4 bytes per parameter', () => {
  const n = 1 << 20;
  const lion = new Lion([n]);
  const adam = new Adam([n]);
  // params + grads + 1 state slot against params + grads + 2
  expect(lion.nativeBytes / adam.nativeBytes).toBeCloseTo(3 / 4, 2);
  lion.dispose();
  adam.dispose();
});

test('bitwise the same with 1 and 2 threads and on every SIMD level, one pass and two', () => {
  expectRuleDeterministic('rules.lion', seed, 5, (init, maxGradNorm, threads) => new Lion([{ params: init.slice(0, 3) }, { params: init.slice(3), beta1: 0.5, weightDecay: 0.1 }], { lr: 1e-2, maxGradNorm, threads }));
});

test('skipNonFinite: a skipped step leaves params and state bitwise as they were', async () => {
  const r = rng(seed + 3);
  const lengths = [300, 20_000];
  const init = lengths.map((n) => randomF32(n, r));
  await expectSkippedStepInvisible({
    make: () => new Lion(init, { lr: 1e-2, skipNonFinite: true, threads: 2 }),
    grads: Array.from({ length: 4 }, () => lengths.map((n) => randomF32(n, r))),
    badAt: 2,
    poison: (bad) => (bad[1][19_999] = Number.NEGATIVE_INFINITY),
    slots: ['expAvg'],
  });
});

test('checkpoints: save, load into a fresh optimizer, resume: the same bits', () => {
  const r = rng(seed + 4);
  const lengths = [17, 3000];
  const init = lengths.map((n) => randomF32(n, r));
  const grads = Array.from({ length: 6 }, () => lengths.map((n) => randomF32(n, r)));
  expectCheckpointResumesBitwise({
    make: () => new Lion([{ params: [init[0]], beta1: 0.95 }, { params: [init[1]], weightDecay: 0.1 }], { lr: 5e-3 }),
    grads,
    saveAfter: 3,
    file: path.join(tmp, 'lion.ckpt'),
    afterLoad: ({ fromFile }) => expect(fromFile.groups[0].hyperparameters.beta1).toBe(0.95),
  });
});

test('FusedTfOptimizer runs Lion: the same bits as the class', async () => {
  const options = { lr: 0.01, weightDecay: 0.1, beta2: 0.98 };
  await expectTfAdapterMatchesClass({ optimizer: 'lion', ...options }, (w0) => new Lion([w0], options), 3);
});

describe('bad inputs: typed errors naming the option', () => {
  const cases: BadInputCase[] = [
    ['beta1 above 1', () => new Lion([2], { beta1: 1.5 }), RangeError, /a number in \[0, 1\] for options\.beta1 but received 1\.5/],
    ['beta2 negative', () => new Lion([2], { beta2: -0.01 }), RangeError, /for options\.beta2 but received -0\.01/],
    ['weightDecay negative', () => new Lion([2], { weightDecay: -0.1 }), RangeError, /for options\.weightDecay but received -0\.1/],
    ['lr a string', () => new Lion([2], { lr: '1e-4' as never }), TypeError, /for options\.lr but received '1e-4'/],
    ['eps (Lion has none)', () => new Lion([2], { eps: 1e-8 } as never), TypeError, /Unknown option options\.eps/],
    ['a group beta2', () => new Lion([{ params: [2] }, { params: [2], beta2: Number.NaN }]), RangeError, /for params\[1\]\.beta2 but received NaN/],
    ['setOptions beta1', () => new Lion([2]).setOptions({ beta1: true as never }), TypeError, /for options\.beta1 but received true/],
  ];
  testBadInputs(cases);

  test("defaults are the issue table's (optax.lion, with weight decay 0)", () => {
    const opt = new Lion([2]);
    expect(opt.hyperparameters).toMatchObject({ lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    opt.dispose();
  });
});

describe.skipIf(!buildInfo().cuda.available)('CUDA against the CPU', () => {
  test('three groups, clipping and a skipped step: the same bits', () => {
    expectCudaMatchesCpu({
      seed: seed + 5,
      make: (init, device): Lion =>
        new Lion([{ params: [init[0]] }, { params: [init[1]], beta1: 0.5 }, { params: [init[2]], weightDecay: 0.1 }], { lr: 1e-2, device, skipNonFinite: true }),
      steps: 6,
    });
  });
});
if (!buildInfo().cuda.available) console.log(`rules.lion: CUDA tests skipped: ${buildInfo().cuda.reason}`);
