/**
 * What every schedule does with steps that are not non-negative integers (documented in
 * src/schedules/index.ts): negative → clamped to 0, fractional → evaluated (continuous
 * profiles) or floored (step-wise ones), NaN → NaN, +Infinity → the limit (NaN without one).
 */
import { describe, expect, it } from 'vitest';
import {
  budgetedMultiStep,
  constant,
  cosineDecay,
  cosineRestarts,
  exponentialDecay,
  fromArray,
  inverseSqrt,
  join,
  linear,
  linearDecay,
  multiStep,
  oneCycle,
  polynomialDecay,
  ReduceOnPlateau,
  rewarm,
  rex,
  sampled,
  scale,
  warmup,
  warmupStableDecay,
  type Schedule,
} from '../src/schedules/index.js';

interface Case {
  s: Schedule;
  /** continuous in t (fractional steps interpolate) or piecewise constant (floored) */
  kind: 'continuous' | 'stepwise';
  /** value at +Infinity (NaN: no limit) */
  atInfinity: number;
}

const cases: Record<string, Case> = {
  constant: { s: constant(0.3), kind: 'stepwise', atInfinity: 0.3 },
  linear: { s: linear({ from: 0.1, to: 1, steps: 10 }), kind: 'continuous', atInfinity: 1 },
  linearDecay: { s: linearDecay({ peak: 1, steps: 100, warmup: 10, warmupFrom: 0.1, end: 0.01 }), kind: 'continuous', atInfinity: 0.01 },
  cosineDecay: { s: cosineDecay({ peak: 1, steps: 100, warmup: 10, end: 0.01 }), kind: 'continuous', atInfinity: 0.01 },
  'cosineDecay (no warm-up)': { s: cosineDecay({ peak: 1, steps: 100 }), kind: 'continuous', atInfinity: 0 },
  rex: { s: rex({ peak: 1, steps: 100, warmup: 10 }), kind: 'continuous', atInfinity: 0 },
  polynomialDecay: { s: polynomialDecay({ peak: 1, steps: 100, power: 2, end: 0.1 }), kind: 'continuous', atInfinity: 0.1 },
  warmupStableDecay: { s: warmupStableDecay({ peak: 1, steps: 100, warmup: 10, decaySteps: 30, decay: 'cosine', end: 0.1 }), kind: 'continuous', atInfinity: 0.1 },
  rewarm: { s: rewarm({ peak: 1, steps: 1000 }), kind: 'continuous', atInfinity: 0.1 },
  multiStep: { s: multiStep({ peak: 1, milestones: [3, 50] }), kind: 'stepwise', atInfinity: 1 * 0.1 ** 2 },
  budgetedMultiStep: { s: budgetedMultiStep({ peak: 1, steps: 100 }), kind: 'stepwise', atInfinity: 0.1 ** 3 },
  exponentialDecay: { s: exponentialDecay({ peak: 1, gamma: 0.9, warmup: 5 }), kind: 'continuous', atInfinity: 0 },
  'exponentialDecay staircase': { s: exponentialDecay({ peak: 1, gamma: 0.9, every: 3, staircase: true }), kind: 'stepwise', atInfinity: 0 },
  oneCycle: { s: oneCycle({ peak: 1, steps: 100 }), kind: 'continuous', atInfinity: 1 / 25 / 1e4 },
  'oneCycle three phase': { s: oneCycle({ peak: 1, steps: 100, threePhase: true, anneal: 'linear' }), kind: 'continuous', atInfinity: NaN },
  inverseSqrt: { s: inverseSqrt({ peak: 1, warmup: 10 }), kind: 'continuous', atInfinity: 0 },
  cosineRestarts: { s: cosineRestarts({ peak: 1, period: 10, mult: 2, end: 0.1 }), kind: 'continuous', atInfinity: NaN },
  join: { s: join([linear({ from: 0, to: 1, steps: 5 }), cosineDecay({ peak: 1, steps: 50 })], [5]), kind: 'continuous', atInfinity: 0 },
  warmup: { s: warmup(rex({ peak: 1, steps: 50 }), { steps: 5, from: 0.2 }), kind: 'continuous', atInfinity: 0 },
  sampled: { s: sampled(linearDecay({ peak: 1, steps: 100 }), 4), kind: 'stepwise', atInfinity: 0 },
  scale: { s: scale(linearDecay({ peak: 1, steps: 100 }), 0.5), kind: 'continuous', atInfinity: 0 },
  fromArray: { s: fromArray([5, 4, 3, 2, 1]), kind: 'stepwise', atInfinity: 1 },
  'ReduceOnPlateau.schedule': { s: new ReduceOnPlateau({ peak: 0.2 }).schedule, kind: 'stepwise', atInfinity: 0.2 },
};
// the three-phase OneCycle holds its last value: fill in its limit from step T − 1
cases['oneCycle three phase'].atInfinity = cases['oneCycle three phase'].s(99);

describe('step arguments, for every schedule', () => {
  for (const [name, c] of Object.entries(cases)) {
    describe(name, () => {
      const { s } = c;
      it('negative steps (and -0, -Infinity) are clamped to step 0', () => {
        const v0 = s(0);
        expect(Number.isFinite(v0)).toBe(true);
        for (const t of [-0, -1e-9, -0.5, -1, -1e9, -Infinity]) expect(s(t), `t=${t}`).toBe(v0);
      });
      it('NaN gives NaN', () => {
        expect(s(NaN)).toBeNaN();
      });
      it('+Infinity gives the limit (NaN where there is none); 1e9 is finite', () => {
        if (Number.isNaN(c.atInfinity)) expect(s(Infinity)).toBeNaN();
        else expect(s(Infinity)).toBeCloseTo(c.atInfinity, 15);
        expect(Number.isFinite(s(1e9))).toBe(true);
      });
      if (c.kind === 'stepwise') {
        it('fractional steps read the step below', () => {
          for (let t = 0; t < 120; t++) {
            for (const f of [0.25, 0.5, 0.999]) expect(s(t + f), `t=${t + f}`).toBe(s(t));
          }
        });
      } else {
        it('fractional steps are evaluated on the continuous profile (between the neighbours)', () => {
          let strictlyBetween = 0;
          for (let t = 0; t < 120; t++) {
            const a = s(t);
            const b = s(t + 1);
            const m = s(t + 0.5);
            // restarts jump back up at a cycle start: skip the interval that contains one
            if (name === 'cosineRestarts' && b > a) continue;
            expect(m, `t=${t + 0.5}`).toBeGreaterThanOrEqual(Math.min(a, b) - 1e-15);
            expect(m, `t=${t + 0.5}`).toBeLessThanOrEqual(Math.max(a, b) + 1e-15);
            if (m !== a && m !== b) strictlyBetween++;
          }
          expect(strictlyBetween).toBeGreaterThan(0);
        });
      }
      it('values are numbers at integer steps up to 1e9', () => {
        for (const t of [0, 1, 2, 9, 10, 11, 99, 100, 101, 1e5, 1e9]) expect(typeof s(t)).toBe('number');
      });
    });
  }
});
