/**
 * The CUDA backend where no device is usable (CI, the build machines): the addon loads,
 * buildInfo() says why CUDA is off, `device: 'auto'` falls back to the CPU, `device: 'cuda'`
 * throws a RangeError that carries the reason, and native CUDA entry points throw a CudaError
 * whose `code` is the CUDA error name. With a usable device, 'auto' must pick it (the device
 * behaviour checks run in parity.test.ts, in one file so that GPU tests run serially).
 */
import { describe, expect, it } from 'vitest';

import { Adam, AdamW, CudaError, SGD, buildInfo } from '../../src/index.js';
import { loadNative } from '../../src/native.js';

const info = buildInfo();
const cuda = info.cuda;
console.log(`[test/cuda] buildInfo().cuda = ${JSON.stringify(cuda)}`);

describe('buildInfo().cuda', () => {
  it('has the documented shape', () => {
    expect(typeof cuda.compiled).toBe('boolean');
    expect(typeof cuda.available).toBe('boolean');
    expect(Array.isArray(cuda.devices)).toBe(true);
    if (cuda.available) {
      expect(cuda.reason).toBeNull();
      expect(cuda.devices.length).toBeGreaterThan(0);
      expect(cuda.compiled).toBe(true);
    } else {
      expect(cuda.reason).toEqual(expect.any(String));
    }
  });

  it.skipIf(!cuda.compiled)('names the CUDA runtime it was built with', () => {
    expect(cuda.runtimeVersion).toMatch(/^\d+\.\d+$/);
  });
});

describe.skipIf(cuda.available)(`without a usable CUDA device (${cuda.reason})`, () => {
  it('says why, with the CUDA error name when the backend is compiled in', () => {
    if (cuda.compiled) {
      expect(cuda.reason).toMatch(/^no CUDA device: cuda[A-Za-z]+ \(.+\)/);
    } else {
      expect(cuda.reason).toMatch(/no CUDA backend/);
    }
    expect(info.autoDevice).toBe('cpu');
  });

  it("device: 'auto' falls back to the CPU", () => {
    for (const Ctor of [Adam, AdamW, SGD]) {
      const opt = new Ctor([1000, 17], { device: 'auto' });
      expect(opt.device).toBe('cpu');
      opt.grads[0].fill(0.5);
      const s = opt.step();
      expect(s.gradNormL2).toBeCloseTo(Math.sqrt(1000 * 0.25), 10);
      opt.dispose();
    }
  });

  it("device: 'cuda' / 'cuda:N' throws a RangeError carrying the reason", () => {
    for (const device of ['cuda', 'cuda:0', 'cuda:3'] as const) {
      expect(() => new Adam([10], { device })).toThrow(RangeError);
      expect(() => new Adam([10], { device })).toThrow(cuda.reason!);
      expect(() => new SGD([10], { device })).toThrow(/CUDA is unavailable/);
    }
  });

  it('rejects malformed device names', () => {
    expect(() => new Adam([10], { device: 'gpu' as never })).toThrow(RangeError);
    expect(() => new Adam([10], { device: 'cuda:x' as never })).toThrow(RangeError);
    expect(() => new Adam([10], { device: 3 as never })).toThrow(TypeError);
  });

  it('the native constructor and the bench helpers throw a CudaError with the CUDA error name', () => {
    const addon = loadNative();
    const expectCudaError = (fn: () => unknown): void => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CudaError);
      const e = err as CudaError;
      expect(e.code).toMatch(/^cuda[A-Z][A-Za-z]+$/);
      if (cuda.compiled) expect(e.code).toBe(/^no CUDA device: (cuda[A-Za-z]+)/.exec(cuda.reason!)?.[1]);
      expect(e.message).toContain(cuda.reason!);
    };
    expectCudaError(() => new addon.Optimizer(1, Float64Array.from([10]), Float64Array.from([0]), 1, 'cuda:0', 16, 0));
    expectCudaError(() => addon.bench.cudaCopyTimes(0, 1 << 20, 3));
    expectCudaError(() => addon.bench.cudaTimeCalls(0, 3, () => {}));
  });

  it('CPU steps return plain StepInfo values (no lazy getters)', () => {
    const opt = new AdamW([33], { device: 'cpu' });
    expect(loadNative().Optimizer).toBeTypeOf('function');
    opt.grads[0].fill(1);
    const s = opt.step();
    const d = Object.getOwnPropertyDescriptor(s, 'gradNormL2');
    expect(d?.value).toBeCloseTo(Math.sqrt(33), 12);
    expect(d?.get).toBeUndefined();
    expect(opt.appliedSteps).toBe(1);
    opt.dispose();
  });
});

describe.skipIf(!cuda.available)('with a usable CUDA device', () => {
  it("device: 'auto' picks cuda:0 (the behaviour checks run in parity.test.ts, serially)", () => {
    expect(info.autoDevice).toBe('cuda:0');
    const opt = new Adam([100], { device: 'auto' });
    expect(opt.device).toBe('cuda:0');
    opt.dispose();
  });
});

// The `stream` option is validated everywhere and ignored on the CPU (so that device: 'auto'
// code runs unchanged without a GPU); its effect is checked on a device (parity.mjs
// runDeviceChecks, which bench/gpu/run.sh runs).
describe('the stream option', () => {
  it("accepts 'shared', 'own' and { priority } on any device", () => {
    for (const stream of ['shared', 'own', { priority: -3 }, { priority: 0 }] as const) {
      const opt = new AdamW([10], { device: 'cpu', stream });
      opt.grads[0].fill(1);
      expect(opt.step().gradNormL2).toBeCloseTo(Math.sqrt(10), 12);
      opt.dispose();
    }
  });

  it('rejects anything else, naming the option', () => {
    expect(() => new SGD([4], { stream: 'default' as never })).toThrow(RangeError);
    expect(() => new SGD([4], { stream: 'default' as never })).toThrow(/options\.stream/);
    expect(() => new SGD([4], { stream: 1 as never })).toThrow(TypeError);
    expect(() => new SGD([4], { stream: null as never })).toThrow(TypeError);
    expect(() => new SGD([4], { stream: { priority: 1.5 } })).toThrow(/options\.stream\.priority/);
    expect(() => new SGD([4], { stream: { priority: -1 }, own: true } as never)).toThrow(/options\.own/);
    expect(() => new SGD([4], { stream: { priority: 0, shared: true } as never })).toThrow(/options\.stream\.shared/);
  });

  it('the native constructor checks the stream arguments too', () => {
    const addon = loadNative();
    const g = Float64Array.from([0]);
    expect(() => new addon.Optimizer(0, Float64Array.from([4]), g, 1, 'cpu', 16, 0, 'bogus' as never)).toThrow(/Expected stream 'shared' or 'own'/);
    expect(() => new addon.Optimizer(0, Float64Array.from([4]), g, 1, 'cpu', 16, 0, 'own', 0.5)).toThrow(RangeError);
    new addon.Optimizer(0, Float64Array.from([4]), g, 1, 'cpu', 16, 0, 'own', -2).dispose();
  });
});
