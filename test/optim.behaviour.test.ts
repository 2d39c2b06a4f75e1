/**
 * Determinism across thread counts and SIMD levels, non-finite skipping, the trace, async
 * steps, dispose, bad input, and the lazy loader.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

import {
  Adam,
  AdamW,
  SGD,
  adamStep,
  buildInfo,
  getThreads,
  setSimd,
  setThreads,
  sgdStep,
  type SimdLevel,
} from '../src/index.js';
import { randomF32, rng } from './support/reference.js';
import { testBadInputs, type BadInputCase } from './support/rule-harness.js';
import { testSeed } from './support/seed.js';

// A fixed seed; FUSED_OPTIM_TEST_SEED explores other data or replays a run.
const seed = testSeed('optim.behaviour', 4242);
const LENGTHS = [278011, 16384, 16385, 1, 0, 99, 70001];
const defaultThreads = getThreads();
afterAll(() => setThreads(defaultThreads));

function bits(a: Float32Array | Float64Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Runs 5 steps of `kind` with clipping on the given threads / SIMD level; returns all outputs. */
function runOnce(kind: 'adam' | 'sgd', threads: number, simd?: SimdLevel) {
  if (simd) setSimd(simd);
  const r = rng(seed);
  const init = LENGTHS.map((n) => randomF32(n, r));
  const opt =
    kind === 'adam'
      ? new AdamW(init, { lr: 1e-3, threads, maxGradNorm: 3 })
      : new SGD(init, { lr: 1e-2, momentum: 0.9, threads });
  const norms: number[] = [];
  for (let t = 0; t < 5; t++) {
    LENGTHS.forEach((n, i) => opt.grads[i].set(randomF32(n, r, 0.1)));
    const info = opt.step();
    norms.push(info.gradNormL2, info.gradNormL1, info.clipCoef);
    const tn = opt.tensorNorms();
    norms.push(...tn.l2, ...tn.l1);
  }
  const params = LENGTHS.map((_, i) => Array.from(bits(opt.readParams(i))));
  opt.dispose();
  return { norms: Array.from(bits(Float64Array.from(norms))), params };
}

describe('determinism', () => {
  for (const kind of ['adam', 'sgd'] as const) {
    test(`${kind}: bitwise identical for 1, 2 and 3 threads`, () => {
      const one = runOnce(kind, 1);
      expect(runOnce(kind, 2)).toEqual(one);
      expect(runOnce(kind, 3)).toEqual(one);
    });
    test(`${kind}: bitwise identical on every SIMD level this CPU has (${buildInfo().simdSupported.join(', ')})`, () => {
      const levels = buildInfo().simdSupported as SimdLevel[];
      const initial = buildInfo().simd as SimdLevel;
      try {
        const first = runOnce(kind, 2, levels[0]);
        for (const level of levels.slice(1)) expect(runOnce(kind, 2, level)).toEqual(first);
      } finally {
        setSimd(initial);
      }
    });
  }
});

describe('non-finite gradients', () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    test(`skipNonFinite skips a step with ${value}: params and state bitwise intact`, () => {
      const r = rng(seed + 1);
      const opt = new Adam([randomF32(1000, r), randomF32(70001, r)], { lr: 1e-2, skipNonFinite: true });
      opt.grads[0].set(randomF32(1000, r));
      opt.grads[1].set(randomF32(70001, r));
      opt.step();
      const before = [0, 1].map((i) => Array.from(bits(opt.readParams(i))));
      const native = (opt as unknown as { native: { readSlot(s: number, i: number, d: Float32Array): void } }).native;
      const stateBefore = [2, 3].map((slot) => {
        const d = new Float32Array(70001);
        native.readSlot(slot, 1, d);
        return Array.from(bits(d));
      });
      opt.grads[1][12345] = value;
      const info = opt.step();
      expect(info.skipped).toBe(true);
      expect(info.nonFinite).toBe(true);
      expect([0, 1].map((i) => Array.from(bits(opt.readParams(i))))).toEqual(before);
      const stateAfter = [2, 3].map((slot) => {
        const d = new Float32Array(70001);
        native.readSlot(slot, 1, d);
        return Array.from(bits(d));
      });
      expect(stateAfter).toEqual(stateBefore);
      expect(opt.iteration).toBe(2);
      expect(opt.appliedSteps).toBe(1);
      opt.grads[1][12345] = 0.5;
      expect(opt.step().skipped).toBe(false);
      expect(opt.appliedSteps).toBe(2);
      expect(Array.from(opt.trace.skipped)).toEqual([0, 1, 0]);
      opt.dispose();
    });
  }

  test('without skipNonFinite the non-finite gradient is reported and propagates (as in PyTorch)', () => {
    const p = new Float32Array([1, 2, 3]);
    const res = sgdStep(p, new Float32Array([NaN, 0, 0]), null, { lr: 0.1, step: 1 });
    expect(res.nonFinite).toBe(true);
    expect(res.skipped).toBe(false);
    expect(Number.isNaN(p[0])).toBe(true);
    expect(p[1]).toBe(2);
  });

  test('the functional skip leaves caller arrays untouched', () => {
    const p = new Float32Array([1, 2, 3]);
    const m = new Float32Array([0.1, 0.2, 0.3]);
    const v = new Float32Array([0.01, 0.02, 0.03]);
    const res = adamStep(p, new Float32Array([1, Infinity, 1]), m, v, { step: 4, skipNonFinite: true });
    expect(res.skipped).toBe(true);
    expect(Array.from(p)).toEqual([1, 2, 3]);
    expect(Array.from(m)).toEqual(Array.from(new Float32Array([0.1, 0.2, 0.3])));
  });
});

