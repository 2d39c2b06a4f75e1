/**
 * NAdam (`torch.optim.NAdam` of PyTorch 2.x) against a plain float64 reference
 * (test/support/ref-nadam-radam-lion.ts): 8 steps, odd lengths (SIMD tails, a tensor over
 * three 16384-element chunks), several tensors, three parameter groups with their own
 * hyperparameters, gradScale and global clipping; a random property over configurations;
 * bitwise determinism across thread counts and SIMD levels; the μ product (host state) across
 * skipped steps, stepAsync, setOptions and checkpoints; the tfjs adapter; bad inputs.
 *
 * The reference follows PyTorch 2.x: the momentum coefficient of step t uses the product
 * Π_{i≤t} μ_i · μ_{t+1}. PyTorch 1.13 (Debian's python3-torch) counts μ_t twice there; a test
 * below shows that the two differ and that we follow 2.x.
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance: |a − e| ≤ 2e-5 · max(|e|,
 * 1e-2 · max|e| of the array) — float32 arithmetic against float64 over 8 steps.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';

import { NAdam, buildInfo } from '../src/index.js';
import { randomF32, rng } from './support/reference.js';
import { closeError, expectSameBits, refMu, refNAdamApply, type RefNAdamOptions } from './support/ref-nadam-radam-lion.js';
import {
  assertRandomGroupsMatchFloat64,
  expectCheckpointResumesBitwise,
  expectCloseByGroup,
  expectCudaMatchesCpu,
  expectRuleDeterministic,
  expectSameStateBits,
  expectTfAdapterMatchesClass,
  FLOAT64_CASES,
  propertyLength,
  stepAndDecide,
  testBadInputs,
  threeGroupData,
  type BadInputCase,
} from './support/rule-harness.js';
import { testSeed } from './support/seed.js';

const seed = testSeed('rules.nadam', 20261206);
const STEPS = 8;
const TOL = 2e-5;
const DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-nadam-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function muProducts(opt: NAdam): number[] {
  return (opt.stateDict().groups ?? []).map((g) => (g.hostState as { muProduct: number }).muProduct);
}

describe('NAdam against float64 (three groups, 8 steps)', () => {
  for (const [maxGradNorm, gradScale] of FLOAT64_CASES) {
    test(`maxGradNorm ${maxGradNorm}, gradScale ${gradScale}`, () => {
      const { r, lengths, init, p, zeros } = threeGroupData(seed);
      const cfg: Omit<RefNAdamOptions, 'gradScale'>[] = [
        { ...DEFAULTS, lr: 3e-3, weightDecay: 0.01 },
        { ...DEFAULTS, lr: 1e-3, momentumDecay: 0.05 },
        { ...DEFAULTS, lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6 },
      ];
      const opt = new NAdam(
        [
          { params: init[0], weightDecay: 0.01 },
          { params: init[1], lr: 1e-3, momentumDecay: 0.05 },
          { params: init[2], beta1: 0.8, beta2: 0.99, eps: 1e-6 },
        ],
        { lr: 3e-3, maxGradNorm, gradScale, threads: 2 },
      );
      expect(opt.groups.map((g) => g.tensors)).toEqual([[0, 1], [2, 3], [4]]);
      const m = zeros();
      const v = zeros();
      const mu = cfg.map(() => ({ product: 1 }));
      for (let t = 1; t <= STEPS; t++) {
        if (t === 5) {
          // The μ product multiplies the μ_t of the current hyperparameters (as torch's).
          opt.setOptions({ beta1: 0.85, momentumDecay: 0.02 }, { group: 0 });
          cfg[0] = { ...cfg[0], beta1: 0.85, momentumDecay: 0.02 };
        }
        const grads = lengths.map((g) => g.map((n) => randomF32(n, r, 0.5)));
        const { d } = stepAndDecide(opt, grads, gradScale, maxGradNorm);
        for (let gi = 0; gi < 3; gi++) refNAdamApply(p[gi], grads[gi], m[gi], v[gi], mu[gi], { ...cfg[gi], gradScale }, t, d.clipCoef);
      }
      const state = opt.stateDict().state;
      expectCloseByGroup('params', (k) => opt.readParams(k), p, TOL);
      expectCloseByGroup('expAvg', (k) => state.expAvg[k], m, TOL);
      expectCloseByGroup('expAvgSq', (k) => state.expAvgSq[k], v, TOL);
      // The host state is computed in double, as the reference's.
      muProducts(opt).forEach((x, gi) => expect(Math.abs(x - mu[gi].product) / mu[gi].product).toBeLessThan(1e-14));
      opt.dispose();
    });
  }
});

test('follows PyTorch 2.x, not 1.13 (which counts μ_t twice in the momentum coefficient)', () => {
  // One element, a momentum decay that makes μ vary fast, 4 steps of a constant gradient.
  const o = { ...DEFAULTS, lr: 0.1, momentumDecay: 0.5, gradScale: 1 };
  const opt = new NAdam([new Float32Array([1])], { lr: 0.1, momentumDecay: 0.5 });
  const p = [Float64Array.of(1)];
  const m = [new Float64Array(1)];
  const v = [new Float64Array(1)];
  const mu = { product: 1 };
  // PyTorch 1.13's coefficient, for contrast: −lr·μ_{t+1} / (1 − Π_{i≤t} μ_i · μ_t · μ_{t+1}).
  let p113 = 1;
  let m113 = 0;
  let v113 = 0;
  let prod113 = 1;
  for (let t = 1; t <= 4; t++) {
    opt.grads[0][0] = 0.25;
    opt.step();
    refNAdamApply(p, [[0.25]], m, v, mu, o, t, 1);
    const muT = refMu(0.9, 0.5, t);
    const muNext = refMu(0.9, 0.5, t + 1);
    prod113 *= muT;
    m113 = 0.9 * m113 + 0.1 * 0.25;
    v113 = 0.999 * v113 + 0.001 * 0.0625;
    const d = Math.sqrt(v113 / (1 - 0.999 ** t)) + 1e-8;
    p113 += ((-0.1 * (1 - muT)) / (1 - prod113)) * (0.25 / d) + ((-0.1 * muNext) / (1 - prod113 * muT * muNext)) * (m113 / d);
  }
  const got = opt.params[0][0];
  expect(Math.abs(got - p[0][0])).toBeLessThan(1e-6);
  expect(Math.abs(got - p113)).toBeGreaterThan(1e-3);
  opt.dispose();
});

test('bitwise the same with 1 and 2 threads and on every SIMD level, one pass and two', () => {
  expectRuleDeterministic('rules.nadam', seed, 5, (init, maxGradNorm, threads) => new NAdam([{ params: init.slice(0, 3) }, { params: init.slice(3), beta1: 0.8, weightDecay: 0.01 }], { lr: 1e-2, maxGradNorm, threads }));
});

describe('skipNonFinite: a skipped step leaves params, state and the μ product as they were', () => {
  for (const api of ['step', 'stepAsync'] as const) {
    test(api, async () => {
      const r = rng(seed + 3);
      const lengths = [300, 20_000];
      const init = lengths.map((n) => randomF32(n, r));
      const grads = [0, 1, 2].map(() => lengths.map((n) => randomF32(n, r)));
      const make = (): NAdam => new NAdam([{ params: [init[0]] }, { params: [init[1]], beta1: 0.7 }], { lr: 1e-2, skipNonFinite: true, threads: 2 });
      const a = make();
      const b = make();
      const stepWith = async (o: NAdam, g: Float32Array[]) => {
        g.forEach((x, i) => o.setGrads(i, x));
        return api === 'step' ? o.step() : await o.stepAsync();
      };
      await stepWith(a, grads[0]);
      await stepWith(b, grads[0]);
      const before = a.stateDict();
      const bad = grads[1].map((x) => x.slice());
      bad[1][12_345] = Number.NaN;
      const info = await stepWith(a, bad);
      expect(info.skipped).toBe(true);
      expect(a.appliedSteps).toBe(1);
      expect(a.iteration).toBe(2);
      const after = a.stateDict();
      expect(after.groups).toEqual(before.groups); // the μ products did not advance
      expect(Object.keys(after.state)).toEqual(['expAvg', 'expAvgSq']);
      expectSameStateBits(after, before);
      // The next applied step is step 2 for both: the same bits as a run without the bad step.
      for (const g of grads.slice(1)) {
        await stepWith(a, g);
        await stepWith(b, g);
      }
      expect(muProducts(a)).toEqual(muProducts(b));
      expect(muProducts(a)[1]).toBe(refMu(0.7, 4e-3, 1) * refMu(0.7, 4e-3, 2) * refMu(0.7, 4e-3, 3));
      expectSameBits(a, b, 'after the skipped step');
      a.dispose();
      b.dispose();
    });
  }

  test('without skipNonFinite the step is applied and the product advances', () => {
    const opt = new NAdam([3], { lr: 1e-2 });
    opt.grads[0].set([0.1, Number.NaN, -0.1]);
    expect(opt.step().skipped).toBe(false);
    expect(opt.appliedSteps).toBe(1);
    expect(muProducts(opt)[0]).toBe(refMu(0.9, 4e-3, 1));
    expect(Number.isNaN(opt.params[0][1])).toBe(true);
    expect(Number.isFinite(opt.params[0][0])).toBe(true);
    opt.dispose();
  });
});

describe('checkpoints carry the μ product', () => {
  test('save, load into a fresh optimizer, resume: the same bits as an uninterrupted run', () => {
    const r = rng(seed + 4);
    const lengths = [17, 3000];
    const init = lengths.map((n) => randomF32(n, r));
    const grads = Array.from({ length: 6 }, () => lengths.map((n) => randomF32(n, r)));
    expectCheckpointResumesBitwise({
      make: () => new NAdam([{ params: [init[0]], momentumDecay: 0.1 }, { params: [init[1]], weightDecay: 0.01 }], { lr: 5e-3 }),
      grads,
      saveAfter: 3,
      file: path.join(tmp, 'nadam.ckpt'),
      afterLoad: ({ a, fromFile, saved, decoded }) => {
        expect(saved.groups?.[0].hostState).toEqual({ muProduct: refMu(0.9, 0.1, 1) * refMu(0.9, 0.1, 2) * refMu(0.9, 0.1, 3) });
        expect(decoded.groups?.map((g) => g.hostState)).toEqual(saved.groups?.map((g) => g.hostState));
        expect(muProducts(fromFile)).toEqual(muProducts(a));
      },
    });
  });

  test('a missing or bad host state is refused, naming it, and changes nothing', () => {
    const a = new NAdam([4], { lr: 1e-2 });
    a.grads[0].fill(0.1);
    a.step();
    const sd = a.stateDict();
    const b = new NAdam([4], { lr: 1e-2 });
    const before = b.stateDict();
    const noHost = { ...sd, groups: sd.groups!.map(({ hostState: _h, ...g }) => g) };
    expect(() => b.loadStateDict(noHost)).toThrow(TypeError);
    expect(() => b.loadStateDict(noHost)).toThrow(/state\.groups\[0\]\.hostState/);
    const bad = { ...sd, groups: sd.groups!.map((g) => ({ ...g, hostState: { muProduct: Number.NaN } })) };
    expect(() => b.loadStateDict(bad)).toThrow(RangeError);
    expect(() => b.loadStateDict(bad)).toThrow(/state\.groups\[0\]\.hostState\.muProduct but received NaN/);
    const unknown = { ...sd, groups: sd.groups!.map((g) => ({ ...g, hostState: { muProduct: 0.5, mu: 1 } })) };
    expect(() => b.loadStateDict(unknown)).toThrow(/hostState\.mu\b/);
    expect(b.stateDict()).toEqual(before);
    a.dispose();
    b.dispose();
  });
});

test('FusedTfOptimizer runs NAdam: the same bits as the class', async () => {
  const options = { lr: 0.01, weightDecay: 0.01, momentumDecay: 0.01 };
  await expectTfAdapterMatchesClass({ optimizer: 'nadam', ...options }, (w0) => new NAdam([w0], options), 3);
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
      beta2: fc.constantFrom(0, 0.9, 0.999, 0.9999),
      eps: fc.constantFrom(1e-8, 1e-6, 1e-3),
      weightDecay: fc.constantFrom(0, 1e-3, 3e-3),
      momentumDecay: fc.constantFrom(0, 4e-3, 0.3),
    }),
    maxSteps: 9,
    make: (groups, options) => new NAdam(groups, options),
    reference: (g, init) => {
      const p = init.map((a) => Float64Array.from(a));
      const m = g.lengths.map((n) => new Float64Array(n));
      const v = g.lengths.map((n) => new Float64Array(n));
      const mu = { product: 1 };
      return { params: p, step: (grads, gradScale, t, clipCoef) => refNAdamApply(p, grads, m, v, mu, { ...g, gradScale }, t, clipCoef) };
    },
  });
});

describe('bad inputs: typed errors naming the option', () => {
  const cases: BadInputCase[] = [
    ['beta1 = 1', () => new NAdam([2], { beta1: 1 }), RangeError, /a number in \[0, 1\) for options\.beta1 but received 1/],
    ['beta2 negative', () => new NAdam([2], { beta2: -0.1 }), RangeError, /for options\.beta2 but received -0\.1/],
    ['eps a string', () => new NAdam([2], { eps: '1e-8' as never }), TypeError, /for options\.eps but received '1e-8'/],
    ['momentumDecay negative', () => new NAdam([2], { momentumDecay: -4e-3 }), RangeError, /for options\.momentumDecay but received -0\.004/],
    ['momentumDecay NaN', () => new NAdam([2], { momentumDecay: Number.NaN }), RangeError, /for options\.momentumDecay but received NaN/],
    ['weightDecay Infinity', () => new NAdam([2], { weightDecay: Infinity }), RangeError, /for options\.weightDecay but received Infinity/],
    ['lr negative', () => new NAdam([2], { lr: -1 }), RangeError, /for options\.lr but received -1/],
    ['a group momentumDecay', () => new NAdam([{ params: [2] }, { params: [2], momentumDecay: 'x' as never }]), TypeError, /for params\[1\]\.momentumDecay but received 'x'/],
    ['an Adam-only option', () => new NAdam([2], { decoupled: true } as never), TypeError, /Unknown option options\.decoupled/],
    ['setOptions momentumDecay', () => new NAdam([2]).setOptions({ momentumDecay: -1 }), RangeError, /for options\.momentumDecay but received -1/],
  ];
  testBadInputs(cases);

  test('defaults are the issue table\'s (torch.optim.NAdam)', () => {
    const opt = new NAdam([2]);
    expect(opt.hyperparameters).toMatchObject({ lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 });
    opt.dispose();
  });
});

/**
 * Vectors generated with PyTorch by bench/peers/torch_vectors.py. Only beta1 = 0 cases: there
 * PyTorch 1.x and 2.x agree (every μ is 0), so a 1.13 install can make them; they check v, its
 * bias correction, eps and weight decay, not the momentum schedule (the float64 tests do).
 */
