/**
 * Bad arguments: every factory validates eagerly, `TypeError` for a wrong type or unknown
 * option, `RangeError` for an out-of-range value, and the message names the argument.
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
  materialize,
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

type Ctor = typeof TypeError | typeof RangeError;
const T = TypeError;
const R = RangeError;

function expectThrow(fn: () => unknown, ctor: Ctor, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${ctor.name} ${message}`).toBeInstanceOf(ctor);
  // RangeError is not a TypeError and vice versa: the class is chosen on purpose
  expect((error as Error).constructor).toBe(ctor);
  expect((error as Error).message).toMatch(message);
}

// Calls with deliberately wrong types go through `any`.
/* eslint-disable @typescript-eslint/no-explicit-any */
const bad = (x: unknown) => x as any;
const s0: Schedule = () => 1;

describe('message shape', () => {
  it('"Expected <what> for <name> but received <value>"', () => {
    expectThrow(() => linearDecay({ peak: -1, steps: 10 }), R, /^Expected a finite number >= 0 for options\.peak but received -1 of type number$/);
    expectThrow(() => linearDecay({ peak: 1, steps: 10, warmup: 11 }), R, /^Expected an integer in \[0, 10\] for options\.warmup but received 11 of type number$/);
  });
  it('an unknown option key: "Unknown option <name>.<key>; expected one of ..." (the same everywhere)', () => {
    expectThrow(() => linearDecay(bad({ peak: 1, steps: 10, warmupSteps: 5 })), T, /^Unknown option options\.warmupSteps; expected one of 'peak', 'steps', 'end', 'warmup', 'warmupFrom'$/);
  });
});

describe('warm-up + decay family', () => {
  const factories: [string, (o: any) => Schedule][] = [
    ['linearDecay', linearDecay],
    ['cosineDecay', cosineDecay],
    ['rex', rex],
    ['polynomialDecay', polynomialDecay],
  ];
  for (const [name, make] of factories) {
    it(`${name}: options object, peak, steps, end, warmup, warmupFrom`, () => {
      expectThrow(() => make(undefined), T, /options\.peak but received undefined/);
      expectThrow(() => make(null), T, /an options object for options but received null/);
      expectThrow(() => make(5), T, /an options object for options/);
      expectThrow(() => make([1]), T, /an options object for options but received Array\(1\)/);
      expectThrow(() => make({ steps: 10 }), T, /options\.peak but received undefined/);
      expectThrow(() => make({ peak: '1', steps: 10 }), T, /options\.peak but received '1' of type string/);
      expectThrow(() => make({ peak: NaN, steps: 10 }), R, /options\.peak but received NaN/);
      expectThrow(() => make({ peak: Infinity, steps: 10 }), R, /options\.peak but received Infinity/);
      expectThrow(() => make({ peak: -0.1, steps: 10 }), R, />= 0 for options\.peak/);
      expectThrow(() => make({ peak: 1 }), T, /options\.steps but received undefined/);
      expectThrow(() => make({ peak: 1, steps: 0 }), R, /an integer >= 1 for options\.steps but received 0/);
      expectThrow(() => make({ peak: 1, steps: 10.5 }), R, /options\.steps but received 10\.5/);
      expectThrow(() => make({ peak: 1, steps: 10n }), T, /options\.steps but received 10n of type bigint/);
      expectThrow(() => make({ peak: 1, steps: 10, end: -1 }), R, /options\.end/);
      expectThrow(() => make({ peak: 1, steps: 10, end: NaN }), R, /options\.end/);
      expectThrow(() => make({ peak: 1, steps: 10, warmup: -1 }), R, /options\.warmup but received -1/);
      expectThrow(() => make({ peak: 1, steps: 10, warmup: 1.5 }), R, /options\.warmup/);
      expectThrow(() => make({ peak: 1, steps: 10, warmup: 11 }), R, /\[0, 10\] for options\.warmup/);
      expectThrow(() => make({ peak: 1, steps: 10, warmupFrom: -1 }), R, /options\.warmupFrom/);
      expectThrow(() => make({ peak: 1, steps: 10, warmpu: 2 }), T, /options\.warmpu/);
      // valid edge values do not throw
      expect(() => make({ peak: 0, steps: 1, warmup: 1, end: 0, warmupFrom: 0 })).not.toThrow();
    });
  }
  it('rex beta in [0, 1], polynomial power > 0', () => {
    expectThrow(() => rex({ peak: 1, steps: 10, beta: 1.5 }), R, /a number in \[0, 1\] for options\.beta but received 1\.5/);
    expectThrow(() => rex({ peak: 1, steps: 10, beta: -0.1 }), R, /options\.beta/);
    expectThrow(() => rex({ peak: 1, steps: 10, beta: bad('0.5') }), T, /options\.beta/);
    expectThrow(() => polynomialDecay({ peak: 1, steps: 10, power: 0 }), R, /a finite number > 0 for options\.power but received 0/);
    expectThrow(() => polynomialDecay({ peak: 1, steps: 10, power: NaN }), R, /options\.power/);
    expectThrow(() => linearDecay(bad({ peak: 1, steps: 10, power: 2 })), T, /options\.power/);
  });
});