describe('optimizer object', () => {
  test('trace: one record per step, read back in batches past the native ring', () => {
    const opt = new SGD([10], { lr: (t) => 0.1 / (1 + t), traceCapacity: 8 });
    for (let t = 0; t < 50; t++) {
      opt.grads[0].fill(t + 1);
      opt.step();
    }
    const tr = opt.trace;
    expect(tr.length).toBe(50);
    expect(tr.l2[9]).toBeCloseTo(10 * Math.sqrt(10), 10);
    expect(tr.l1[49]).toBe(500);
    expect(tr.lr[3]).toBe(0.1 / 4);
    opt.dispose();
  });

  test('stepAsync gives the same result as step, and a second call while in flight rejects', async () => {
    const r = rng(seed + 2);
    const init = [randomF32(100003, r)];
    const g = randomF32(100003, r);
    const a = new Adam(init);
    const b = new Adam(init);
    a.grads[0].set(g);
    b.grads[0].set(g);
    const ia = a.step();
    const pending = b.stepAsync();
    expect(() => b.step()).toThrow(/in flight/);
    await expect(b.stepAsync()).rejects.toThrow(/in flight/);
    const ib = await pending;
    expect(ib.gradNormL2).toBe(ia.gradNormL2);
    expect(Array.from(bits(b.readParams(0)))).toEqual(Array.from(bits(a.readParams(0))));
    a.dispose();
    b.dispose();
  });

  test('dispose during stepAsync waits for the step, then frees', async () => {
    const opt = new Adam([200000]);
    const view = opt.params[0];
    const pending = opt.stepAsync();
    opt.dispose();
    await expect(pending).rejects.toThrow(/disposed during stepAsync/);
    expect(view.length).toBe(0);
  });

  test('views are zero-copy; dispose detaches them and every method throws', () => {
    const opt = new AdamW([new Float32Array([1, 2, 3])]);
    const p = opt.params[0];
    opt.grads[0].set([1, 1, 1]);
    opt.step();
    expect(p[0]).toBe(opt.readParams(0)[0]);
    expect(opt.nativeBytes).toBeGreaterThan(0);
    opt.dispose();
    opt.dispose(); // twice is fine
    expect(opt.disposed).toBe(true);
    expect(p.length).toBe(0);
    expect(opt.nativeBytes).toBe(0);
    const calls: [string, () => unknown][] = [
      ['step', () => opt.step()],
      ['params', () => opt.params],
      ['grads', () => opt.grads],
      ['setGrads', () => opt.setGrads(0, new Float32Array(3))],
      ['setParams', () => opt.setParams(0, new Float32Array(3))],
      ['readParams', () => opt.readParams(0)],
      ['readGrads', () => opt.readGrads(0)],
      ['zeroGrad', () => opt.zeroGrad()],
      ['tensorNorms', () => opt.tensorNorms()],
      ['trace', () => opt.trace],
      ['iteration', () => opt.iteration],
      ['appliedSteps', () => opt.appliedSteps],
      ['device', () => opt.device],
      ['setOptions', () => opt.setOptions({ eps: 1e-6 })],
      ['lr=', () => (opt.lr = 0.1)],
    ];
    for (const [name, call] of calls) expect(call, name).toThrow(/disposed/);
  });

  test('using: Symbol.dispose frees the optimizer', () => {
    const opt = new SGD([4]);
    opt[Symbol.dispose]();
    expect(opt.disposed).toBe(true);
  });

  test('a throwing or bad schedule takes no step and leaves the optimizer usable', () => {
    let fail = true;
    const opt = new SGD([new Float32Array([1])], {
      lr: (t) => {
        if (fail) throw new Error('boom');
        return t === 0 ? -1 : 0.5;
      },
    });
    opt.grads[0][0] = 1;
    expect(() => opt.step()).toThrow(/schedule threw at iteration 0/);
    fail = false;
    expect(() => opt.step()).toThrow(RangeError);
    expect(opt.iteration).toBe(0);
    expect(opt.readParams(0)[0]).toBe(1);
    opt.lr = 0.5;
    opt.step();
    expect(opt.readParams(0)[0]).toBe(0.5);
    opt.dispose();
  });

  test('setOptions changes hyperparameters; zeroGrad clears gradients', () => {
    const opt = new SGD([new Float32Array([1])], { lr: 1 });
    opt.setOptions({ momentum: 0.5, lr: 0.5 });
    expect(opt.hyperparameters.momentum).toBe(0.5);
    opt.grads[0][0] = 2;
    opt.zeroGrad();
    expect(opt.grads[0][0]).toBe(0);
    opt.grads[0][0] = 1;
    opt.step();
    expect(opt.readParams(0)[0]).toBe(0.5);
    opt.dispose();
  });
});

