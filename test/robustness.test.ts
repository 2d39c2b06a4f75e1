/**
 * Issue 13, items 5 and 6: hyperparameters the float32 kernels cannot hold, a detached array
 * given to a constructor, arenas larger than the device, step counters at the end of the safe
 * integers, options read once, two error messages, and the default trace ring of a small
 * optimizer. Each test failed before its fix (noted per test).
 */
import { describe, expect, test } from 'vitest';

import { Adam, AdamW, SGD, adamStep, decodeCheckpoint, encodeCheckpoint, linearDecay, refineSchedule, sgdStep } from '../src/index.js';

const F32_MAX = 3.4028234663852886e38;

describe('hyperparameters beyond float32 (before: accepted, the step gave ±Infinity/NaN with nonFinite false)', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['SGD lr 1e39', () => new SGD([4], { lr: 1e39 }), /float32 .* for options\.lr but received 1e\+39/],
    ['Adam eps 1e39', () => new Adam([4], { eps: 1e39 }), /for options\.eps but received 1e\+39/],
    ['AdamW weightDecay 1e39', () => new AdamW([4], { weightDecay: 1e39 }), /for options\.weightDecay/],
    ['SGD momentum 1e39', () => new SGD([4], { momentum: 1e39 }), /for options\.momentum/],
    ['Adam gradScale 1e39', () => new Adam([4], { gradScale: 1e39 }), /for options\.gradScale/],
    ['Adam maxGradNorm 1e300', () => new Adam([4], { maxGradNorm: 1e300 }), /for options\.maxGradNorm/],
    ['setOptions eps', () => new Adam([4]).setOptions({ eps: 1e39 }), /for options\.eps/],
    ['setOptions lr', () => new SGD([4]).setOptions({ lr: 1e300 }), /for lr but received 1e\+300/],
    ['lr setter', () => { new Adam([4]).lr = 3.5e38; }, /for lr but received 3\.5e\+38/],
    ['adamStep lr', () => adamStep(new Float32Array(4), new Float32Array(4), new Float32Array(4), new Float32Array(4), { step: 1, lr: 1e39 }), /for options\.lr/],
    ['sgdStep weightDecay', () => sgdStep(new Float32Array(4), new Float32Array(4), null, { step: 1, weightDecay: 1e39 }), /for options\.weightDecay/],
  ];
  for (const [name, fn, pattern] of cases) {
    test(`${name}: RangeError naming the option`, () => {
      expect(fn).toThrow(RangeError);
      expect(fn).toThrow(pattern);
    });
  }

  test('the largest float32 is accepted', () => {
    const opt = new SGD([4], { lr: F32_MAX, weightDecay: F32_MAX });
    expect(opt.hyperparameters.lr).toBe(F32_MAX);
    opt.dispose();
  });

  test('a schedule value beyond float32 is refused at step time, and no step is taken', () => {
    const opt = new SGD([4], { lr: (t: number) => (t < 1 ? 0.1 : 1e308) });
    opt.grads[0].fill(1);
    opt.step();
    const before = opt.readParams(0);
    expect(() => opt.step()).toThrow(/float32 .* for the value of the lr schedule at iteration 1 but received 1e\+308/);
    expect(opt.readParams(0)).toEqual(before);
    expect(opt.iteration).toBe(1);
    expect(Array.from(opt.readParams(0)).every(Number.isFinite)).toBe(true);
    opt.dispose();
  });
});

