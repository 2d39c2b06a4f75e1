/**
 * Closed-form refinement (refineSchedule and friends): the invariants of the issue, the
 * authors' numpy/scipy reference, edge cases and errors.
 */
import { describe, expect, it } from 'vitest';
import { refinedSchedule, refineSchedule, refineScheduleDetailed, refinementWidth, scheduleFromValues } from '../src/refine/index.js';

// numpy/scipy reference (scipy 1.17.1), the authors' recipe:
//   w = 2*(int(tau*T)//2) + 1
//   g = median_filter(np.pad(G, (0, 2*w), mode='reflect'), size=w, mode='nearest')[:T]
//   wt = g**-2 (sgd) or 1/g (adam); eta[t] = wt[t] * wt[t+1:].sum(); eta / eta.max()
const G = [
  6.2523, 5.1708, 4.5304, 3.7582, 3.1505, 2.927, 2.2233, 1.949, 1.9829, 1.549, 1.4283, 1.5771, 1.482, 1.6525, 1.4656, 1.3746, 1.34, 1.1951,
  1.0614, 1.1395, 1.3797, 1.1265, 1.2052, 1.0178, 1.4274, 1.0869, 1.1413, 1.446, 1.2595, 1.4271, 1.3226, 1.373, 1.0474, 1.2719, 1.2549, 1.4365,
  1.1812, 1.2996, 1.03, 1.1941,
];
const REF_SGD = [
  0.05012074795972913, 0.07314411701273517, 0.09505488346762034, 0.13764526316321316, 0.19488599066357784, 0.2244672809110283, 0.38509030949208145,
  0.47787067111477677, 0.48793849987425897, 0.729567203831918, 0.7394833584803342, 0.7226896505385622, 0.7694682934327454, 0.7494254445240709,
  0.7453362259413674, 0.8202069539588723, 0.8331237536260716, 1.0, 0.9526046994554079, 0.9904892423086239, 0.9331443225864686, 0.8757994028643136,
  0.737089396706931, 0.7836384518383713, 0.7064622927995857, 0.6494782840392016, 0.4948753114820243, 0.4564551151500479, 0.38234354737155724,
  0.32758231798600046, 0.32142776669602885, 0.2898313237364689, 0.27645444489201193, 0.23951074412957243, 0.20705731472482933, 0.16461561779948725,
  0.13011925076168993, 0.0961528913587766, 0.04859862633670517, 0.0,
];
const REF_ADAM = [
  0.28751648459557233, 0.3451685341427647, 0.390724951405256, 0.46630609632041115, 0.5495618782097601, 0.5837746616012326, 0.7551125393923025,
  0.8297715687611023, 0.826723401581011, 0.9949778770487975, 0.9853528128603949, 0.9576781177197192, 0.9707403980688979, 0.9405068390879676,
  0.9201171004579587, 0.9458873149901181, 0.9333301910632797, 1.0, 0.953508111434361, 0.9488933836553821, 0.8977538195484082, 0.8466142554414341,
  0.7547462006136488, 0.7551478928333284, 0.6943770034292212, 0.6433986215287794, 0.5411586954862898, 0.4992996484153778, 0.43751831925661155,
  0.3862334422677504, 0.3629913338146435, 0.32503112049967753, 0.2969405472366085, 0.2558937055488727, 0.21719378186480912, 0.17324396487107308,
  0.13342439373181578, 0.09364817422831058, 0.047078383718277966, 0.0,
];
const REF_SGD_TAU03 = [
  0.056029987683760205, 0.08176137471943899, 0.10624254627479895, 0.15382250826941105, 0.21774356754376203, 0.25073083672378615, 0.42995546080203445,
  0.5332387871179682, 0.5441404748483625, 0.7418118187612265, 0.7962232874452262, 0.805800250746309, 0.8569462150541995, 0.8518085044162377,
  0.8698029741843148, 0.9010621675313079, 0.876198905857088, 0.887081445708014, 0.8521313266012365, 1.0, 0.961734130025783, 0.9064944864142962,
  0.8512548428028092, 0.796015199191322, 0.7293182485179321, 0.6230094921141096, 0.5782304121531134, 0.5334513321921174, 0.48867225223112126,
  0.43613216639813923, 0.3930739551333636, 0.35001574386858797, 0.30695753260381237, 0.2638993213390367, 0.22434209135711455, 0.17693089389165897,
  0.13631781964653372, 0.09087854643102249, 0.04543927321551124, 0.0,
];

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol);
  }
}