describe('other factories', () => {
  it('constant and linear', () => {
    expectThrow(() => constant(bad('1')), T, /for value but received '1'/);
    expectThrow(() => constant(-1), R, /for value but received -1/);
    expectThrow(() => constant(NaN), R, /for value/);
    expectThrow(() => linear(bad({ from: 0, to: 1 })), T, /options\.steps but received undefined/);
    expectThrow(() => linear({ from: 0, to: 1, steps: -1 }), R, /options\.steps/);
    expectThrow(() => linear({ from: -1, to: 1, steps: 1 }), R, /options\.from/);
  });
  it('warmupStableDecay', () => {
    const base = { peak: 1, steps: 100, warmup: 10, decaySteps: 20 };
    expectThrow(() => warmupStableDecay(bad({ peak: 1, steps: 100 })), T, /options\.decaySteps but received undefined/);
    expectThrow(() => warmupStableDecay({ ...base, decaySteps: 91 }), R, /an integer in \[0, 90\] for options\.decaySteps but received 91/);
    expectThrow(() => warmupStableDecay({ ...base, warmup: 101 }), R, /options\.warmup/);
    expectThrow(() => warmupStableDecay({ ...base, decay: bad('exp') }), R, /one of 'linear', 'cosine', '1-sqrt' for options\.decay but received 'exp'/);
    expectThrow(() => warmupStableDecay({ ...base, decay: bad(1) }), T, /options\.decay/);
    expectThrow(() => warmupStableDecay({ ...base, end: -1 }), R, /options\.end/);
    expectThrow(() => warmupStableDecay({ ...base, warmupFrom: NaN }), R, /options\.warmupFrom/);
  });
  it('rewarm', () => {
    expectThrow(() => rewarm(bad({ steps: 100 })), T, /options\.peak/);
    expectThrow(() => rewarm({ peak: 1, steps: 100, warmup: 101 }), R, /options\.warmup/);
    expectThrow(() => rewarm({ peak: 1, steps: 100, warmup: 10, decayEnd: 5 }), R, /an integer in \[10, 100\] for options\.decayEnd but received 5/);
    expectThrow(() => rewarm({ peak: 1, steps: 100, decayEnd: 101 }), R, /options\.decayEnd/);
    expectThrow(() => rewarm({ peak: 1, steps: 100, end: -1 }), R, /options\.end/);
  });
  it('multiStep and budgetedMultiStep', () => {
    expectThrow(() => multiStep(bad({ peak: 1 })), T, /an array of numbers for options\.milestones but received undefined/);
    expectThrow(() => multiStep(bad({ peak: 1, milestones: 30 })), T, /options\.milestones/);
    expectThrow(() => multiStep({ peak: 1, milestones: [10, 0.3] }), R, /an integer >= 0 for options\.milestones\[1\] but received 0\.3/);
    expectThrow(() => multiStep({ peak: 1, milestones: [-1] }), R, /options\.milestones\[0\]/);
    expectThrow(() => multiStep({ peak: 1, milestones: bad(['10']) }), T, /options\.milestones\[0\]/);
    expectThrow(() => multiStep({ peak: 1, milestones: [1], gamma: 0 }), R, /options\.gamma/);
    expectThrow(() => multiStep({ peak: 1, milestones: [1], warmup: -2 }), R, /options\.warmup/);
    expectThrow(() => budgetedMultiStep(bad({ peak: 1 })), T, /options\.steps/);
    expectThrow(() => budgetedMultiStep({ peak: 1, steps: 100, fractions: [0.3, 0] }), R, /a number in \(0, 1\] for options\.fractions\[1\] but received 0/);
    expectThrow(() => budgetedMultiStep({ peak: 1, steps: 100, fractions: [30] }), R, /options\.fractions\[0\]/);
    expectThrow(() => budgetedMultiStep({ peak: 1, steps: 100, warmup: 101 }), R, /options\.warmup/);
  });
  it('exponentialDecay', () => {
    expectThrow(() => exponentialDecay(bad({ peak: 1 })), T, /options\.gamma but received undefined/);
    expectThrow(() => exponentialDecay({ peak: 1, gamma: 0 }), R, /> 0 for options\.gamma/);
    expectThrow(() => exponentialDecay({ peak: 1, gamma: -0.5 }), R, /options\.gamma/);
    expectThrow(() => exponentialDecay({ peak: 1, gamma: 0.5, every: 0 }), R, /an integer >= 1 for options\.every/);
    expectThrow(() => exponentialDecay({ peak: 1, gamma: 0.5, staircase: bad('yes') }), T, /a boolean for options\.staircase but received 'yes'/);
  });
  it('oneCycle', () => {
    expectThrow(() => oneCycle(bad({ peak: 1 })), T, /options\.steps/);
    expectThrow(() => oneCycle({ peak: 1, steps: 0 }), R, /options\.steps/);
    expectThrow(() => oneCycle({ peak: 1, steps: 10, pctStart: 1.1 }), R, /a number in \[0, 1\] for options\.pctStart but received 1\.1/);
    expectThrow(() => oneCycle({ peak: 1, steps: 10, pctStart: 0.6, threePhase: true }), R, /a number in \[0, 0\.5\] when options\.threePhase is true for options\.pctStart but received 0\.6/);
    expectThrow(() => oneCycle({ peak: 1, steps: 10, divFactor: 0 }), R, /options\.divFactor/);
    expectThrow(() => oneCycle({ peak: 1, steps: 10, finalDivFactor: -1 }), R, /options\.finalDivFactor/);
    expectThrow(() => oneCycle({ peak: 1, steps: 10, anneal: bad('cosine') }), R, /one of 'cos', 'linear' for options\.anneal but received 'cosine'/);
    expectThrow(() => oneCycle({ peak: 1, steps: 10, threePhase: bad(1) }), T, /options\.threePhase/);
    expectThrow(() => oneCycle(bad({ peak: 1, steps: 10, maxLr: 1 })), T, /options\.maxLr/);
  });
  it('inverseSqrt and cosineRestarts', () => {
    expectThrow(() => inverseSqrt(bad({})), T, /options\.peak/);
    expectThrow(() => inverseSqrt({ peak: 1, warmup: -1 }), R, /options\.warmup/);
    expectThrow(() => inverseSqrt({ peak: 1, timescale: 0 }), R, /> 0 for options\.timescale but received 0/);
    expectThrow(() => cosineRestarts(bad({ peak: 1 })), T, /options\.period but received undefined/);
    expectThrow(() => cosineRestarts({ peak: 1, period: 0 }), R, /an integer >= 1 for options\.period/);
    expectThrow(() => cosineRestarts({ peak: 1, period: 2.5 }), R, /options\.period/);
    expectThrow(() => cosineRestarts({ peak: 1, period: 10, mult: 0 }), R, /options\.mult/);
    expectThrow(() => cosineRestarts({ peak: 1, period: 10, mult: 1.5 }), R, /options\.mult/);
    expectThrow(() => cosineRestarts({ peak: 1, period: 10, end: -1 }), R, /options\.end/);
  });
});

