/**
 * Combinators (join, warmup, sampled, scale, fromArray, materialize) and the composition
 * identities between them and the factories.
 */
import { describe, expect, it } from 'vitest';
import { scheduleFromValues } from '../src/refine/index.js';
import {
  constant,
  cosineDecay,
  exponentialDecay,
  fromArray,
  join,
  linear,
  linearDecay,
  materialize,
  polynomialDecay,
  rex,
  sampled,
  scale,
  warmup,
  type Schedule,
} from '../src/schedules/index.js';

function expectClose(got: number, want: number, what = '', rel = 1e-12, abs = 1e-15): void {
  const tol = rel * Math.max(Math.abs(got), Math.abs(want)) + abs;
  if (!(Math.abs(got - want) <= tol)) expect.fail(`${what}: got ${got}, want ${want}`);
}

const grid: number[] = [];
for (let t = 0; t <= 150; t += 0.5) grid.push(t);
grid.push(1e9);

describe('join (optax join_schedules)', () => {
  it('each schedule sees step − previous boundary', () => {
    const seen: number[][] = [[], [], []];
    const rec = (i: number): Schedule => (t) => (seen[i].push(t), i);
    const s = join([rec(0), rec(1), rec(2)], [5, 8]);
    expect([0, 4, 5, 7, 8, 20].map((t) => s(t))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(seen).toEqual([[0, 4], [0, 2], [0, 12]]);
  });
  it('one schedule and no boundary returns it; boundary 0 skips the first', () => {
    const a = constant(1);
    expect(join([a], [])).toBe(a);
    expect(join([constant(1), constant(2)], [0])(0)).toBe(2);
  });
  it('equal boundaries: the later schedule wins', () => {
    const s = join([constant(1), constant(2), constant(3)], [4, 4]);
    expect([3, 4, 5].map((t) => s(t))).toEqual([1, 3, 3]);
  });
  it('copies its arguments', () => {
    const list: Schedule[] = [constant(1), constant(2)];
    const bounds = [3];
    const s = join(list, bounds);
    list[1] = constant(99);
    bounds[0] = 0;
    expect(s(0)).toBe(1);
    expect(s(3)).toBe(2);
  });
});

describe('warmup', () => {
  it('identity: warmup(linearDecay(T − W)) = linearDecay with warmup, bit for bit', () => {
    for (const [W, T, from, end] of [[10, 110, 0, 0], [10, 110, 0.01, 0.05], [1, 2, 0, 0], [37, 1000, 1e-5, 1e-4]]) {
      const a = warmup(linearDecay({ peak: 0.5, steps: T - W, end }), { steps: W, from });
      const b = linearDecay({ peak: 0.5, steps: T, end, warmup: W, warmupFrom: from });
      for (const t of grid) expect(a(t), `t=${t}`).toBe(b(t));
    }
  });
  it('identity holds for cosine, REX and polynomial too', () => {
    const pairs: [Schedule, Schedule][] = [
      [warmup(cosineDecay({ peak: 1, steps: 90, end: 0.1 }), { steps: 10 }), cosineDecay({ peak: 1, steps: 100, end: 0.1, warmup: 10 })],
      [warmup(rex({ peak: 1, steps: 90, beta: 0.7 }), { steps: 10, from: 0.2 }), rex({ peak: 1, steps: 100, beta: 0.7, warmup: 10, warmupFrom: 0.2 })],
      [warmup(polynomialDecay({ peak: 1, steps: 90, power: 3 }), { steps: 10 }), polynomialDecay({ peak: 1, steps: 100, power: 3, warmup: 10 })],
      [warmup(exponentialDecay({ peak: 1, gamma: 0.9 }), { steps: 10 }), exponentialDecay({ peak: 1, gamma: 0.9, warmup: 10 })],
    ];
    for (const [a, b] of pairs) for (const t of grid) expectClose(a(t), b(t), `t=${t}`);
  });
  it('= join([linear(from → s(0)), s], [W]) (optax warmup construction)', () => {
    const s = cosineDecay({ peak: 2, steps: 50, end: 0.2 });
    const a = warmup(s, { steps: 7, from: 0.5 });
    const b = join([linear({ from: 0.5, to: s(0), steps: 7 }), s], [7]);
    for (const t of grid) expect(a(t), `t=${t}`).toBe(b(t));
  });
  it('optax warmup_cosine_decay_schedule = join(linear, cosine) = cosineDecay with warmup', () => {
    const a = join([linear({ from: 0, to: 1, steps: 10 }), cosineDecay({ peak: 1, steps: 90, end: 0.01 })], [10]);
    const b = cosineDecay({ peak: 1, steps: 100, warmup: 10, end: 0.01 });
    for (const t of grid) expectClose(a(t), b(t), `t=${t}`);
  });
  it('steps 0 returns the schedule itself; s(0) is read once', () => {
    const s = constant(1);
    expect(warmup(s, { steps: 0 })).toBe(s);
    let calls = 0;
    const counted: Schedule = (t) => (calls++, 1 - t / 100);
    const w = warmup(counted, { steps: 4 });
    expect(calls).toBe(1);
    expect([0, 1, 2, 3].map((t) => w(t))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(calls).toBe(1);
    expect(w(4)).toBe(1);
    expect(w(54)).toBe(0.5);
  });
});

describe('sampled (REX sampling rate)', () => {
  it('reads the profile every k steps and holds it', () => {
    const r = rex({ peak: 1, steps: 100 });
    const s = sampled(r, 10);
    for (let t = 0; t < 120; t++) expect(s(t)).toBe(r(Math.floor(t / 10) * 10));
    expect(s(9.99)).toBe(r(0));
  });
  it('every = 1 is the identity', () => {
    const r = rex({ peak: 1, steps: 100 });
    expect(sampled(r, 1)).toBe(r);
  });
  it('a sampled decreasing schedule stays monotone and never below the profile', () => {
    const r = cosineDecay({ peak: 1, steps: 1000 });
    const s = sampled(r, 37);
    let prev = Infinity;
    for (let t = 0; t < 1100; t++) {
      expect(s(t)).toBeLessThanOrEqual(prev);
      expect(s(t)).toBeGreaterThanOrEqual(r(t));
      prev = s(t);
    }
  });
});

describe('scale', () => {
  it('factor·schedule(t)', () => {
    const a = scale(linearDecay({ peak: 1, steps: 100, end: 0.1, warmup: 5 }), 3e-4);
    const b = linearDecay({ peak: 3e-4, steps: 100, end: 3e-5, warmup: 5 });
    for (const t of grid) expectClose(a(t), b(t), `t=${t}`);
    expect(scale(constant(2), 0)(5)).toBe(0);
    expect(scale(constant(2), -1)(5)).toBe(-2);
  });
});

describe('fromArray / materialize', () => {
  it('materialize evaluates at 0..n−1 into a Float64Array', () => {
    const s = cosineDecay({ peak: 1, steps: 10 });
    const m = materialize(s, 12);
    expect(m).toBeInstanceOf(Float64Array);
    expect(m.length).toBe(12);
    for (let i = 0; i < 12; i++) expect(m[i]).toBe(s(i));
    expect(materialize(s, 0).length).toBe(0);
  });
  it('fromArray(materialize(s, n)) = s on 0..n−1; hold / zero after', () => {
    const s = rex({ peak: 1, steps: 20, end: 0.1 });
    const hold = fromArray(materialize(s, 15));
    const zero = fromArray(materialize(s, 15), { after: 'zero' });
    for (let t = 0; t < 15; t++) {
      expect(hold(t)).toBe(s(t));
      expect(zero(t)).toBe(s(t));
    }
    expect(hold(15)).toBe(s(14));
    expect(hold(1e9)).toBe(s(14));
    expect(zero(15)).toBe(0);
    expect(zero(Infinity)).toBe(0);
  });
  it('fractional steps read the step below; the input is copied; arrays and typed arrays', () => {
    const values = [5, 4, 3];
    const s = fromArray(values);
    values[0] = 100;
    expect([0, 0.5, 0.999, 1, 2.5].map((t) => s(t))).toEqual([5, 5, 5, 4, 3]);
    expect(fromArray(new Float32Array([0.5, 0.25]))(1)).toBe(0.25);
  });
  it("stretched over `steps`: the same conversion as refine's scheduleFromValues", () => {
    const values = [1, 0.6, 0.5, 0.1, 0];
    const probes = [-2, 0, 1, 2.5, 3, 7, 10, 11, 12, 1e9, Infinity];
    for (const steps of [2, 5, 9, 12]) {
      const a = fromArray(values, { steps });
      const b = scheduleFromValues(values, { steps });
      expect(probes.map((t) => a(t))).toEqual(probes.map((t) => b(t)));
    }
    expect([0, 1, 2, 3, 4].map((t) => fromArray([1, 0.5, 0], { steps: 5 })(t))).toEqual([1, 0.75, 0.5, 0.25, 0]);
    expect(fromArray([1, 0.5], { steps: 3, after: 'zero' })(3)).toBe(0);
    expect(Number.isNaN(fromArray([1, 0.5], { steps: 3 })(NaN))).toBe(true);
    expect(() => fromArray([1], { steps: 1 })).toThrow(/^Expected an integer >= 2 for options\.steps but received 1/);
  });
});