function argmax(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}

describe('refineSchedule matches the numpy/scipy reference', () => {
  it('sgd, tau 0.1', () => expectClose(refineSchedule(G, { method: 'sgd' }), REF_SGD, 1e-14));
  it('adam, tau 0.1', () => expectClose(refineSchedule(G, { method: 'adam' }), REF_ADAM, 1e-14));
  it('sgd, tau 0.3', () => expectClose(refineSchedule(G, { method: 'sgd', tau: 0.3 }), REF_SGD_TAU03, 1e-14));
});

describe('refineSchedule invariants', () => {
  it('constant norms give exact linear decay', () => {
    for (const T of [2, 3, 10, 1001, 100_000]) {
      for (const method of ['sgd', 'adam'] as const) {
        const peak = 3e-4;
        const eta = refineSchedule(new Float64Array(T).fill(2.5), { method, peak });
        for (let t = 0; t < T; t++) expect(eta[t]).toBe(((T - 1 - t) / (T - 1)) * peak);
      }
    }
  });

  it('scaling all norms by c > 0 changes nothing (exactly for powers of 2)', () => {
    const base = refineSchedule(G, { method: 'sgd' });
    for (const c of [2 ** -40, 0.5, 4, 2 ** 60]) expect(refineSchedule(G.map((g) => g * c), { method: 'sgd' })).toEqual(base);
    for (const c of [1e-30, 0.3, 7, 1e30]) {
      expectClose(refineSchedule(G.map((g) => g * c), { method: 'sgd' }), base, 1e-13);
      expectClose(refineSchedule(G.map((g) => g * c), { method: 'adam' }), refineSchedule(G, { method: 'adam' }), 1e-13);
    }
  });

  it('a spike of up to ⌊w/2⌋ steps away from the ends is ignored', () => {
    const T = 1000;
    const w = refinementWidth(T, 0.1); // 101
    const h = Math.floor(w / 2);
    const flat = refineSchedule(new Float64Array(T).fill(1), { method: 'sgd' });
    // (at the ends the boundary copies repeat the spike: the first value on the left, the
    // mirror image on the right, so a spike there can fill half a window)
    for (const start of [h, 300, T - 2 * h - 1]) {
      const g = new Float64Array(T).fill(1);
      g.fill(1000, start, start + h); // 50 steps of a huge spike
      expect(refineSchedule(g, { method: 'sgd' })).toEqual(flat);
      const dip = new Float64Array(T).fill(1);
      dip.fill(1e-3, start, start + h);
      expect(refineSchedule(dip, { method: 'adam' })).toEqual(refineSchedule(new Float64Array(T).fill(1), { method: 'adam' }));
    }
    // a plateau longer than the half window is not a spike: it shows
    const g = new Float64Array(T).fill(1);
    g.fill(10, 300, 300 + w);
    expect(refineSchedule(g, { method: 'sgd' })).not.toEqual(flat);
  });

  it('large early norms produce a warm-up, then decay to 0', () => {
    const T = 5000;
    const g = Float64Array.from({ length: T }, (_, t) => 1 + 9 * Math.exp(-t / (0.05 * T)));
    for (const method of ['sgd', 'adam'] as const) {
      const eta = refineSchedule(g, { method });
      const k = argmax(eta);
      expect(k).toBeGreaterThan(0.02 * T);
      expect(k).toBeLessThan(0.5 * T);
      expect(eta[0]).toBeLessThan(0.5);
      for (let t = 1; t <= k; t++) expect(eta[t]).toBeGreaterThanOrEqual(eta[t - 1]); // smooth trace: monotone warm-up
      for (let t = k + 1; t < T; t++) expect(eta[t]).toBeLessThanOrEqual(eta[t - 1]);
      expect(eta[T - 1]).toBe(0);
    }
    // sgd weights (ĝ⁻²) react more strongly than adam weights (ĝ⁻¹)
    expect(refineSchedule(g, { method: 'sgd' })[0]).toBeLessThan(refineSchedule(g, { method: 'adam' })[0]);
  });

  it('rising norms at the end give a faster anneal than linear', () => {
    const T = 2000;
    const g = Float64Array.from({ length: T }, (_, t) => (t < 0.7 * T ? 1 : 1 + (10 * (t - 0.7 * T)) / T));
    const eta = refineSchedule(g, { method: 'sgd' });
    expect(eta[Math.floor(0.9 * T)]).toBeLessThan(0.1 * 0.9); // linear decay would be 0.1 there
  });

  it('the last value is 0 and the max is peak', () => {
    const eta = refineSchedule(G, { method: 'adam', peak: 0.02 });
    expect(eta[eta.length - 1]).toBe(0);
    expect(Math.max(...eta)).toBe(0.02);
  });
});