describe('combinators', () => {
  it('join', () => {
    expectThrow(() => join(bad(s0), []), T, /an array of schedules for schedules but received function/);
    expectThrow(() => join([], []), R, /a non-empty array of schedules for schedules/);
    expectThrow(() => join([s0, bad(1)], [1]), T, /a schedule \(a function of the step\) for schedules\[1\] but received 1 of type number/);
    expectThrow(() => join([s0, s0], []), R, /an array of 1 boundary \(one fewer than schedules\) for boundaries but received Array\(0\)/);
    expectThrow(() => join([s0, s0, s0], [1]), R, /an array of 2 boundaries .* for boundaries/);
    expectThrow(() => join([s0, s0, s0], [5, 4]), R, /a number >= boundaries\[0\] = 5 for boundaries\[1\] but received 4/);
    expectThrow(() => join([s0, s0], [-1]), R, /boundaries\[0\]/);
    expectThrow(() => join([s0, s0], [NaN]), R, /boundaries\[0\]/);
    expectThrow(() => join([s0, s0], bad('1')), T, /for boundaries/);
  });
  it('warmup', () => {
    expectThrow(() => warmup(bad(1), { steps: 1 }), T, /for schedule but received 1/);
    expectThrow(() => warmup(s0, bad(undefined)), T, /options\.steps but received undefined/);
    expectThrow(() => warmup(s0, { steps: -1 }), R, /options\.steps but received -1/);
    expectThrow(() => warmup(s0, { steps: 2, from: -1 }), R, /options\.from/);
    expectThrow(() => warmup(() => NaN, { steps: 2 }), R, /a finite number for schedule\(0\) but received NaN/);
    expectThrow(() => warmup(bad(() => '1'), { steps: 2 }), T, /schedule\(0\) but received '1'/);
    expectThrow(() => warmup(s0, bad({ steps: 2, form: 0 })), T, /options\.form/);
  });
  it('sampled, scale, materialize', () => {
    expectThrow(() => sampled(bad(null), 2), T, /for schedule but received null/);
    expectThrow(() => sampled(s0, 0), R, /an integer >= 1 for every but received 0/);
    expectThrow(() => sampled(s0, 2.5), R, /for every/);
    expectThrow(() => scale(s0, NaN), R, /a finite number for factor but received NaN/);
    expectThrow(() => scale(s0, bad('2')), T, /for factor/);
    expectThrow(() => materialize(s0, -1), R, /an integer >= 0 for steps but received -1/);
    expectThrow(() => materialize(bad({}), 3), T, /for schedule but received an object/);
  });
  it('fromArray', () => {
    expectThrow(() => fromArray([]), R, /a non-empty array of numbers for values but received Array\(0\)/);
    expectThrow(() => fromArray([1, NaN]), R, /a finite number for values\[1\] but received NaN/);
    expectThrow(() => fromArray(bad(['a'])), T, /values\[0\] but received 'a'/);
    expectThrow(() => fromArray(bad('abc')), T, /an array of numbers for values/);
    expectThrow(() => fromArray([1], { after: bad('repeat') }), R, /one of 'hold', 'zero' for options\.after but received 'repeat'/);
    expectThrow(() => fromArray([1], bad(3)), T, /options/);
  });
});

