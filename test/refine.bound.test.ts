/**
 * The last-iterate bound, its analytic gradient, and refineByBound compared with the
 * closed form on the same traces.
 */
import { describe, expect, it } from 'vitest';
import { lastIterateBound, refineByBound, refineByBoundDetailed, refineSchedule } from '../src/refine/index.js';
import { mulberry32 as rng } from '../src/random.js';


/** B written straight from the formula in docs/papers.md (1-based t, O(T²)). */
function boundByDefinition(eta: number[], G: number[], D: number, method: 'sgd' | 'adam'): number {
  const T = eta.length;
  const q = G.map((g) => (method === 'sgd' ? g * g : g));
  let sum = 0;
  for (const e of eta) sum += e;
  let v = (D * D) / (2 * sum);
  for (let t = 1; t <= T; t++) {
    let denom = 0;
    for (let p = Math.min(t + 1, T); p <= T; p++) denom += eta[p - 1];
    v += (0.5 * q[t - 1] * eta[t - 1] ** 2) / denom;
  }
  return v;
}

function argmax(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}

describe('lastIterateBound', () => {
  it('documented example', () => {
    const r = lastIterateBound([1, 1], [1, 1]);
    expect(r.value).toBe(1.25);
    expect(Array.from(r.gradient)).toEqual([0.875, -0.125]);
  });

  it('matches the formula of docs/papers.md', () => {
    const r = rng(5);
    for (const T of [1, 2, 3, 10, 37]) {
      const eta = Array.from({ length: T }, () => 0.01 + r());
      const G = Array.from({ length: T }, () => r() * 3);
      for (const method of ['sgd', 'adam'] as const) {
        const D = 0.5 + r() * 2;
        const v = lastIterateBound(eta, G, { method, D }).value;
        expect(Math.abs(v - boundByDefinition(eta, G, D, method)) / v).toBeLessThan(1e-12);
      }
    }
  });

  it('analytic gradient = central finite differences', () => {
    const r = rng(6);
    for (const T of [1, 2, 7, 50]) {
      const eta = Array.from({ length: T }, () => 0.05 + r());
      const G = Array.from({ length: T }, () => 0.1 + r() * 3);
      for (const method of ['sgd', 'adam'] as const) {
        const { gradient } = lastIterateBound(eta, G, { method, D: 1.3 });
        for (let k = 0; k < T; k++) {
          const h = 1e-6 * eta[k];
          const up = [...eta];
          const dn = [...eta];
          up[k] += h;
          dn[k] -= h;
          const fd = (lastIterateBound(up, G, { method, D: 1.3 }).value - lastIterateBound(dn, G, { method, D: 1.3 }).value) / (2 * h);
          expect(Math.abs(gradient[k] - fd), `T=${T} k=${k} ${method}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });

  it('errors', () => {
    expect(() => lastIterateBound([], [])).toThrow(RangeError);
    expect(() => lastIterateBound([1, 0], [1, 1])).toThrow(/Expected a finite number > 0 for eta\[1\] but received 0/);
    expect(() => lastIterateBound([1, 1], [1])).toThrow(/for norms/);
    expect(() => lastIterateBound([1], [NaN])).toThrow(RangeError);
    expect(() => lastIterateBound([1], [1], { D: -1 })).toThrow(/options.D/);
  });
});

describe('refineByBound', () => {
  it('constant norms: the minimiser found by scipy L-BFGS-B (scipy 1.17.1, bounds η >= 1e-9)', () => {
    // scipy.optimize.minimize(B, x0, method='L-BFGS-B', bounds=[(1e-9, None)]*T, ftol=1e-15, gtol=1e-12), normalised
    const SCIPY_T5 = [0.67223951, 0.58424618, 0.49807675, 0.41421355, 1.0];
    const SCIPY_T20 = [
      1.0, 0.95347473, 0.9070589, 0.86076275, 0.81459852, 0.76857998, 0.72272319, 0.6770472, 0.63157423, 0.58633071, 0.54134873, 0.4966669,
      0.45233288, 0.40840608, 0.36496147, 0.32209552, 0.27993456, 0.23864753, 0.19846548, 0.47913809,
    ];
    const r5 = refineByBound(new Array(5).fill(1), { method: 'sgd', tau: 0 });
    const r20 = refineByBound(new Array(20).fill(3), { method: 'adam', tau: 0 });
    SCIPY_T5.forEach((v, i) => expect(r5[i]).toBeCloseTo(v, 6));
    SCIPY_T20.forEach((v, i) => expect(r20[i]).toBeCloseTo(v, 6));
  });

  it('documented example, beside the closed form', () => {
    const b = refineByBound(new Array(10).fill(1), { method: 'sgd', tau: 0 });
    [1, 0.917, 0.836, 0.754, 0.674, 0.595, 0.517, 0.441, 0.367, 0.885].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 3));
    const c = refineSchedule(new Array(10).fill(1), { method: 'sgd', tau: 0 });
    c.forEach((v, i) => expect(v).toBeCloseTo((9 - i) / 9, 15));
  });

  it('long constant trace: linear decay except the raised last step', () => {
    const T = 2000;
    const b = refineByBoundDetailed(new Float64Array(T).fill(1), { method: 'sgd', tau: 0 });
    expect(b.converged).toBe(true);
    // η_t ∝ T − t + c over all but the last step
    for (let t = 0; t < T - 1; t += 97) expect(Math.abs(b.schedule[t] - (T - t) / T)).toBeLessThan(2e-3);
    expect(b.schedule[T - 1] / b.schedule[T - 2]).toBeGreaterThan(1.5);
  });

  it('compared with the closed form on the same noisy warm-up trace: same shape except the last 1%', () => {
    const r = rng(7);
    const T = 4000;
    const g = Float64Array.from({ length: T }, (_, t) => 1 + 5 * Math.exp(-t / (0.05 * T)) + 0.3 * r() + (r() < 0.002 ? 30 : 0));
    for (const method of ['sgd', 'adam'] as const) {
      const closed = refineSchedule(g, { method });
      const bound = refineByBoundDetailed(g, { method });
      expect(bound.converged).toBe(true);
      expect(bound.bound).toBeLessThan(bound.initialBound);
      let maxDiff = 0;
      for (let t = 0; t < 0.99 * T; t++) maxDiff = Math.max(maxDiff, Math.abs(closed[t] - bound.schedule[t]));
      expect(maxDiff, method).toBeLessThan(3e-3);
      // both warm up, to the same peak position
      expect(Math.abs(argmax(closed) - argmax(bound.schedule))).toBeLessThan(0.02 * T);
      expect(argmax(bound.schedule)).toBeGreaterThan(0.05 * T);
      // they differ at the end: the closed form reaches 0, the minimiser stays positive
      expect(closed[T - 1]).toBe(0);
      expect(bound.schedule[T - 1]).toBeGreaterThan(0);
    }
  });

  it('D sets the size of η, not its shape; the scale of the norms changes nothing', () => {
    const g = Array.from({ length: 300 }, (_, t) => 1 + 4 * Math.exp(-t / 20) + 0.1 * Math.sin(t));
    const a = refineByBoundDetailed(g, { method: 'sgd', D: 1 });
    const b = refineByBoundDetailed(g, { method: 'sgd', D: 50 });
    const c = refineByBoundDetailed(g.map((x) => x * 1e3), { method: 'sgd', D: 1 });
    for (let t = 0; t < g.length; t++) {
      expect(Math.abs(a.schedule[t] - b.schedule[t])).toBeLessThan(1e-6);
      expect(Math.abs(a.schedule[t] - c.schedule[t])).toBeLessThan(1e-6);
    }
    expect(b.eta[10] / a.eta[10]).toBeCloseTo(50, 4);
    expect(a.eta[10] / c.eta[10]).toBeCloseTo(1e3, 2); // η ∝ D / G
    expect(b.bound / a.bound).toBeCloseTo(50, 4);
  });

  it('peak, iterations and errors', () => {
    const b = refineByBoundDetailed(new Array(50).fill(1), { method: 'sgd', peak: 0.3, iterations: 0 });
    expect(b.iterations).toBe(0);
    expect(Math.max(...b.schedule)).toBeCloseTo(0.3, 15);
    expect(b.bound).toBe(b.initialBound);
    expect(() => refineByBound([1], { method: 'sgd' })).toThrow(RangeError);
    expect(() => refineByBound([1, NaN, 2], { method: 'sgd' })).toThrow(/norms\[1\]/);
    expect(() => refineByBound([1, 2, 3], { method: 'sgd', iterations: -1 })).toThrow(/options.iterations/);
    expect(() => refineByBound([1, 2, 3], {} as never)).toThrow(/options.method/);
  });
});
