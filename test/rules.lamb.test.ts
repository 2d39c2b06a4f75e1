/**
 * LAMB against a plain float64 reference written from optax.lamb (scale_by_adam with eps_root 0,
 * add_decayed_weights, scale_by_trust_ratio, scale by −lr), over 8 steps, odd lengths (one
 * spanning several chunks), several tensors in two groups, clipping on and off, a skipped step.
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance: |a − e| ≤ 2e-5 · max(|e|,
 * 1e-2 · max|e| of the array): float32 arithmetic against float64 over 8 steps.
 */
import { describe, expect, test } from 'vitest';

import { FusedTfOptimizer } from '../src/tfjs/index.js';
import { Lamb, createOptimizer } from '../src/index.js';
import { randomF32, scaledError, rng } from './support/reference.js';
import { expectCloseByGroup, stepAndDecide } from './support/rule-harness.js';
import { testSeed } from './support/seed.js';

const seed = testSeed('rules.lamb.test', 20261203);

const STEPS = 8;
const TOL = 2e-5;

const close = scaledError;

interface LambCfg {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** optax.lamb for one tensor, float64, applied step t (1-based), gradient already unscaled and clipped. */
function refLambTensor(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, c: LambCfg, t: number): void {
  const u = new Float64Array(p.length);
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  let pn = 0;
  let un = 0;
  for (let i = 0; i < p.length; i++) {
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i];
    u[i] = m[i] / bc1 / (Math.sqrt(v[i] / bc2) + c.eps) + c.weightDecay * p[i];
    pn += p[i] * p[i];
    un += u[i] * u[i];
  }
  const ratio = pn > 0 && un > 0 ? Math.sqrt(pn) / Math.sqrt(un) : 1;
  for (let i = 0; i < p.length; i++) p[i] -= c.lr * ratio * u[i];
}

describe('Lamb against float64 (optax.lamb)', () => {
  for (const maxGradNorm of [null, 2]) {
    test(`two groups, maxGradNorm ${maxGradNorm}, gradScale 0.5`, () => {
      const r = rng(seed + (maxGradNorm ?? 0));
      const lengths = [[1001, 17], [40_003, 0, 3]]; // an empty tensor: its ratio is 1, nothing moves
      const cfg: LambCfg[] = [
        { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 },
        { lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0 },
      ];
      const init = lengths.map((g) => g.map((n) => randomF32(n, r)));
      const opt = new Lamb([{ params: init[0] }, { params: init[1], lr: 3e-3, beta1: 0.8, beta2: 0.99, weightDecay: 0 }], {
        lr: 1e-2,
        weightDecay: 0.01,
        maxGradNorm,
        gradScale: 0.5,
        threads: 2,
      });
      const p = init.map((g) => g.map((a) => Float64Array.from(a)));
      const m = lengths.map((g) => g.map((n) => new Float64Array(n)));
      const v = lengths.map((g) => g.map((n) => new Float64Array(n)));
      for (let t = 1; t <= STEPS; t++) {
        const grads = lengths.map((g) => g.map((n) => randomF32(n, r)));
        const { d } = stepAndDecide(opt, grads, 0.5, maxGradNorm);
        for (let gi = 0; gi < 2; gi++) {
          grads[gi].forEach((g, j) => {
            const gu = Array.from(g, (x) => Math.fround(x * 0.5) * d.clipCoef);
            refLambTensor(p[gi][j], gu, m[gi][j], v[gi][j], cfg[gi], t);
          });
        }
      }
      const state = opt.stateDict().state;
      expectCloseByGroup('params', (k) => opt.readParams(k), p, TOL, { error: close });
      expectCloseByGroup('expAvg', (k) => state.expAvg[k], m, TOL, { error: close });
      expectCloseByGroup('expAvgSq', (k) => state.expAvgSq[k], v, TOL, { error: close });
      opt.dispose();
    });
  }

  test('the trust ratio is per tensor: scaling one tensor scales its step, not the other', () => {
    const a = new Lamb([new Float32Array([3, 4]), new Float32Array([0.3, 0.4])], { lr: 0.1 });
    a.grads[0].set([1, 1]);
    a.grads[1].set([1, 1]);
    a.step();
    const d0 = 3 - a.readParams(0)[0];
    const d1 = 0.3 - a.readParams(1)[0];
    expect(d0 / d1).toBeCloseTo(10, 4); // ‖p‖ is 10× larger, u is the same
    a.dispose();
  });

  test('a zero tensor has ratio 1 (it moves by lr · u)', () => {
    const a = new Lamb([2], { lr: 0.1 });
    a.grads[0].set([1, -1]);
    a.step();
    const p = a.readParams(0);
    expect(p[0]).toBeCloseTo(-0.1, 5);
    expect(p[1]).toBeCloseTo(0.1, 5);
    a.dispose();
  });

  test('bitwise the same for 1 and 2 threads; a skipped step leaves everything as it was', () => {
    const r = rng(seed + 7);
    const init = [randomF32(70_001, r), randomF32(5, r)];
    const opts = [1, 2].map((threads) => new Lamb(init, { threads, skipNonFinite: true, weightDecay: 0.1 }));
    for (let t = 0; t < 3; t++) {
      const g = init.map((x) => randomF32(x.length, r));
      for (const o of opts) g.forEach((x, i) => o.setGrads(i, x));
      for (const o of opts) o.step();
    }
    const before = opts[0].readParams(0);
    const bad = randomF32(70_001, r);
    bad[123] = Number.NaN;
    opts[0].setGrads(0, bad);
    const info = opts[0].step();
    expect(info.skipped).toBe(true);
    expect(Buffer.from(opts[0].readParams(0).buffer).equals(Buffer.from(before.buffer))).toBe(true);
    expect(Buffer.from(opts[1].readParams(0).buffer).equals(Buffer.from(before.buffer))).toBe(true);
    expect(opts[0].appliedSteps).toBe(3);
    for (const o of opts) o.dispose();
  });

  test('checkpoint round trip, createOptimizer and FusedTfOptimizer by name', () => {
    const a = createOptimizer('lamb', [7, 9], { lr: 0.02 });
    a.grads[0].fill(0.1);
    a.step();
    const b = new Lamb([7, 9], { lr: 0.02 });
    b.loadStateDict(a.stateDict());
    for (const o of [a, b]) {
      o.grads[1].fill(-0.2);
      o.step();
    }
    expect(Buffer.from(b.readParams(1).buffer).equals(Buffer.from(a.readParams(1).buffer))).toBe(true);
    const tf = new FusedTfOptimizer({ optimizer: 'lamb', lr: 0.01, weightDecay: 0.01 });
    expect(tf.rule).toBe('lamb');
    expect(() => new FusedTfOptimizer({ optimizer: 'lamb', momentum: 0.9 } as never)).toThrow(/config\.momentum.*'sgd'/);
    tf.dispose();
    a.dispose();
    b.dispose();
  });

  test('bad options name the option', () => {
    expect(() => new Lamb([2], { beta1: 1 })).toThrow(/options\.beta1/);
    expect(() => new Lamb([2], { eps: -1 })).toThrow(RangeError);
    expect(() => new Lamb([{ params: [2], weightDecay: -0.1 }])).toThrow(/params\[0\]\.weightDecay/);
    expect(() => new Lamb([2], { momentum: 0.9 } as never)).toThrow(/Unknown option options\.momentum/);
  });
});