describe('ReduceOnPlateau', () => {
  it('constructor options and observe', () => {
    expectThrow(() => new ReduceOnPlateau(bad(undefined)), T, /options\.peak but received undefined/);
    expectThrow(() => new ReduceOnPlateau({ peak: -1 }), R, /options\.peak/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, factor: 1 }), R, /a number in \(0, 1\) for options\.factor but received 1/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, factor: 0 }), R, /options\.factor/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, patience: 1.5 }), R, /options\.patience/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, patience: -1 }), R, /options\.patience/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, mode: bad('minimum') }), R, /one of 'min', 'max' for options\.mode/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, thresholdMode: bad('relative') }), R, /options\.thresholdMode/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, threshold: -1 }), R, /options\.threshold/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, cooldown: -1 }), R, /options\.cooldown/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, minLr: -1 }), R, /options\.minLr/);
    expectThrow(() => new ReduceOnPlateau({ peak: 1, eps: NaN }), R, /options\.eps/);
    expectThrow(() => new ReduceOnPlateau(bad({ peak: 1, min_lr: 0 })), T, /options\.min_lr/);
    const p = new ReduceOnPlateau({ peak: 1 });
    expectThrow(() => p.observe(bad('0.5')), T, /a number for metric but received '0\.5'/);
    expectThrow(() => p.observe(bad(undefined)), T, /for metric but received undefined/);
    expect(p.lastEpoch).toBe(0);
  });
});
