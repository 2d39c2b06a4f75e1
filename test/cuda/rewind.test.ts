/**
 * Lazy step outcomes after the counters are rewound (loadStateDict / setCounters), without a
 * GPU: the addon's test backend 'test:lazy-cpu' (native/addon/test_backend.h, enabled by
 * FUSED_OPTIM_TEST_HOOKS=1) runs the CPU engine behind the same outcome bookkeeping as the
 * CUDA backend (native/core/lazy_outcomes.h) and the same OptimizerBackend::set_iteration
 * override. Outcomes are keyed by iteration: after a rewind, an unread StepInfo of an old step
 * must say it is no longer held, never return the outcome of a newer step with its number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Adam, SGD, type StepInfo } from '../../src/index.js';
import { HP, OUT, hpLength, loadNative } from '../../src/native.js';
import { OUTCOME_RING } from '../../src/optim/lazy-outcome.js';
import { GRADIENT_DEFAULTS, packHeader } from '../../src/optim/options.js';
import { ADAM, packGroup } from '../../src/optim/rules/index.js';
import { randomF32, rng } from '../support/reference.js';

const DEVICE = 'test:lazy-cpu' as never;
const LENGTHS = [37, 1000, 5];

beforeAll(() => {
  process.env.FUSED_OPTIM_TEST_HOOKS = '1';
});
afterAll(() => {
  delete process.env.FUSED_OPTIM_TEST_HOOKS;
});

/** Distinct gradients per (seed, step): every step has its own norms. */
function setGrads(opt: Adam | SGD, seed: number, t: number): void {
  LENGTHS.forEach((n, i) => opt.setGrads(i, randomF32(n, rng(seed * 1000 + t * 10 + i), 1 + t)));
}

describe('the test backend is a hook, not a device', () => {
  it('is refused without FUSED_OPTIM_TEST_HOOKS=1, by the class and by the addon', () => {
    delete process.env.FUSED_OPTIM_TEST_HOOKS;
    try {
      expect(() => new Adam([4], { device: DEVICE })).toThrow(RangeError);
      const addon = loadNative();
      expect(() => new addon.Optimizer(ADAM.native.code, Float64Array.from([4]), Float64Array.from([0]), 1, 'test:lazy-cpu', 16, 0)).toThrow(/Expected device 'cpu' or 'cuda:N'/);
    } finally {
      process.env.FUSED_OPTIM_TEST_HOOKS = '1';
    }
  });

  it('gives lazy StepInfo with the CPU values', () => {
    const lazy = new Adam(LENGTHS, { device: DEVICE, lr: 0.01 });
    const cpu = new Adam(LENGTHS, { device: 'cpu', lr: 0.01 });
    expect(lazy.device).toBe('test:lazy-cpu');
    for (let t = 0; t < 3; t++) {
      setGrads(lazy, 1, t);
      setGrads(cpu, 1, t);
      const a = lazy.step();
      const b = cpu.step();
      expect(Object.getOwnPropertyDescriptor(a, 'gradNormL2')?.get).toBeTypeOf('function');
      expect({ ...a }).toEqual({ ...b });
    }
    lazy.dispose();
    cpu.dispose();
  });
});

