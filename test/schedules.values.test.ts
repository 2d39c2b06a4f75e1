/**
 * Closed-form values, boundaries (0, W − 1, W, T − 1, T, 1e9) and monotonicity of every
 * factory, from the formulas in their TSDoc.
 */
import { describe, expect, it } from 'vitest';
import {
  budgetedMultiStep,
  constant,
  cosineDecay,
  exponentialDecay,
  inverseSqrt,
  linear,
  linearDecay,
  multiStep,
  polynomialDecay,
  rewarm,
  rex,
  warmupStableDecay,
  type Schedule,
} from '../src/schedules/index.js';

function expectClose(got: number, want: number, what = '', rel = 1e-12, abs = 1e-15): void {
  const tol = rel * Math.max(Math.abs(got), Math.abs(want)) + abs;
  if (!(Math.abs(got - want) <= tol)) expect.fail(`${what}: got ${got}, want ${want}`);
}

/** Asserts s is non-increasing (dir −1) or non-decreasing (dir +1) on [a, b] sampled by `by`. */
function expectMonotone(s: Schedule, a: number, b: number, dir: 1 | -1, by = 1): void {
  let prev = s(a);
  for (let t = a + by; t <= b + 1e-9; t += by) {
    const v = s(t);
    if (dir < 0 ? v > prev : v < prev) expect.fail(`not ${dir < 0 ? 'non-increasing' : 'non-decreasing'} at t=${t}: ${prev} → ${v}`);
    prev = v;
  }
}

const peak = 0.5;
const end = 0.05;
const W = 10;
const T = 110;
const from = 0.01;
const z = (t: number) => Math.min(1, Math.max(0, (t - W) / (T - W)));

const family: [string, (extra: object) => Schedule, (z: number) => number][] = [
  ['linearDecay', (x) => linearDecay({ peak, steps: T, end, warmup: W, warmupFrom: from, ...x }), (q) => 1 - q],
  ['cosineDecay', (x) => cosineDecay({ peak, steps: T, end, warmup: W, warmupFrom: from, ...x }), (q) => 0.5 * (1 + Math.cos(Math.PI * q))],
  ['rex', (x) => rex({ peak, steps: T, end, warmup: W, warmupFrom: from, ...x }), (q) => (1 - q) / (0.5 + 0.5 * (1 - q))],
  ['rex β=0.9', (x) => rex({ peak, steps: T, end, warmup: W, warmupFrom: from, beta: 0.9, ...x }), (q) => (1 - q) / (0.1 + 0.9 * (1 - q))],
  ['polynomialDecay p=2', (x) => polynomialDecay({ peak, steps: T, end, warmup: W, warmupFrom: from, power: 2, ...x }), (q) => (1 - q) ** 2],
  ['polynomialDecay p=0.5', (x) => polynomialDecay({ peak, steps: T, end, warmup: W, warmupFrom: from, power: 0.5, ...x }), (q) => Math.sqrt(1 - q)],
];