describe('smaller defects', () => {
  test('a detached Float32Array given to a constructor is a RangeError (before: an empty tensor)', () => {
    const a = new Float32Array(8);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(() => new Adam([4, a])).toThrow(RangeError);
    expect(() => new Adam([4, a])).toThrow(/attached Float32Array for params\[1\]/);
    const empty = new Adam([new Float32Array(0), 3]); // a genuine empty array is fine
    expect(empty.lengths).toEqual([0, 3]);
    empty.dispose();
  });

  test('an arena larger than the device is refused before its chunk table is built (before: 1.5 GB table, then OOM)', () => {
    const t0 = performance.now();
    let err: (Error & { code?: string }) | null = null;
    try {
      new Adam([2 ** 40]);
    } catch (e) {
      err = e as Error & { code?: string };
    }
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(RangeError);
    expect(err?.code).toBe('ERR_FUSED_OPTIM_OOM');
    expect(err?.message).toMatch(/an arena of 16\.0 TiB .* is more than host memory can hold/);
    expect(ms).toBeLessThan(500);
    expect(() => new SGD([2 ** 39, 2 ** 39])).toThrow(/is more than host memory can hold/);
  });

  test('a step past Number.MAX_SAFE_INTEGER is refused, so every checkpoint loads (before: saved 2^53, which did not load)', async () => {
    const opt = new Adam([3], { lr: linearDecay({ peak: 0.1, steps: 10 }) });
    const s = opt.stateDict();
    opt.loadStateDict({ ...s, iteration: Number.MAX_SAFE_INTEGER - 1, appliedSteps: Number.MAX_SAFE_INTEGER - 1 });
    opt.grads[0].fill(1);
    opt.step();
    expect(opt.iteration).toBe(Number.MAX_SAFE_INTEGER);
    const params = opt.readParams(0);
    expect(() => opt.step()).toThrow(RangeError);
    expect(() => opt.step()).toThrow(/has taken 9007199254740991 steps.*no step was taken/);
    await expect(opt.stepAsync()).rejects.toThrow(/has taken 9007199254740991 steps/);
    expect(opt.readParams(0)).toEqual(params);
    const bytes = new Uint8Array(Buffer.concat([...encodeCheckpoint(opt.stateDict())]));
    const back = decodeCheckpoint(bytes);
    expect(back.iteration).toBe(Number.MAX_SAFE_INTEGER);
    const other = new Adam([3], { lr: linearDecay({ peak: 0.1, steps: 10 }) });
    other.loadStateDict(back);
    expect(other.iteration).toBe(Number.MAX_SAFE_INTEGER);
    opt.dispose();
    other.dispose();
  });

  test('each option is read once: a getter cannot pass the check with one value and configure another (before: AdamW became Adam)', () => {
    let reads = 0;
    const tricky = {
      lr: 0.01,
      get decoupled() {
        reads++;
        return reads === 1;
      },
    };
    const opt = new AdamW([2], tricky as never);
    expect(reads).toBe(1);
    expect(opt.hyperparameters.decoupled).toBe(true);
    reads = 0;
    const flip = {
      get decoupled() {
        reads++;
        return reads !== 1; // true when read a second time
      },
    };
    expect(() => opt.setOptions(flip as never)).toThrow(/options\.decoupled/);
    expect(reads).toBe(1);
    expect(opt.hyperparameters.decoupled).toBe(true);
    let epsReads = 0;
    const adam = new Adam([2], {
      get eps() {
        epsReads++;
        return epsReads === 1 ? 1e-8 : -1;
      },
    } as never);
    expect(adam.hyperparameters.eps).toBe(1e-8);
    opt.dispose();
    adam.dispose();
  });

  test('messages: a checkpoint without a path, and norms whose weights leave the double range', () => {
    expect(() => decodeCheckpoint(new Uint8Array(10))).toThrow(/^Cannot load the checkpoint: not a fused-optim checkpoint/);
    let msg = '';
    try {
      refineSchedule([5e-324, 1e308, 1e308], { method: 'sgd', tau: 0 });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/smoothed norms from 5e-324 to 1e\+308: every product .* underflows to 0/);
    expect(msg).not.toMatch(/received weights that all underflow/);
  });

  test('the default trace ring is sized to the optimizer (before: 4096 records, ~340 KiB, for 1 parameter)', () => {
    const tiny = new SGD([1]);
    expect(tiny.nativeBytes).toBeLessThan(4096); // 64 records of 32 bytes + the arena
    for (let i = 0; i < 200; i++) tiny.step(); // drained every 32 steps: nothing lost
    expect(tiny.trace.length).toBe(200);
    const big = new SGD([1 << 18]);
    expect(big.nativeBytes).toBeGreaterThanOrEqual(4096 * 32 + 2 * (1 << 18) * 4);
    const chosen = new SGD([1], { traceCapacity: 4096 });
    expect(chosen.nativeBytes).toBeGreaterThanOrEqual(4096 * 32);
    tiny.dispose();
    big.dispose();
    chosen.dispose();
  });
});