describe('refineSchedule edge cases', () => {
  it('T = 2 gives [peak, 0]', () => {
    expect(Array.from(refineSchedule([3, 7], { method: 'sgd', peak: 0.5 }))).toEqual([0.5, 0]);
  });

  it('documented example', () => {
    expect(Array.from(refineSchedule([2, 2, 2, 2, 2], { method: 'sgd' }))).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const e = refineSchedule([8, 4, 2, 2, 2], { method: 'sgd', tau: 0, peak: 0.1 });
    expectClose(e, [0.0102, 0.0375, 0.1, 0.05, 0], 1e-4);
  });

  it('refinementWidth', () => {
    expect(refinementWidth(1000, 0.1)).toBe(101);
    expect(refinementWidth(1_000_000)).toBe(100001);
    expect(refinementWidth(15, 0.1)).toBe(1);
    expect(refinementWidth(30, 0.1)).toBe(3); // 0.1 * 30 = 3.0000000000000004 → 3, as Python's int()
    expect(refinementWidth(40, 0.1)).toBe(5);
    expect(refinementWidth(10, 1)).toBe(11);
    expect(refineScheduleDetailed(G, { method: 'sgd' }).width).toBe(5);
  });

  it('zeros: isolated zeros are filtered out, a window of zeros is a clear error', () => {
    const g = Array.from({ length: 100 }, (_, t) => (t % 17 === 5 ? 0 : 1));
    expect(refineSchedule(g, { method: 'sgd' })).toEqual(refineSchedule(new Array(100).fill(1), { method: 'sgd' }));
    const z = new Array(100).fill(1);
    z.fill(0, 40, 60);
    expect(() => refineSchedule(z, { method: 'sgd' })).toThrow(RangeError);
    expect(() => refineSchedule(z, { method: 'sgd' })).toThrow(/median over every window of width 11 is > 0 .* step 40/);
    expect(() => refineSchedule([0, 0, 0], { method: 'sgd' })).toThrow(RangeError);
  });

  it('lengths 0 and 1 are clear errors', () => {
    expect(() => refineSchedule([], { method: 'sgd' })).toThrow(/Expected at least 2 norms .* for norms but received Array\(0\)/);
    expect(() => refineSchedule([1], { method: 'sgd' })).toThrow(RangeError);
  });

  it('NaN, Infinity and negative norms are clear errors naming the index', () => {
    expect(() => refineSchedule([1, NaN, 1], { method: 'sgd' })).toThrow(/Expected a finite number >= 0 for norms\[1\] but received NaN/);
    expect(() => refineSchedule([1, 1, Infinity], { method: 'adam' })).toThrow(/for norms\[2\] but received Infinity/);
    expect(() => refineSchedule([1, -1, 1], { method: 'adam' })).toThrow(RangeError);
  });

  it('bad options', () => {
    expect(() => refineSchedule(G, undefined as never)).toThrow(/Expected one of 'sgd', 'adam' for options.method but received undefined/);
    expect(() => refineSchedule(G, { method: 'adamw' as never })).toThrow(RangeError);
    expect(() => refineSchedule(G, { method: 'sgd', tau: 1.5 })).toThrow(/Expected a number in \[0, 1\] for options.tau but received 1.5/);
    expect(() => refineSchedule(G, { method: 'sgd', peak: 0 })).toThrow(/Expected a finite number > 0 for options.peak/);
    expect(() => refineSchedule(G, { method: 'sgd', peak: '1' as never })).toThrow(TypeError);
    expect(() => refineSchedule('x' as never, { method: 'sgd' })).toThrow(TypeError);
  });

  it('extreme dynamic range does not overflow', () => {
    const g = [1e-200, 1e-200, 1e-200, 1e200, 1e200, 1e200, 1e200];
    const eta = refineSchedule(g, { method: 'sgd', tau: 0 });
    expect(eta.every(Number.isFinite)).toBe(true);
    expect(Math.max(...eta)).toBe(1);
  });

  it('refineScheduleDetailed returns the smoothed norms', () => {
    const r = refineScheduleDetailed([3, 1, ...new Array(18).fill(3)], { method: 'sgd' });
    expect(r.width).toBe(3);
    expect(Array.from(r.smoothed)).toEqual(new Array(20).fill(3));
    expect(r.schedule[1]).toBeCloseTo(18 / 19, 15);
  });
});

