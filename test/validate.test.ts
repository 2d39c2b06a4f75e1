/**
 * src/validate.ts: the one way options objects are read (unknown keys, one read per key) and the
 * message shape, across the APIs that use it.
 */
import { describe, expect, it } from 'vitest';

import { lastIterateBound, medianFilter, refineByBound, refineSchedule, refinedSchedule, scheduleFromValues } from '../src/refine/index.js';
import { fromArray, linearDecay, warmup } from '../src/schedules/index.js';
import { optional, positive, positiveInteger, readOptions, required, unknownOption } from '../src/validate.js';

describe('readOptions', () => {
  it('gives {} for undefined, rejects non-objects naming the argument', () => {
    expect(Object.keys(readOptions('options', undefined, ['a']))).toEqual([]);
    expect(() => readOptions('options', undefined, ['a'], { required: true })).toThrow(/^Expected an options object for options but received undefined$/);
    expect(() => readOptions('config', null, ['a'])).toThrow(TypeError);
    expect(() => readOptions('config', [1], ['a'])).toThrow(/^Expected an options object for config but received Array\(1\)$/);
    expect(() => readOptions('config', 3, ['a'])).toThrow(/for config but received 3 of type number/);
  });

  it("unknown keys: one message, \"Unknown option <name>.<key>; expected one of 'a', 'b'\"", () => {
    expect(() => readOptions('options', { peek: 1 }, ['peak', 'steps'])).toThrow(
      new TypeError("Unknown option options.peek; expected one of 'peak', 'steps'"),
    );
    expect(unknownOption('config', 'x', []).message).toBe('Unknown option config.x; expected no options');
  });

  it('reads each key exactly once into a frozen snapshot; required/optional name <name>.<key>', () => {
    let reads = 0;
    const src = {
      get peak(): number {
        return ++reads;
      },
    };
    const o = readOptions('opts', src, ['peak', 'steps']);
    expect(reads).toBe(1);
    expect(optional(o, 'peak', 0, positive)).toBe(1);
    expect(required(o, 'peak', positive)).toBe(1);
    expect(reads).toBe(1);
    expect(Object.isFrozen(o)).toBe(true);
    expect(optional(o, 'steps', 7, positiveInteger)).toBe(7);
    expect(() => required(o, 'steps', positiveInteger)).toThrow(/^Expected an integer >= 1 for opts\.steps but received undefined$/);
  });
});

describe('every options object rejects unknown keys with the same message', () => {
  const cases: [string, () => unknown, string][] = [
    ['linearDecay', () => linearDecay({ peak: 1, steps: 4, warmupSteps: 1 } as never), 'options.warmupSteps'],
    ['warmup', () => warmup(() => 1, { steps: 2, to: 1 } as never), 'options.to'],
    ['fromArray', () => fromArray([1], { after: 'hold', pad: 0 } as never), 'options.pad'],
    ['refineSchedule', () => refineSchedule([1, 1], { method: 'sgd', taw: 0.1 } as never), 'options.taw'],
    ['refinedSchedule', () => refinedSchedule([1, 1], { method: 'sgd', step: 4 } as never), 'options.step'],
    ['refineByBound', () => refineByBound([1, 1], { method: 'sgd', iters: 4 } as never), 'options.iters'],
    ['lastIterateBound', () => lastIterateBound([1, 1], [1, 1], { d: 1 } as never), 'options.d'],
    ['medianFilter', () => medianFilter([1, 2, 3], 3, { mode: 'nearest' } as never), 'options.mode'],
    ['scheduleFromValues', () => scheduleFromValues([1, 0], { length: 4 } as never), 'options.length'],
  ];
  it.each(cases)('%s', (_name, call, key) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(new RegExp(`^Unknown option ${key.replace('.', '\\.')}; expected one of '`));
  });

  it('the refinement options still accept their own keys', () => {
    expect(refinedSchedule([2, 2, 2], { method: 'sgd', steps: 5 })(4)).toBe(0);
    expect(refineByBound([1, 1, 1], { method: 'sgd', iterations: 2, D: 2, tolerance: 1e-9 }).length).toBe(3);
  });
});