describe('rewinding the counters (loadStateDict)', () => {
  it('old unread StepInfo say they are no longer held, before and after new steps reuse their numbers', () => {
    const opt = new Adam(LENGTHS, { device: DEVICE, lr: 0.01 });
    const ref = new Adam(LENGTHS, { device: 'cpu', lr: 0.01 });
    let saved = null;
    const old: StepInfo[] = [];
    for (let t = 0; t < 6; t++) {
      if (t === 3) saved = opt.stateDict();
      setGrads(opt, 1, t);
      old.push(opt.step());
    }
    const before = old[1].gradNormL2; // read before the rewind: kept
    const oldL2 = opt.trace.l2.slice(); // the replaced run's norms (the trace reads no outcome)
    opt.loadStateDict(saved!);
    expect(opt.iteration).toBe(3);
    // Steps 2 (still below the new iteration) and 4 (above it) of the replaced run.
    expect(() => old[2].gradNormL2).toThrow(/no longer held.*counters were set/);
    expect(() => old[4].skipped).toThrow(/no longer held/);
    expect(old[1].gradNormL2).toBe(before);

    // A different continuation: steps 3, 4, 5 again, with other gradients.
    ref.loadStateDict(saved!);
    const fresh: StepInfo[] = [];
    const expected: StepInfo[] = [];
    for (let t = 3; t < 6; t++) {
      setGrads(opt, 2, t);
      setGrads(ref, 2, t);
      fresh.push(opt.step());
      expected.push(ref.step());
    }
    // Iteration 5 now names the new step 5: the old StepInfo must not return its outcome.
    expect(() => old[5].gradNormL2).toThrow(/no longer held/);
    for (let k = 0; k < 3; k++) {
      expect(fresh[k].iteration).toBe(3 + k);
      expect({ ...fresh[k] }).toEqual({ ...expected[k] });
    }
    // ...and differ from the replaced run's, so the checks above can tell the two apart.
    for (let k = 0; k < 3; k++) expect(fresh[k].gradNormL2).not.toBe(oldL2[3 + k]);
    opt.dispose();
    ref.dispose();
  });

  it('the native backend forgets every held outcome when the counters are set', () => {
    const addon = loadNative();
    const native = new addon.Optimizer(ADAM.native.code, Float64Array.from(LENGTHS), new Float64Array(LENGTHS.length), 1, 'test:lazy-cpu', 64, 0);
    expect(native.outcomeIsLazy).toBe(true);
    const hp = new Float64Array(hpLength(1));
    packHeader(hp, GRADIENT_DEFAULTS, 1, 0);
    packGroup(ADAM, ADAM.defaults, 1e-3, hp, HP.header);
    const out = new Float64Array(OUT.count);
    const grads = (t: number): void => LENGTHS.forEach((n, i) => native.writeSlot(1, i, randomF32(n, rng(t * 7 + i), 1 + t)));
    for (let t = 0; t < 6; t++) {
      grads(t);
      native.step(hp, out);
      expect(Number.isNaN(out[OUT.l2])).toBe(true); // lazy: nothing in `out`
    }
    const o = new Float64Array(OUT.count);
    expect(native.readOutcome(o, 2)).toBe(true);
    const oldL2 = o[OUT.l2];
    native.setCounters(3, 3);
    // Without the backend's set_iteration override, 2 and 1 would still read the old run's outcomes.
    for (const it of [0, 1, 2, 3, 4, 5]) expect(native.readOutcome(o, it)).toBe(false);
    grads(100);
    native.step(hp, out);
    expect(native.readOutcome(o, 3)).toBe(true);
    expect(o[OUT.l2]).toBeGreaterThan(0);
    expect(o[OUT.l2]).not.toBe(oldL2);
    expect(o[OUT.applied]).toBe(4);
    expect(native.readOutcome(o, 2)).toBe(false);
    native.dispose();
  });

  it(`keeps the last ${OUTCOME_RING} outcomes`, () => {
    const opt = new SGD([8], { device: DEVICE, lr: 0.1, traceCapacity: 0 });
    const infos: StepInfo[] = [];
    for (let t = 0; t < OUTCOME_RING + 3; t++) {
      opt.setGrads(0, new Float32Array(8).fill(t + 1));
      infos.push(opt.step());
    }
    expect(() => infos[2].gradNormL2).toThrow(new RegExp(`last ${OUTCOME_RING}`));
    expect(infos[3].gradNormL2).toBeCloseTo(Math.sqrt(8) * 4, 10);
    expect(infos[OUTCOME_RING + 2].gradNormL1).toBe(8 * (OUTCOME_RING + 3));
    opt.dispose();
  });
});
