/**
 * The lazy StepInfo of device optimizers (src/optim/lazy-outcome.ts), against a stand-in for
 * the native object: runs everywhere, GPU or not.
 */
import { describe, expect, it } from 'vitest';

import { OUT, type NativeOptimizer } from '../../src/native.js';
import { OUTCOME_RING, lazyStepInfo } from '../../src/optim/lazy-outcome.js';
import type { StepInfo } from '../../src/optim/optimizer.js';

function fakeNative(outcomes: Map<number, number[]>, calls: number[]): NativeOptimizer {
  return {
    readOutcome(out: Float64Array, iteration: number): boolean {
      calls.push(iteration);
      const o = outcomes.get(iteration);
      if (!o) return false;
      out.set(o);
      return true;
    },
  } as unknown as NativeOptimizer;
}

describe('lazyStepInfo', () => {
  const row = (l2: number, skipped = 0, nonFinite = 0): number[] => {
    const r = new Array<number>(OUT.count).fill(0);
    r[OUT.l2] = l2;
    r[OUT.l1] = 2 * l2;
    r[OUT.clipCoef] = 0.5;
    r[OUT.skipped] = skipped;
    r[OUT.nonFinite] = nonFinite;
    r[OUT.applied] = 3;
    return r;
  };

  it('reads nothing until a field is read, then reads once and keeps the values', () => {
    const calls: number[] = [];
    const info = lazyStepInfo<StepInfo>(fakeNative(new Map([[7, row(3, 1, 1)]]), calls), 'Adam', 7, 0.01);
    expect(info.iteration).toBe(7);
    expect(info.lr).toBe(0.01);
    expect(calls).toEqual([]);
    expect(info.gradNormL2).toBe(3);
    expect(info.gradNormL1).toBe(6);
    expect(info.clipCoef).toBe(0.5);
    expect(info.skipped).toBe(true);
    expect(info.nonFinite).toBe(true);
    expect(calls).toEqual([7]);
  });

  it('has enumerable fields, so spreading and JSON see the values', () => {
    const info = lazyStepInfo<StepInfo>(fakeNative(new Map([[0, row(1)]]), []), 'SGD', 0, 0.1);
    expect({ ...info }).toEqual({ gradNormL2: 1, gradNormL1: 2, clipCoef: 0.5, skipped: false, nonFinite: false, iteration: 0, lr: 0.1 });
    expect(JSON.parse(JSON.stringify(info)).gradNormL1).toBe(2);
  });

  it('says where to look when the outcome is no longer held', () => {
    const info = lazyStepInfo<StepInfo>(fakeNative(new Map(), []), 'AdamW', 5, 0.1);
    expect(() => info.gradNormL2).toThrow(new RegExp(`no longer held.*last ${OUTCOME_RING}.*trace`));
  });

  it('passes native errors through (disposed, busy)', () => {
    const native = {
      readOutcome(): boolean {
        throw new Error('fused-optim: this optimizer has been disposed');
      },
    } as unknown as NativeOptimizer;
    const info = lazyStepInfo<StepInfo>(native, 'Adam', 0, 0.1);
    expect(() => info.skipped).toThrow(/disposed/);
  });
});
