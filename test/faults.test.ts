/**
 * Faults: non-finite gradients at random steps, extreme hyperparameters, concurrent
 * stepAsync, use after dispose (every public member), detached and resized arrays, and
 * schedules that throw. Each case checks what the caller is promised: a clear error or the
 * documented outcome, state left bitwise intact where nothing should change, and an
 * optimizer that is still usable afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

import { Adam, AdamW, SGD, ScheduleFreeAdamW, adamStep, encodeCheckpoint, sgdStep, type FusedOptimizer } from '../src/index.js';
import { stepScales, worstError, type Scales } from './support/fuzz.js';
import { randomF32, refAdamStep, refSgdStep, rng, type RefAdamOptions, type RefSgdOptions } from './support/reference.js';

type Opt = FusedOptimizer<object>;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-faults-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** params + state (not the trace, which a skipped step extends) as bytes. */
function weights(opt: Opt): Buffer {
  const s = opt.stateDict();
  return Buffer.concat([...s.params.map(bytes), ...Object.values(s.state).flat().map(bytes)]);
}
const snapshot = (opt: Opt): Buffer => Buffer.concat([...encodeCheckpoint(opt.stateDict())]);

const KINDS: [string, (p: (Float32Array | number)[], o: Record<string, unknown>) => Opt][] = [
  ['SGD', (p, o) => new SGD(p, { momentum: 0.9, ...o })],
  ['Adam', (p, o) => new Adam(p, o)],
  ['AdamW', (p, o) => new AdamW(p, o)],
  ['ScheduleFreeAdamW', (p, o) => new ScheduleFreeAdamW(p, { warmupSteps: 2, ...o })],
];

describe('non-finite gradients at random steps', () => {
  for (const [name, make] of KINDS) {
    test(`${name}: skipped steps leave params and state bitwise intact and are counted in the trace`, () => {
      const r = rng(name.length * 7919);
      const lengths = [17, 1, 40_000, 5];
      const opt = make(lengths.map((n) => randomF32(n, r)), { lr: 0.01, skipNonFinite: true, maxGradNorm: 10, traceCapacity: 8 });
      let skipped = 0;
      let applied = 0;
      const STEPS = 60;
      for (let t = 0; t < STEPS; t++) {
        const grads = lengths.map((n) => randomF32(n, r));
        const bad = r() < 0.3;
        if (bad) {
          const k = Math.floor(r() * lengths.length);
          const value = [NaN, Infinity, -Infinity][Math.floor(r() * 3)];
          grads[k][Math.floor(r() * lengths[k])] = value;
        }
        grads.forEach((g, i) => opt.setGrads(i, g));
        const before = weights(opt);
        const info = opt.step();
        expect(info.nonFinite).toBe(bad);
        expect(info.skipped).toBe(bad);
        if (bad) {
          skipped++;
          expect(weights(opt).equals(before)).toBe(true);
        } else {
          applied++;
          expect(weights(opt).equals(before)).toBe(false);
        }
        expect(opt.iteration).toBe(t + 1);
        expect(opt.appliedSteps).toBe(applied);
      }
      const tr = opt.trace; // traceCapacity 8: read back in batches many times over
      expect(tr.length).toBe(STEPS);
      expect(tr.skipped.reduce((a, b) => a + b, 0)).toBe(skipped);
      expect(skipped).toBeGreaterThan(5);
      for (let t = 0; t < STEPS; t++) if (tr.skipped[t]) expect(Number.isFinite(tr.l2[t])).toBe(false);
      opt.dispose();
    });
  }

  test('a gradient that overflows only after gradScale is non-finite too (loss-scale overflow)', () => {
    const opt = new Adam([new Float32Array([1, 2])], { gradScale: 4, skipNonFinite: true });
    opt.setGrads(0, new Float32Array([3e38, 1]));
    const before = weights(opt);
    expect(opt.step().skipped).toBe(true);
    expect(weights(opt).equals(before)).toBe(true);
    opt.dispose();
  });

  test('functional API: a skipped step leaves all four arrays bitwise intact', () => {
    const r = rng(5);
    const p = randomF32(33, r);
    const m = randomF32(33, r, 0.1);
    const v = randomF32(33, r, 0.1).map(Math.abs);
    const g = randomF32(33, r);
    g[32] = NaN;
    const copies = [p, m, v].map((a) => a.slice());
    const out = adamStep(p, g, m, v, { step: 3, skipNonFinite: true });
    expect(out).toMatchObject({ skipped: true, nonFinite: true });
    [p, m, v].forEach((a, i) => expect(bytes(a).equals(bytes(copies[i]))).toBe(true));
    const buf = randomF32(33, r);
    const bufCopy = buf.slice();
    const pc = p.slice();
    expect(sgdStep(p, g, buf, { step: 2, momentum: 0.9, skipNonFinite: true }).skipped).toBe(true);
    expect(bytes(p).equals(bytes(pc)) && bytes(buf).equals(bytes(bufCopy))).toBe(true);
  });

  test('without skipNonFinite the step is applied and reported (nonFinite, not skipped)', () => {
    const opt = new SGD([3], { lr: 0.1 });
    opt.setGrads(0, new Float32Array([NaN, 1, 1]));
    const info = opt.step();
    expect(info).toMatchObject({ nonFinite: true, skipped: false });
    expect(Number.isNaN(opt.readParams(0)[0])).toBe(true);
    expect(opt.readParams(0)[1]).toBeCloseTo(-0.1, 7);
    expect(opt.appliedSteps).toBe(1);
    expect(opt.trace.skipped[0]).toBe(0);
    opt.dispose();
  });

  // The CPU kernels square and sum in double, so a huge finite gradient (its square is past
  // FLT_MAX) is still finite, with its true norm.
  test('a finite gradient of 1e20 is finite, with its true norm', () => {
    const opt = new SGD([4], { lr: 1e-22, skipNonFinite: true });
    opt.setGrads(0, new Float32Array([1e20, 1, 1, 1]));
    const info = opt.step();
    expect(info.nonFinite).toBe(false);
    expect(info.skipped).toBe(false);
    expect(info.gradNormL2 / Math.fround(1e20)).toBeCloseTo(1, 12);
    opt.dispose();
  });
});