describe('refinedSchedule / scheduleFromValues', () => {
  it('reads the refined values at integer steps, 0 past the end', () => {
    const values = refineSchedule(G, { method: 'sgd', peak: 0.1 });
    const lr = refinedSchedule(G, { method: 'sgd', peak: 0.1 });
    for (let t = 0; t < G.length; t++) expect(lr(t)).toBe(values[t]);
    expect(lr(G.length)).toBe(0);
    expect(lr(1e9)).toBe(0);
    expect(lr(Infinity)).toBe(0);
    expect(lr(-5)).toBe(values[0]);
    expect(lr(-Infinity)).toBe(values[0]);
    expect(lr(3.7)).toBe(values[3]);
    expect(lr(NaN)).toBeNaN();
  });

  it('documented examples', () => {
    const lr = refinedSchedule([2, 2, 2, 2, 2], { method: 'sgd', peak: 0.1 });
    expect([lr(0), lr(2), lr(4), lr(100)]).toEqual([0.1, 0.05, 0, 0]);
    expect(refinedSchedule([2, 2, 2, 2, 2], { method: 'sgd', steps: 9 })(2)).toBe(0.75);
    const f = scheduleFromValues([1, 0.5, 0]);
    expect([f(0), f(1), f(1.7), f(2), f(1e9), f(-3)]).toEqual([1, 0.5, 0.5, 0, 0, 1]);
    expect(scheduleFromValues([1, 0.5, 0], { steps: 5 })(1)).toBe(0.75);
  });

  it('stretches over a longer run, keeping the first and last values', () => {
    const f = scheduleFromValues([1, 0], { steps: 101 });
    expect(f(0)).toBe(1);
    expect(f(50)).toBeCloseTo(0.5, 15);
    expect(f(100)).toBe(0);
    const g = scheduleFromValues([0, 1, 0], { steps: 3 });
    expect([g(0), g(1), g(2)]).toEqual([0, 1, 0]);
  });

  it('bad arguments throw when the schedule is built, never when it is called', () => {
    expect(() => scheduleFromValues([])).toThrow(RangeError);
    expect(() => scheduleFromValues([1, NaN])).toThrow(/values\[1\]/);
    expect(() => scheduleFromValues([1, 0], { steps: 1 })).toThrow(/Expected an integer >= 2 for options.steps but received 1/);
    expect(() => refinedSchedule(G, { method: 'sgd', steps: 0.5 })).toThrow(RangeError);
    const f = scheduleFromValues([1]);
    expect(f(0)).toBe(1);
    expect(f(10)).toBe(1);
    expect(() => f('x' as never)).not.toThrow();
  });
});