const fixture = path.join(import.meta.dirname, 'fixtures', 'nadam-torch.json');
describe.skipIf(!fs.existsSync(fixture))('PyTorch vectors (test/fixtures/nadam-torch.json)', () => {
  interface Case {
    name: string;
    options: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; momentumDecay: number };
    params: number[];
    grads: number[][];
    expected: number[][];
  }
  const data = fs.existsSync(fixture) ? (JSON.parse(fs.readFileSync(fixture, 'utf8')) as { source: string; cases: Case[] }) : { source: '', cases: [] };
  for (const c of data.cases) {
    test(`${c.name} (${data.source})`, () => {
      expect(c.options.beta1).toBe(0);
      const opt = new NAdam([Float32Array.from(c.params)], c.options);
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
  test('three groups, clipping and a skipped step: the same bits, the same μ product', () => {
    expectCudaMatchesCpu({
      seed: seed + 5,
      make: (init, device): NAdam =>
        new NAdam([{ params: [init[0]] }, { params: [init[1]], beta1: 0.8 }, { params: [init[2]], momentumDecay: 0.1 }], {
          lr: 1e-2,
          device,
          skipNonFinite: true,
        }),
      steps: 6,
      check: (gpu, cpu) => expect(muProducts(gpu)).toEqual(muProducts(cpu)),
    });
  });
});
if (!buildInfo().cuda.available) console.log(`rules.nadam: CUDA tests skipped: ${buildInfo().cuda.reason}`);