describe('extreme hyperparameters', () => {
  const r = rng(11);
  const N = 257;
  const p0 = randomF32(N, r);
  const grads = [randomF32(N, r), randomF32(N, r), randomF32(N, r)];

  function adamVsReference(o: Partial<RefAdamOptions>, kind: 'adam' | 'adamw' = 'adam'): { p: Float32Array; worst: number } {
    const full: RefAdamOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: kind === 'adamw' ? 0.01 : 0, decoupled: kind === 'adamw', maxGradNorm: null, gradScale: 1, skipNonFinite: false, ...o };
    const { decoupled: _d, ...options } = full;
    const opt = kind === 'adam' ? new Adam([p0], options) : new AdamW([p0], options);
    const rp = [Float64Array.from(p0)];
    const rm = [new Float64Array(N)];
    const rv = [new Float64Array(N)];
    const sc: Scales = { p: [Float64Array.from(p0, Math.abs)], s1: [new Float64Array(N)], s2: [new Float64Array(N)] };
    let worst = 0;
    grads.forEach((g, t) => {
      opt.setGrads(0, g);
      opt.step();
      const ref = refAdamStep(rp, [g], rm, rv, full, t + 1);
      stepScales(kind, sc, [g], { ...full, momentum: 0, dampening: 0, nesterov: false }, ref.clipCoef, t + 1, { m: rm, v: rv });
      worst = Math.max(worst, worstError(opt.readParams(0), rp[0], sc.p[0]).err);
    });
    const p = opt.readParams(0);
    opt.dispose();
    return { p, worst };
  }

  function sgdVsReference(o: Partial<RefSgdOptions>): { p: Float32Array; worst: number } {
    const full: RefSgdOptions = { lr: 1e-3, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maxGradNorm: null, gradScale: 1, skipNonFinite: false, ...o };
    const opt = new SGD([p0], full);
    const rp = [Float64Array.from(p0)];
    const rb = [new Float64Array(N)];
    const sc: Scales = { p: [Float64Array.from(p0, Math.abs)], s1: [new Float64Array(N)], s2: [new Float64Array(N)] };
    let worst = 0;
    grads.forEach((g, t) => {
      opt.setGrads(0, g);
      opt.step();
      const ref = refSgdStep(rp, [g], rb, full, t + 1);
      stepScales('sgd', sc, [g], { ...full, beta1: 0, beta2: 0, eps: 0 }, ref.clipCoef, t + 1, { m: rb, v: rb });
      worst = Math.max(worst, worstError(opt.readParams(0), rp[0], sc.p[0]).err);
    });
    const p = opt.readParams(0);
    opt.dispose();
    return { p, worst };
  }

  const finite = (a: Float32Array): boolean => a.every(Number.isFinite);

  test('lr = 0 leaves params bitwise unchanged (SGD, Adam, AdamW with weight decay)', () => {
    for (const [, make] of KINDS) {
      const opt = make([p0], { lr: 0, weightDecay: 0.1 });
      for (const g of grads) {
        opt.setGrads(0, g);
        opt.step();
      }
      expect(bytes(opt.readParams(0)).equals(bytes(p0))).toBe(true);
      opt.dispose();
    }
    const p = p0.slice();
    adamStep(p, grads[0], new Float32Array(N), new Float32Array(N), { lr: 0, step: 1, weightDecay: 0.5, decoupled: true });
    expect(bytes(p).equals(bytes(p0))).toBe(true);
  });

  const adamCases: [string, Partial<RefAdamOptions>, 'adam' | 'adamw'][] = [
    ['huge lr (1e6)', { lr: 1e6 }, 'adam'],
    ['huge lr (1e6), AdamW', { lr: 1e6, weightDecay: 1e-7 }, 'adamw'],
    ['lr·weightDecay = 1 (AdamW decays to 0)', { lr: 10, weightDecay: 0.1 }, 'adamw'],
    ['tiny eps (1e-30)', { eps: 1e-30 }, 'adam'],
    ['eps = 0', { eps: 0 }, 'adam'],
    ['beta1 = 0', { beta1: 0 }, 'adam'],
    ['beta2 = 0', { beta2: 0 }, 'adam'],
    ['beta1 = beta2 = 0', { beta1: 0, beta2: 0 }, 'adamw'],
    ['beta2 close to 1', { beta2: 1 - 1e-9 }, 'adam'],
    ['huge eps (1e10)', { eps: 1e10 }, 'adam'],
    ['tiny maxGradNorm (1e-30)', { maxGradNorm: 1e-30 }, 'adam'],
    ['tiny gradScale (2^-40)', { gradScale: 2 ** -40 }, 'adam'],
    ['huge gradScale (2^40)', { gradScale: 2 ** 40 }, 'adamw'],
  ];
  test.each(adamCases)('Adam %s: finite and equal to the reference', (_n, o, kind) => {
    const { p, worst } = adamVsReference(o, kind);
    expect(finite(p)).toBe(true);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  const sgdCases: [string, Partial<RefSgdOptions>][] = [
    ['huge lr (1e30)', { lr: 1e30 }],
    ['huge lr, nesterov', { lr: 1e20, nesterov: true }],
    ['momentum = 0', { momentum: 0 }],
    ['dampening = 1', { dampening: 1 }],
    ['momentum > 1 (2)', { momentum: 2 }],
    ['tiny lr (1e-30)', { lr: 1e-30 }],
    ['huge weight decay', { weightDecay: 1e6, lr: 1e-7 }],
    ['tiny maxGradNorm', { maxGradNorm: 1e-30 }],
  ];
  test.each(sgdCases)('SGD %s: finite and equal to the reference', (_n, o) => {
    const { p, worst } = sgdVsReference(o);
    expect(finite(p)).toBe(true);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  test('an lr that overflows float32 gives infinite weights, reported as such (not a crash)', () => {
    const opt = new SGD([new Float32Array([1, -1])], { lr: 3e38 });
    opt.setGrads(0, new Float32Array([2, -2]));
    expect(opt.step().nonFinite).toBe(false); // the gradient was finite
    expect(Array.from(opt.readParams(0))).toEqual([-Infinity, Infinity]);
    opt.dispose();
  });
});

describe('concurrent stepAsync', () => {
  const make = (): SGD => new SGD([new Float32Array(50_000).fill(1), 3], { lr: 0.1, momentum: 0.9 });
  const grads = (opt: Opt, t: number): void => opt.lengths.forEach((n, i) => opt.setGrads(i, randomF32(n, rng(t * 31 + i))));

  test('a second stepAsync while one is in flight rejects; the first completes alone', async () => {
    const a = make();
    const twin = make();
    grads(a, 1);
    grads(twin, 1);
    const results = await Promise.allSettled([a.stepAsync(), a.stepAsync(), a.stepAsync()]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/in flight/);
    twin.step();
    expect(snapshot(a).equals(snapshot(twin))).toBe(true); // exactly one step, not interleaved
    expect(a.iteration).toBe(1);
    a.dispose();
    twin.dispose();
  });

  test('every other member throws while a stepAsync is in flight; awaited steps equal sync steps', async () => {
    const a = make();
    const twin = make();
    for (let t = 0; t < 10; t++) {
      grads(a, t);
      grads(twin, t);
      const pending = a.stepAsync();
      expect(() => a.step()).toThrow(/in flight/);
      expect(() => a.setGrads(0, new Float32Array(50_000))).toThrow(/in flight/);
      expect(() => a.readParams(0)).toThrow(/in flight/);
      expect(() => a.zeroGrad()).toThrow(/in flight/);
      expect(() => a.stateDict()).toThrow(/in flight/);
      expect(() => a.setOptions({ lr: 1 })).toThrow(/in flight/);
      expect(() => a.params).toThrow(/in flight/);
      await pending;
      twin.step();
    }
    expect(snapshot(a).equals(snapshot(twin))).toBe(true);
    a.dispose();
    twin.dispose();
  });

  test('stepAsync on several optimizers at once (shared thread pool) equals sync steps', async () => {
    const n = 4;
    const opts = Array.from({ length: n }, () => make());
    const twins = Array.from({ length: n }, () => make());
    for (let t = 0; t < 5; t++) {
      opts.forEach((o, k) => grads(o, t * 10 + k));
      twins.forEach((o, k) => grads(o, t * 10 + k));
      await Promise.all(opts.map((o) => o.stepAsync()));
      twins.forEach((o) => o.step());
    }
    opts.forEach((o, k) => expect(snapshot(o).equals(snapshot(twins[k]))).toBe(true));
    [...opts, ...twins].forEach((o) => o.dispose());
  });
});

describe('use after dispose', () => {
  /** Public members that stay usable after dispose, by design. */
  const ALLOWED = new Set(['disposed', 'nativeBytes', 'dispose', 'constructor']);
  /** TS-protected internals (visible at run time, not part of the API). */
  const PROTECTED = new Set(['live', 'native', 'setCounters', 'pack', 'checkHyperparameters', 'restoreHyperparameters', 'lerpSlots', 'hostState', 'pointMode']);

  function members(obj: object): Map<string | symbol, PropertyDescriptor> {
    const out = new Map<string | symbol, PropertyDescriptor>();
    for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const key of Reflect.ownKeys(p)) if (!out.has(key)) out.set(key, Object.getOwnPropertyDescriptor(p, key)!);
    }
    return out;
  }

  for (const [name, make] of KINDS) {
    test(`${name}: every public method and getter throws a clear error after dispose`, async () => {
      const opt = make([4, 3], { lr: 0.1 });
      const file = path.join(dir, `${name}.ckpt`);
      opt.saveSync(file);
      const state = opt.stateDict();
      const args: Record<string, unknown[]> = {
        setGrads: [0, new Float32Array(4)],
        setParams: [0, new Float32Array(4)],
        readParams: [0],
        readGrads: [0],
        setOptions: [{}],
        loadStateDict: [state],
        save: [path.join(dir, 'x.ckpt')],
        saveSync: [path.join(dir, 'x.ckpt')],
        load: [file],
        loadSync: [file],
      };
      opt.dispose();
      opt.dispose(); // twice is fine
      opt[Symbol.dispose]();
      expect(opt.disposed).toBe(true);
      expect(opt.nativeBytes).toBe(0);
      const checked: string[] = [];
      for (const [key, d] of members(opt)) {
        if (typeof key === 'symbol') {
          if (key !== Symbol.dispose) throw new Error(`unexpected symbol member ${String(key)}`);
          continue;
        }
        if (ALLOWED.has(key) || PROTECTED.has(key)) continue;
        checked.push(key);
        if (d.get) {
          expect(() => d.get!.call(opt), `getter ${key}`).toThrow(/has been disposed/);
          if (d.set) expect(() => d.set!.call(opt, 0.1), `setter ${key}`).toThrow(/has been disposed/);
          continue;
        }
        if (typeof d.value !== 'function') continue;
        let result: unknown;
        let thrown: unknown;
        try {
          result = (d.value as (...a: unknown[]) => unknown).apply(opt, args[key] ?? []);
        } catch (e) {
          thrown = e;
        }
        if (result instanceof Promise) {
          await expect(result, `async ${key}`).rejects.toThrow(/has been disposed/);
        } else {
          expect(thrown, `method ${key}`).toBeInstanceOf(Error);
          expect((thrown as Error).message, `method ${key}`).toMatch(/has been disposed/);
        }
      }
      // the inventory: a new member must be added to `args` if it takes arguments
      expect(checked.length).toBeGreaterThanOrEqual(28);
      for (const k of ['step', 'stepAsync', 'params', 'grads', 'trace', 'lr', 'currentLr', 'lengths', 'hyperparameters', 'stateDict', 'save', 'load', 'kind']) {
        expect(checked).toContain(k);
      }
    });
  }

  test('dispose during stepAsync: the promise rejects, memory is freed when the step ends', async () => {
    const opt = new Adam([200_000], { lr: 0.1 });
    const view = opt.params[0];
    opt.grads[0].fill(1);
    const pending = opt.stepAsync();
    opt.dispose();
    expect(opt.disposed).toBe(true);
    await expect(pending).rejects.toThrow(/disposed during stepAsync/);
    expect(opt.nativeBytes).toBe(0);
    expect(view.length).toBe(0); // the zero-copy view was detached
    opt.dispose();
  });

  test('zero-copy views become empty after dispose (no access to freed memory)', () => {
    const opt = new SGD([10]);
    const p = opt.params[0];
    const g = opt.grads[0];
    opt.dispose();
    expect(p.length).toBe(0);
    expect(g.length).toBe(0);
    expect(p[3]).toBeUndefined();
  });
});

describe('detached and resized arrays', () => {
  const detached = (n: number): Float32Array => {
    const a = new Float32Array(n);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };

  test('functional API: a detached array is a RangeError naming it', () => {
    const n = 8;
    const ok = (): Float32Array => new Float32Array(n);
    expect(() => adamStep(ok(), detached(n), ok(), ok(), { step: 1 })).toThrow(/for grads but received Float32Array\(0\) \(possibly detached\)/);
    expect(() => adamStep(ok(), ok(), ok(), detached(n), { step: 1 })).toThrow(RangeError);
    expect(() => sgdStep(ok(), ok(), detached(n), { step: 1, momentum: 0.9 })).toThrow(/momentumBuffer/);
    expect(() => adamStep(detached(n), ok(), ok(), ok(), { step: 1 })).toThrow(/length 0 \(the length of params\) for grads/);
    // all four detached: an empty step, not a crash
    expect(adamStep(detached(n), detached(n), detached(n), detached(n), { step: 1 }).gradNormL2).toBe(0);
  });

  test('class: setGrads/setParams/readParams with a detached array is a RangeError naming data/out', () => {
    const opt = new Adam([8]);
    expect(() => opt.setGrads(0, detached(8))).toThrow(/for data but received Float32Array\(0\) \(possibly detached\)/);
    expect(() => opt.setParams(0, detached(8))).toThrow(RangeError);
    expect(() => opt.readParams(0, detached(8))).toThrow(/for out/);
    opt.step();
    opt.dispose();
  });

  test('a length-tracking array over a resizable buffer: checked at its current length', () => {
    const rab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(32, { maxByteLength: 64 });
    const a = new Float32Array(rab); // tracks the buffer's length
    const opt = new SGD([8]);
    opt.setGrads(0, a); // 8 elements: accepted
    (rab as ArrayBuffer & { resize(n: number): void }).resize(16);
    expect(a.length).toBe(4);
    expect(() => opt.setGrads(0, a)).toThrow(/for data but received Float32Array\(4\)/);
    (rab as ArrayBuffer & { resize(n: number): void }).resize(64);
    expect(() => opt.setGrads(0, a)).toThrow(RangeError);
    expect(() => sgdStep(new Float32Array(16), a, null, { step: 1 })).not.toThrow();
    opt.step();
    opt.dispose();
  });

  test("structuredClone-transferring a zero-copy view's buffer never moves it: the optimizer keeps its memory", () => {
    const opt = new SGD([16], { lr: 1 });
    const view = opt.grads[0];
    // Node 20 copies an external ArrayBuffer it is asked to transfer; Node 22 and later refuse
    // (DataCloneError). Either way the view stays attached to the arena.
    let clone: ArrayBuffer | null = null;
    try {
      clone = structuredClone(view.buffer as ArrayBuffer, { transfer: [view.buffer as ArrayBuffer] });
    } catch (e) {
      expect((e as Error).name).toBe('DataCloneError');
    }
    expect(view.length).toBe(16); // not detached: the addon's buffers cannot be transferred
    if (clone !== null) {
      new Float32Array(clone).fill(5);
      expect(opt.readGrads(0)[0]).toBe(0); // the clone is a copy
    }
    opt.dispose();
    if (clone !== null) expect(new Float32Array(clone)[0]).toBe(5); // the copy outlives the optimizer
  });

  test('lengths cannot be changed by the caller', () => {
    const opt = new SGD([3, 4]);
    expect(() => {
      (opt.lengths as number[])[0] = 1e9;
    }).toThrow(TypeError);
    expect(opt.lengths).toEqual([3, 4]);
    expect(opt.params[0].length).toBe(3);
    opt.dispose();
  });
});

describe('schedules that throw or return nonsense', () => {
  test('an exception: a clear error naming the iteration, no step taken, optimizer still usable', async () => {
    const boom = new Error('boom');
    const schedule = (t: number): number => {
      if (t === 3) throw boom;
      return 0.1;
    };
    for (const [, make] of KINDS) {
      const opt = make([5], { lr: schedule });
      for (let t = 0; t < 3; t++) {
        opt.setGrads(0, randomF32(5, rng(t)));
        opt.step();
      }
      const before = snapshot(opt);
      let err: Error | undefined;
      try {
        opt.step();
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toMatch(/the lr schedule threw at iteration 3; no step was taken/);
      expect(err?.cause).toBe(boom);
      await expect(opt.stepAsync()).rejects.toThrow(/threw at iteration 3/);
      expect(() => opt.currentLr).toThrow(/threw at iteration 3/);
      expect(snapshot(opt).equals(before)).toBe(true);
      expect(opt.iteration).toBe(3);
      expect(opt.trace.length).toBe(3);
      opt.lr = 0.05; // recover
      expect(opt.step().lr).toBe(0.05);
      expect(opt.iteration).toBe(4);
      opt.dispose();
    }
  });

  test.each([
    ['NaN', NaN],
    ['-1', -1],
    ['Infinity', Infinity],
    ["'0.1'", '0.1'],
    ['undefined', undefined],
  ])('a schedule returning %s: RangeError naming the value at the iteration, no step', (_n, value) => {
    const opt = new Adam([3], { lr: () => value as number });
    const before = snapshot(opt);
    expect(() => opt.step()).toThrow(RangeError);
    expect(() => opt.step()).toThrow(/for the value of the lr schedule at iteration 0/);
    expect(snapshot(opt).equals(before)).toBe(true);
    opt.dispose();
  });
});