describe('warm-up + decay family: the shared conventions', () => {
  for (const [name, make, f] of family) {
    describe(name, () => {
      const lr = make({});
      it('boundaries 0, W − 1, W, T − 1, T, 1e9', () => {
        expect(lr(0)).toBe(from);
        expectClose(lr(W - 1), from + ((peak - from) * (W - 1)) / W, 'W − 1');
        expect(lr(W)).toBe(peak);
        expectClose(lr(T - 1), end + (peak - end) * f((T - 1 - W) / (T - W)), 'T − 1');
        expect(lr(T)).toBe(end);
        expect(lr(1e9)).toBe(end);
      });
      it('closed form at every integer step and at fractional steps', () => {
        for (let t = 0; t <= T + 20; t += 0.25) {
          const want = t < W ? from + ((peak - from) * t) / W : end + (peak - end) * f(z(t));
          expectClose(lr(t), want, `t=${t}`);
        }
      });
      it('monotone: non-decreasing warm-up, non-increasing decay', () => {
        expectMonotone(lr, 0, W, 1, 0.125);
        expectMonotone(lr, W, T + 10, -1, 0.125);
      });
      it('without warm-up: peak at 0; warmup = steps: warm-up then end at T', () => {
        const noWarm = make({ warmup: 0 });
        expect(noWarm(0)).toBe(peak);
        const allWarm = make({ warmup: T });
        expectClose(allWarm(T - 1), from + ((peak - from) * (T - 1)) / T, 'T − 1');
        expect(allWarm(T)).toBe(end);
      });
      it('end above peak is allowed and then rises (the formula, no clamping)', () => {
        const up = make({ end: 1, warmup: 0 });
        expectMonotone(up, 0, T + 5, 1);
        expect(up(T)).toBe(1);
      });
    });
  }

  it('rex β = 0 is linear decay; rex β = 0.5 is the paper profile (1 − z)/(½ + ½(1 − z))', () => {
    const a = rex({ peak: 1, steps: 100, beta: 0 });
    const b = linearDecay({ peak: 1, steps: 100 });
    for (let t = 0; t <= 120; t++) expectClose(a(t), b(t), `t=${t}`);
    const r = rex({ peak: 2, steps: 4 });
    // z = 1/4, 1/2, 3/4: 2·(3/4)/(7/8), 2·(1/2)/(3/4), 2·(1/4)/(5/8)
    expectClose(r(1), 12 / 7, 'z=1/4');
    expectClose(r(2), 4 / 3, 'z=1/2');
    expectClose(r(3), 0.8, 'z=3/4');
    // REX lies above linear decay inside (0, 1)
    for (let t = 1; t < 100; t++) expect(rex({ peak: 1, steps: 100 })(t)).toBeGreaterThan(b(t));
  });

  it('rex β = 1 holds peak until T, then end (no 0/0)', () => {
    const r = rex({ peak: 1, steps: 10, beta: 1, end: 0.1 });
    for (let t = 0; t < 10; t++) expect(r(t)).toBe(1);
    expect(r(9.999)).toBe(1);
    expect(r(10)).toBe(0.1);
  });

  it('polynomialDecay defaults to power 1 = linearDecay', () => {
    const a = polynomialDecay({ peak: 1, steps: 37, warmup: 5 });
    const b = linearDecay({ peak: 1, steps: 37, warmup: 5 });
    for (let t = 0; t < 50; t++) expectClose(a(t), b(t), `t=${t}`);
  });

  it('steps = 1: peak at 0, end from 1', () => {
    const lr = cosineDecay({ peak: 1, steps: 1, end: 0.2 });
    expect(lr(0)).toBe(1);
    expect(lr(1)).toBe(0.2);
  });

  it('paper 1 check: linear decay with T steps gives T, T − 1, …, 1 (scaled) before 0', () => {
    const lr = linearDecay({ peak: 1, steps: 8 });
    expect([...Array(9).keys()].map((t) => lr(t) * 8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });
});

describe('constant and linear', () => {
  it('constant', () => {
    const c = constant(3e-4);
    for (const t of [0, 1, 7.5, 1e9, Infinity, -3]) expect(c(t)).toBe(3e-4);
    expect(constant(0)(5)).toBe(0);
  });
  it('linear: from → to over steps, then to; steps 0 = to everywhere', () => {
    const l = linear({ from: 1, to: 0.5, steps: 4 });
    expect([0, 1, 2, 3, 4, 5, 1e9].map((t) => l(t))).toEqual([1, 0.875, 0.75, 0.625, 0.5, 0.5, 0.5]);
    const z0 = linear({ from: 1, to: 0.5, steps: 0 });
    expect(z0(0)).toBe(0.5);
    expectMonotone(linear({ from: 0, to: 1, steps: 100 }), 0, 120, 1, 0.5);
  });
});

describe('warmupStableDecay', () => {
  const base = { peak: 1, steps: 100, warmup: 10, decaySteps: 20, end: 0.1 };
  it('boundaries: 0, W − 1, W, start of decay, T − 1, T, 1e9 (default linear decay, warm-up from end)', () => {
    const lr = warmupStableDecay(base);
    expect(lr(0)).toBe(0.1); // HF: warm-up starts at min_lr_ratio·peak
    expectClose(lr(9), 0.1 + 0.9 * 0.9, 'W − 1');
    expect(lr(10)).toBe(1);
    expect(lr(79)).toBe(1);
    expect(lr(80)).toBe(1);
    expectClose(lr(81), 1 - 0.9 / 20, 'first decay step');
    expectClose(lr(99), 0.1 + 0.9 / 20, 'T − 1');
    expect(lr(100)).toBe(0.1);
    expect(lr(1e9)).toBe(0.1);
  });
  it('warmupFrom overrides the HF start', () => {
    expect(warmupStableDecay({ ...base, warmupFrom: 0 })(0)).toBe(0);
    expectClose(warmupStableDecay({ ...base, warmupFrom: 0 })(5), 0.5, 'mid warm-up');
  });
  it('cosine and 1-sqrt closed forms, monotone decay', () => {
    for (const decay of ['linear', 'cosine', '1-sqrt'] as const) {
      const lr = warmupStableDecay({ ...base, decay });
      const f = decay === 'linear' ? (p: number) => 1 - p : decay === 'cosine' ? (p: number) => 0.5 * (1 + Math.cos(Math.PI * p)) : (p: number) => 1 - Math.sqrt(p);
      for (let t = 80; t < 100; t += 0.5) expectClose(lr(t), 0.1 + 0.9 * f((t - 80) / 20), `${decay} t=${t}`);
      expectMonotone(lr, 0, 10, 1, 0.25);
      expectMonotone(lr, 10, 130, -1, 0.25);
    }
  });
  it('decaySteps 0: a step from peak to end at T; decaySteps = steps − warmup: no stable phase', () => {
    const a = warmupStableDecay({ ...base, decaySteps: 0 });
    expect(a(99)).toBe(1);
    expect(a(100)).toBe(0.1);
    const b = warmupStableDecay({ ...base, decaySteps: 90 });
    expect(b(10)).toBe(1);
    expect(b(11)).toBeLessThan(1);
  });
});

describe('rewarm (paper 2)', () => {
  it('defaults: 1% warm-up from 0, cosine to 0.1·peak at 81%, constant after', () => {
    const lr = rewarm({ peak: 6e-4, steps: 10_000 });
    expect(lr(0)).toBe(0);
    expectClose(lr(99), (6e-4 * 99) / 100, 'W − 1');
    expect(lr(100)).toBe(6e-4);
    expectClose(lr(100 + (8100 - 100) / 2), 6e-5 + (6e-4 - 6e-5) / 2, 'cosine midpoint');
    expect(lr(8100)).toBe(6e-4 * 0.1);
    expect(lr(9999)).toBe(6e-4 * 0.1);
    expect(lr(10_000)).toBe(6e-4 * 0.1);
    expect(lr(1e9)).toBe(6e-4 * 0.1);
    expectMonotone(lr, 0, 100, 1);
    expectMonotone(lr, 100, 10_000, -1);
  });
  it('equals cosineDecay({ peak, steps: decayEnd, warmup, end })', () => {
    const a = rewarm({ peak: 1, steps: 1000, warmup: 20, end: 0.05, decayEnd: 700 });
    const b = cosineDecay({ peak: 1, steps: 700, warmup: 20, end: 0.05 });
    for (let t = 0; t <= 1100; t++) expect(a(t)).toBe(b(t));
  });
  it('warmup 0 (the paper\'s "no warm-up" arm), and decayEnd = steps', () => {
    const a = rewarm({ peak: 1, steps: 100, warmup: 0, decayEnd: 100 });
    expect(a(0)).toBe(1);
    expectClose(a(99), 0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * 99) / 100)), 'T − 1');
    expect(a(100)).toBeCloseTo(0.1, 15);
  });
  it('a long warm-up pushes the default decayEnd up to it', () => {
    const lr = rewarm({ peak: 1, steps: 100, warmup: 90 });
    expect(lr(89)).toBeCloseTo(89 / 90, 15);
    expect(lr(90)).toBe(0.1);
  });
  it('small budgets: rounding of the defaults', () => {
    const lr = rewarm({ peak: 1, steps: 10 }); // warmup round(0.1) = 0, decayEnd round(8.1) = 8
    expect(lr(0)).toBe(1);
    expect(lr(8)).toBe(0.1);
  });
});