describe('bad input throws TypeError/RangeError naming the argument', () => {
  const f = () => new Float32Array(4);
  const cases: BadInputCase[] = [
    ['params not a Float32Array', () => adamStep([1, 2] as never, f(), f(), f(), { step: 1 }), TypeError, /params/],
    ['grads Float64Array', () => adamStep(f(), new Float64Array(4) as never, f(), f(), { step: 1 }), TypeError, /grads/],
    ['mismatched lengths', () => adamStep(f(), new Float32Array(5), f(), f(), { step: 1 }), RangeError, /length 4 .*for grads but received Float32Array\(5\)/],
    ['expAvg length', () => adamStep(f(), f(), new Float32Array(3), f(), { step: 1 }), RangeError, /expAvg/],
    ['missing step', () => adamStep(f(), f(), f(), f(), {} as never), TypeError, /options\.step/],
    ['step 0', () => adamStep(f(), f(), f(), f(), { step: 0 }), RangeError, /options\.step/],
    ['step 1.5', () => adamStep(f(), f(), f(), f(), { step: 1.5 }), RangeError, /options\.step/],
    ['NaN lr', () => adamStep(f(), f(), f(), f(), { step: 1, lr: NaN }), RangeError, /options\.lr/],
    ['negative lr', () => adamStep(f(), f(), f(), f(), { step: 1, lr: -1 }), RangeError, /options\.lr/],
    ['string lr', () => adamStep(f(), f(), f(), f(), { step: 1, lr: '1' as never }), TypeError, /options\.lr/],
    ['beta1 = 1', () => adamStep(f(), f(), f(), f(), { step: 1, beta1: 1 }), RangeError, /\[0, 1\) for options\.beta1 but received 1 of type number/],
    ['beta2 < 0', () => adamStep(f(), f(), f(), f(), { step: 1, beta2: -0.1 }), RangeError, /options\.beta2/],
    ['eps NaN', () => adamStep(f(), f(), f(), f(), { step: 1, eps: NaN }), RangeError, /options\.eps/],
    ['weightDecay < 0', () => adamStep(f(), f(), f(), f(), { step: 1, weightDecay: -1 }), RangeError, /options\.weightDecay/],
    ['maxGradNorm 0', () => adamStep(f(), f(), f(), f(), { step: 1, maxGradNorm: 0 }), RangeError, /options\.maxGradNorm/],
    ['gradScale 0', () => adamStep(f(), f(), f(), f(), { step: 1, gradScale: 0 }), RangeError, /options\.gradScale/],
    ['skipNonFinite string', () => adamStep(f(), f(), f(), f(), { step: 1, skipNonFinite: 'yes' as never }), TypeError, /options\.skipNonFinite/],
    ['threads 0', () => adamStep(f(), f(), f(), f(), { step: 1, threads: 0 }), RangeError, /options\.threads/],
    ['unknown option', () => adamStep(f(), f(), f(), f(), { step: 1, betas: [0.9, 0.99] } as never), TypeError, /options\.betas/],
    ['aliased arrays', () => { const p = f(); return adamStep(p, f(), p, f(), { step: 1 }); }, RangeError, /params and expAvg/],
    ['overlapping views', () => { const b = new Float32Array(8); return adamStep(b.subarray(0, 4), f(), b.subarray(2, 6), f(), { step: 1 }); }, RangeError, /overlap/],
    ['sgd momentum without buffer', () => sgdStep(f(), f(), null, { step: 1, momentum: 0.9 }), TypeError, /momentumBuffer/],
    ['sgd nesterov without momentum', () => sgdStep(f(), f(), null, { step: 1, nesterov: true }), RangeError, /nesterov/],
    ['sgd dampening > 1', () => sgdStep(f(), f(), f(), { step: 1, momentum: 0.9, dampening: 2 }), RangeError, /options\.dampening/],
    ['class params not array', () => new Adam(f() as never), TypeError, /params/],
    ['class params empty', () => new Adam([]), RangeError, /params/],
    ['class params[1] bad', () => new Adam([f(), 'x' as never]), TypeError, /params\[1\]/],
    ['class params[0] negative', () => new SGD([-3]), RangeError, /params\[0\]/],
    ['class lr object', () => new Adam([4], { lr: {} as never }), TypeError, /options\.lr/],
    ['class threads', () => new Adam([4], { threads: 1000 }), RangeError, /options\.threads/],
    ['class device', () => new Adam([4], { device: 'tpu' as never }), RangeError, /options\.device/],
    ['class cuda without CUDA', () => (buildInfo().cuda.available ? (() => { throw new RangeError('options.device (CUDA present)'); })() : new Adam([4], { device: 'cuda' })), RangeError, /options\.device/],
    ['AdamW decoupled false', () => new AdamW([4], { decoupled: false } as never), RangeError, /decoupled/],
    ['options not object', () => new SGD([4], 5 as never), TypeError, /options/],
    ['setThreads 0', () => setThreads(0), RangeError, /threads/],
    ['setSimd unknown', () => setSimd('sse9' as never), RangeError, /level/],
  ];
  testBadInputs(cases);

  test('class methods validate index and data', () => {
    const opt = new Adam([4, 2]);
    expect(() => opt.setGrads(2, new Float32Array(2))).toThrow(/index/);
    expect(() => opt.setGrads(0, new Float32Array(2))).toThrow(RangeError);
    expect(() => opt.setGrads(0, [1, 2, 3, 4] as never)).toThrow(TypeError);
    expect(() => opt.readParams(-1)).toThrow(RangeError);
    expect(() => opt.readParams(0, new Float32Array(3))).toThrow(/out/);
    expect(() => opt.setOptions({ beta1: 2 })).toThrow(/options\.beta1/);
    const detached = new Float32Array(4);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => opt.setGrads(0, detached)).toThrow(RangeError);
    opt.dispose();
  });
});

describe('loader', () => {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const run = (code: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, FUSED_OPTIM_BINARY: '/nonexistent/fused_optim.node' },
      encoding: 'utf8',
    });
  test.skipIf(!existsSync(`${dist}index.js`))('schedules and refine import without the addon; native calls say what to run', () => {
    const res = run(`
      const s = await import(${JSON.stringify(`${dist}schedules/index.js`)});
      const root = await import(${JSON.stringify(`${dist}index.js`)});
      console.log(s.linearDecay({ peak: 1, steps: 10 })(5), root.linearDecay({ peak: 1, steps: 4 })(1));
      try { root.adamStep(new Float32Array(1), new Float32Array(1), new Float32Array(1), new Float32Array(1), { step: 1 }); }
      catch (e) { console.log(e.name + ': ' + e.message); }
    `);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^0\.5 0\.75/);
    expect(res.stdout).toMatch(/NativeAddonError: fused-optim: the native addon is not built/);
    expect(res.stdout).toMatch(/npm rebuild fused-optim/);
  });
  if (!existsSync(`${dist}index.js`)) console.log('loader test skipped: dist/ is not built (run `npm run build:ts`)');
});