describe('multiStep / budgetedMultiStep', () => {
  it('peak·gamma^k with k = #milestones ≤ t, boundaries at each milestone', () => {
    const lr = multiStep({ peak: 1, milestones: [10, 20], gamma: 0.5 });
    expect([0, 9, 10, 19, 20, 1e9].map((t) => lr(t))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(lr(9.999)).toBe(1);
    expectMonotone(lr, 0, 40, -1, 0.5);
  });
  it('default gamma 0.1, no milestones = constant, repeated milestones multiply twice', () => {
    expect(multiStep({ peak: 2, milestones: [5] })(5)).toBeCloseTo(0.2, 15);
    expect(multiStep({ peak: 2, milestones: [] })(1e9)).toBe(2);
    expect(multiStep({ peak: 1, milestones: [3, 3], gamma: 0.5 })(3)).toBe(0.25);
  });
  it('warm-up then milestones counted from step 0', () => {
    const lr = multiStep({ peak: 1, milestones: [20], gamma: 0.1, warmup: 10, warmupFrom: 0.1 });
    expect(lr(0)).toBe(0.1);
    expectClose(lr(9), 0.1 + 0.9 * 0.9, 'W − 1');
    expect(lr(10)).toBe(1);
    expect(lr(19)).toBe(1);
    expectClose(lr(20), 0.1, 'milestone');
  });
  it('budgetedMultiStep: 30-60-90 of T', () => {
    const lr = budgetedMultiStep({ peak: 0.1, steps: 1000 });
    const ref = multiStep({ peak: 0.1, milestones: [300, 600, 900] });
    for (let t = 0; t < 1100; t++) expect(lr(t)).toBe(ref(t));
    expect(lr(299)).toBe(0.1);
    expectClose(lr(300), 0.01, '30%');
    expectClose(lr(600), 0.001, '60%');
    expectClose(lr(900), 0.0001, '90%');
  });
  it('budgetedMultiStep: milestones are round(f·T), custom fractions and gamma', () => {
    const lr = budgetedMultiStep({ peak: 1, steps: 7, fractions: [0.5], gamma: 0.5 }); // round(3.5) = 4
    expect(lr(3)).toBe(1);
    expect(lr(4)).toBe(0.5);
    const l70 = budgetedMultiStep({ peak: 1, steps: 70 }); // 21, 42, 63 despite 0.3·70 = 20.999…
    expect(l70(20)).toBe(1);
    expectClose(l70(21), 0.1);
  });
});

describe('exponentialDecay', () => {
  it('peak·gamma^((t − W)/every), staircase floors, warm-up first', () => {
    const lr = exponentialDecay({ peak: 1, gamma: 0.5, every: 4, warmup: 2 });
    expect(lr(0)).toBe(0);
    expect(lr(1)).toBe(0.5);
    expect(lr(2)).toBe(1);
    expectClose(lr(4), Math.SQRT1_2, 'half a period');
    expect(lr(6)).toBe(0.5);
    expect(lr(1e9)).toBe(0);
    const st = exponentialDecay({ peak: 1, gamma: 0.5, every: 4, staircase: true });
    expect([0, 3, 4, 7.9, 8].map((t) => st(t))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expectMonotone(lr, 2, 100, -1, 0.5);
  });
  it('gamma 1 is constant even at Infinity; gamma > 1 grows', () => {
    const c = exponentialDecay({ peak: 0.3, gamma: 1 });
    expect(c(1e9)).toBe(0.3);
    expect(c(Infinity)).toBe(0.3);
    const g = exponentialDecay({ peak: 1e-7, gamma: 1.1 });
    expectMonotone(g, 0, 100, 1);
    expect(g(1e9)).toBe(Infinity);
  });
});

describe('inverseSqrt', () => {
  it('warm-up from warmupFrom, peak at W, decay monotone to 0', () => {
    const lr = inverseSqrt({ peak: 1, warmup: 100, warmupFrom: 0.1 });
    expect(lr(0)).toBe(0.1);
    expectClose(lr(99), 0.1 + 0.9 * 0.99, 'W − 1');
    expect(lr(100)).toBe(1);
    expectClose(lr(400), 0.5, 'timescale = W: 1/√4');
    expect(lr(1e9)).toBeCloseTo(1 / Math.sqrt(1e7), 12);
    expect(lr(Infinity)).toBe(0);
    expectMonotone(lr, 0, 100, 1);
    expectMonotone(lr, 100, 5000, -1);
  });
  it('no warm-up: timescale 10000 by default', () => {
    const lr = inverseSqrt({ peak: 1 });
    expect(lr(0)).toBe(1);
    expectClose(lr(30_000), 0.5, '1/√4');
  });
});
