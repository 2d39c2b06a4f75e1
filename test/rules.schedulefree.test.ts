/**
 * Schedule-free AdamW against a float64 reference written from `AdamWScheduleFree`
 * (facebookresearch/schedule_free, schedulefree/adamw_schedulefree.py, release 1.3): 9 steps
 * with warm-up, odd lengths (SIMD tails and a tensor over one 16384-element chunk), several
 * tensors, two groups with different hyperparameters; eval/train switching; the host state
 * (lrMax, weightSum) and skipped steps; checkpoints with the mode; the trace's refusal to be
 * refined; fast-check cases; bad options; the tfjs adapter's eval/train; CUDA parity (skipped
 * with its reason where no device is usable).
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance: |a − e| ≤ 2e-5 ·
 * max(|e|, 1e-2 · max|e| of the array): float32 against float64 over 9 steps.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';

import { NormTrace, ScheduleFreeAdamW, buildInfo, createOptimizer, decodeCheckpoint, encodeCheckpoint, readCheckpointSync, setSimd, type SimdLevel } from '../src/index.js';
import { runCli } from '../src/cli.js';
import { FusedTfOptimizer } from '../src/tfjs/index.js';
import { randomF32, refDecide, rng, scaledError } from './support/reference.js';
import { testSeed } from './support/seed.js';

const seed = testSeed('rules.schedulefree.test', 20261212);
const TOL = 2e-5;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-sf-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// (maxRelError with this floor, less its NaN-equals-NaN leniency: stricter, and no NaN is expected here)
const close = scaledError;

interface SfHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
}

const DEFAULTS: SfHyper = { lr: 0.0025, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 };

/** One group of the float64 reference: y (the parameters), z, v, and the group's k, lr_max, weight_sum. */
class RefGroup {
  y: Float64Array[];
  z: Float64Array[] | null = null;
  v: Float64Array[];
  k = 0;
  lrMax = -1;
  weightSum = 0;
  constructor(
    init: Float32Array[],
    public h: SfHyper,
  ) {
    this.y = init.map((a) => Float64Array.from(a));
    this.v = init.map((a) => new Float64Array(a.length));
  }

  /** The reference's step for this group, g already multiplied by gradScale and the clip coefficient. */
  step(g: ArrayLike<number>[], scale: number, clip: number): void {
    const h = this.h;
    const k = this.k;
    const sched = k < h.warmupSteps ? (k + 1) / h.warmupSteps : 1;
    const bc2 = 1 - h.beta2 ** (k + 1);
    const lr = h.lr * sched;
    this.lrMax = Math.max(lr, this.lrMax);
    const weight = (k + 1) ** h.r * this.lrMax ** h.weightLrPower;
    this.weightSum += weight;
    const ckp1 = this.weightSum === 0 ? 0 : weight / this.weightSum;
    this.z ??= this.y.map((a) => a.slice()); // the reference's lazy state: z = clone(p)
    for (let t = 0; t < this.y.length; t++) {
      const y = this.y[t], z = this.z[t], v = this.v[t];
      for (let i = 0; i < y.length; i++) {
        const gi = Math.fround(g[t][i] * scale) * clip;
        v[i] = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
        const denom = Math.sqrt(v[i] / bc2) + h.eps;
        const gn = gi / denom + h.weightDecay * y[i];
        y[i] = y[i] + ckp1 * (z[i] - y[i]);
        y[i] += lr * (h.beta1 * (1 - ckp1) - 1) * gn;
        z[i] -= lr * gn;
      }
    }
    this.k = k + 1;
  }

  /** x = y + (1 − 1/β1)(z − y): what eval() shows. */
  x(): Float64Array[] {
    if (this.z === null) return this.y.map((a) => a.slice());
    const c = 1 - 1 / this.h.beta1;
    return this.y.map((y, t) => y.map((yi, i) => yi + c * ((this.z as Float64Array[])[t][i] - yi)));
  }
}

describe(`ScheduleFreeAdamW against float64 (seed ${seed})`, () => {
  for (const clip of [null, 0.8]) {
    test(`two groups, warm-up, odd sizes, 9 steps, maxGradNorm ${clip}`, () => {
      const r = rng(seed);
      const lengths = [[1, 17, 20_001], [33, 5]];
      const init = lengths.map((g) => g.map((n) => randomF32(n, r)));
      const h0: SfHyper = { ...DEFAULTS, lr: 0.02, weightDecay: 0.05, warmupSteps: 4 };
      const h1: SfHyper = { ...DEFAULTS, lr: 0.005, beta1: 0.8, beta2: 0.99, warmupSteps: 0, r: 1, weightLrPower: 1, eps: 1e-6 };
      const make = (threads: number): ScheduleFreeAdamW =>
        new ScheduleFreeAdamW(
          [
            { params: init[0].map((a) => a.slice()) },
            { params: init[1].map((a) => a.slice()), lr: 0.005, weightDecay: 0, beta1: 0.8, beta2: 0.99, warmupSteps: 0, r: 1, weightLrPower: 1, eps: 1e-6 },
          ],
          { lr: 0.02, weightDecay: 0.05, warmupSteps: 4, maxGradNorm: clip, gradScale: 0.5, threads },
        );
      const opt = make(2);
      const one = make(1);
      const ref = [new RefGroup(init[0], h0), new RefGroup(init[1], h1)];
      for (let t = 1; t <= 9; t++) {
        const grads = lengths.map((g) => g.map((n) => randomF32(n, r, 2)));
        grads.flat().forEach((g, i) => {
          opt.setGrads(i, g);
          one.setGrads(i, g);
        });
        const info = opt.step();
        one.step();
        const d = refDecide(grads.flat(), 0.5, clip, false);
        expect(Math.abs(info.gradNormL2 - d.l2) / d.l2).toBeLessThan(2e-6);
        if (clip !== null) expect(info.clipCoef).toBeLessThan(1);
        ref.forEach((g, gi) => g.step(grads[gi], 0.5, d.clipCoef));
      }
      const st = opt.stateDict();
      let k = 0;
      ref.forEach((g, gi) => {
        g.y.forEach((y, j) => {
          expect(close(opt.readParams(k), y), `y group ${gi} tensor ${j}`).toBeLessThan(TOL);
          expect(close(st.state.z[k], (g.z as Float64Array[])[j]), `z group ${gi} tensor ${j}`).toBeLessThan(TOL);
          expect(close(st.state.expAvgSq[k], g.v[j]), `v group ${gi} tensor ${j}`).toBeLessThan(TOL);
          // 1 and 2 threads: bitwise the same
          expect(Buffer.from(one.readParams(k).buffer).equals(Buffer.from(opt.readParams(k).buffer)), `threads, tensor ${k}`).toBe(true);
          k++;
        });
        const hs = st.groups?.[gi].hostState as Record<string, number>;
        expect(hs.lrMax).toBe(g.lrMax);
        expect(Math.abs(hs.weightSum - g.weightSum) / g.weightSum).toBeLessThan(1e-12);
      });
      // eval: x, each group with its own β1; train: y again (within fp32 rounding of the two lerps)
      opt.eval();
      k = 0;
      ref.forEach((g, gi) => g.x().forEach((x, j) => expect(close(opt.readParams(k++), x), `x group ${gi} tensor ${j}`).toBeLessThan(TOL)));
      opt.train();
      k = 0;
      ref.forEach((g) => g.y.forEach((y) => expect(close(opt.readParams(k++), y)).toBeLessThan(TOL)));
      opt.dispose();
      one.dispose();
    });
  }

  test('parameters written after construction are where z starts (zero-copy views, setParams)', () => {
    const r = rng(seed + 1);
    const init = [randomF32(37, r), randomF32(3, r)];
    const opt = new ScheduleFreeAdamW([37, 3], { lr: 0.01, warmupSteps: 2 });
    opt.params[0].set(init[0]);
    opt.setParams(1, init[1]);
    const ref = new RefGroup(init, { ...DEFAULTS, lr: 0.01, warmupSteps: 2 });
    for (let t = 0; t < 7; t++) {
      const g = [randomF32(37, r), randomF32(3, r)];
      g.forEach((a, i) => opt.setGrads(i, a));
      opt.step();
      ref.step(g, 1, 1);
    }
    ref.y.forEach((y, i) => expect(close(opt.readParams(i), y)).toBeLessThan(TOL));
    expect(close(opt.stateDict().state.z[0], (ref.z as Float64Array[])[0])).toBeLessThan(TOL);
    opt.dispose();
  });

  test('the defaults are the reference’s; lr 0 leaves the weight sum at 0 (ckp1 = 0)', () => {
    const opt = new ScheduleFreeAdamW([3]);
    expect(opt.hyperparameters).toMatchObject({ lr: 0.0025, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 });
    expect(opt.kind).toBe('schedulefree-adamw');
    opt.dispose();
    const zero = new ScheduleFreeAdamW([new Float32Array([1, -2])], { lr: 0 });
    zero.grads[0].set([1, 1]);
    zero.step();
    zero.step();
    expect(Array.from(zero.params[0])).toEqual([1, -2]);
    expect(zero.stateDict().groups?.[0].hostState).toEqual({ lrMax: 0, weightSum: 0 });
    zero.dispose();
  });
});

describe('determinism', () => {
  /** 6 steps with clipping over chunk-straddling lengths, then eval: every bit of y, z, v and x. */
  const runOnce = (threads: number, simd?: SimdLevel): string[] => {
    if (simd) setSimd(simd);
    const r = rng(seed + 7);
    const lengths = [70_001, 16_384, 16_385, 1, 99];
    const opt = new ScheduleFreeAdamW(
      [{ params: lengths.slice(0, 3).map((n) => randomF32(n, r)) }, { params: lengths.slice(3).map((n) => randomF32(n, r)), beta1: 0.7, weightDecay: 0.1 }],
      { lr: 0.01, warmupSteps: 3, maxGradNorm: 5, threads },
    );
    for (let t = 0; t < 6; t++) {
      lengths.forEach((n, i) => opt.grads[i].set(randomF32(n, r)));
      opt.step();
    }
    const st = opt.stateDict();
    opt.eval();
    const out = [...st.params, ...st.state.z, ...st.state.expAvgSq, ...lengths.map((_, i) => opt.readParams(i))].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'));
    opt.dispose();
    return out;
  };
  test('bitwise identical for 1, 2 and 3 threads', () => {
    const one = runOnce(1);
    expect(runOnce(2)).toEqual(one);
    expect(runOnce(3)).toEqual(one);
  });
  test(`bitwise identical on every SIMD level this CPU has (${buildInfo().simdSupported.join(', ')})`, () => {
    const levels = buildInfo().simdSupported as SimdLevel[];
    const initial = buildInfo().simd as SimdLevel;
    try {
      const first = runOnce(2, levels[0]);
      for (const level of levels.slice(1)) expect(runOnce(2, level), level).toEqual(first);
    } finally {
      setSimd(initial);
    }
  });
});

describe('eval and train', () => {
  test('step in eval mode throws; eval twice and train twice are no-ops; before the first step nothing moves', async () => {
    const opt = new ScheduleFreeAdamW([new Float32Array([1, 2, 3])], { lr: 0.1 });
    expect(opt.mode).toBe('train');
    opt.eval(); // no step yet: only the mode
    expect(Array.from(opt.params[0])).toEqual([1, 2, 3]);
    expect(() => opt.step()).toThrow(/eval mode.*call train\(\) before step\(\)/);
    await expect(opt.stepAsync()).rejects.toThrow(/eval mode/);
    expect(opt.iteration).toBe(0);
    opt.train();
    expect(Array.from(opt.params[0])).toEqual([1, 2, 3]);
    opt.grads[0].set([0.5, -0.5, 1]);
    opt.step();
    opt.grads[0].set([0.25, 0.5, -1]);
    opt.step();
    const y = opt.readParams(0);
    opt.train(); // already training
    expect(Array.from(opt.readParams(0))).toEqual(Array.from(y));
    opt.eval();
    const x = opt.readParams(0);
    expect(Array.from(x)).not.toEqual(Array.from(y));
    opt.eval(); // already in eval mode
    expect(Array.from(opt.readParams(0))).toEqual(Array.from(x));
    expect(opt.mode).toBe('eval');
    opt.train();
    expect(close(opt.readParams(0), y)).toBeLessThan(1e-6);
    opt.dispose();
  });

  test('a skipped step leaves parameters, state and host state untouched and is not counted', () => {
    const r = rng(seed + 2);
    const init = [randomF32(101, r)];
    const opt = new ScheduleFreeAdamW([init[0].slice()], { lr: 0.01, warmupSteps: 3, skipNonFinite: true });
    const ref = new RefGroup(init, { ...DEFAULTS, lr: 0.01, warmupSteps: 3 });
    for (let t = 0; t < 8; t++) {
      const g = randomF32(101, r);
      if (t === 0 || t === 4) g[7] = NaN; // the very first step too: z must not be taken then
      opt.setGrads(0, g);
      const before = opt.stateDict();
      const info = opt.step();
      if (t === 0 || t === 4) {
        expect(info.skipped).toBe(true);
        const after = opt.stateDict();
        expect(after.groups).toEqual(before.groups); // lrMax, weightSum untouched
        expect(Buffer.from(after.params[0].buffer).equals(Buffer.from(before.params[0].buffer))).toBe(true);
        expect(Buffer.from(after.state.z[0].buffer).equals(Buffer.from(before.state.z[0].buffer))).toBe(true);
        expect(Buffer.from(after.state.expAvgSq[0].buffer).equals(Buffer.from(before.state.expAvgSq[0].buffer))).toBe(true);
        continue;
      }
      ref.step([g], 1, 1);
    }
    expect(opt.appliedSteps).toBe(6);
    expect(close(opt.readParams(0), ref.y[0])).toBeLessThan(TOL);
    opt.dispose();
  });
});

describe('checkpoints', () => {
  const run = (opt: ScheduleFreeAdamW, r: () => number, steps: number): void => {
    for (let t = 0; t < steps; t++) {
      opt.setGrads(0, randomF32(opt.lengths[0], r));
      opt.setGrads(1, randomF32(opt.lengths[1], r));
      opt.step();
    }
  };
  const build = (): ScheduleFreeAdamW => new ScheduleFreeAdamW([{ params: [50] }, { params: [9], beta1: 0.7 }], { lr: 0.01, warmupSteps: 3 });

  test('a checkpoint saved in eval mode loads in eval mode, and the run resumes bit for bit', () => {
    const a = build();
    a.params[0].fill(0.5);
    run(a, rng(seed + 3), 5);
    a.eval();
    const file = path.join(tmp, 'sf.ckpt');
    a.saveSync(file);
    expect(readCheckpointSync(file).mode).toBe('eval');
    const b = build();
    b.loadSync(file);
    expect(b.mode).toBe('eval');
    expect(() => b.step()).toThrow(/eval mode/);
    expect(Array.from(b.readParams(0))).toEqual(Array.from(a.readParams(0)));
    a.train();
    b.train();
    const ra = rng(seed + 4), rb = rng(seed + 4);
    run(a, ra, 4);
    run(b, rb, 4);
    for (const i of [0, 1]) expect(Buffer.from(b.readParams(i).buffer).equals(Buffer.from(a.readParams(i).buffer))).toBe(true);
    expect(b.stateDict().groups).toEqual(a.stateDict().groups);
    a.dispose();
    b.dispose();
  });

  test('state dicts carry the mode; one without it loads in train mode; a bad mode is refused by name', () => {
    const a = build();
    run(a, rng(seed + 5), 2);
    a.eval();
    const s = a.stateDict();
    expect(s.mode).toBe('eval');
    const decoded = decodeCheckpoint(Buffer.concat([...encodeCheckpoint(s)]));
    expect(decoded.mode).toBe('eval');
    const b = build();
    b.eval();
    const { mode: _mode, ...withoutMode } = s;
    b.loadStateDict(withoutMode);
    expect(b.mode).toBe('train');
    expect(() => b.loadStateDict({ ...s, mode: 'test' as never })).toThrow(/state\.mode/);
    expect(b.mode).toBe('train'); // unchanged by the refused load
    const adam = createOptimizer('adamw', [3]);
    expect(adam.stateDict().mode).toBeUndefined();
    adam.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('the trace', () => {
  test('refining a schedule-free trace throws and says why', () => {
    const opt = new ScheduleFreeAdamW([10], { lr: 0.01 });
    opt.grads[0].fill(0.1);
    for (let i = 0; i < 5; i++) opt.step();
    const trace = opt.trace;
    expect(trace.kind).toBe('schedulefree-adamw');
    expect(() => trace.refine()).toThrow(/'schedulefree-adamw' trace cannot be refined.*no schedule to refine/);
    expect(() => trace.refineByBound()).toThrow(/cannot be refined/);
    const copy = NormTrace.fromJSON(trace.toJSON());
    expect(() => copy.refine({ method: 'adam' })).toThrow(/cannot be refined/);
    opt.dispose();
  });

  test('the CLI says so in one line', async () => {
    const opt = new ScheduleFreeAdamW([10], { lr: 0.01 });
    opt.grads[0].fill(0.1);
    for (let i = 0; i < 5; i++) opt.step();
    const file = path.join(tmp, 'sf-trace.json');
    await opt.trace.save(file);
    opt.dispose();
    const err: string[] = [];
    const code = await runCli(['refine', file, '--out', path.join(tmp, 'sf-schedule.json')], { stdout: () => {}, stderr: (s) => err.push(s) });
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/'schedulefree-adamw' trace cannot be refined/);
    expect(fs.existsSync(path.join(tmp, 'sf-schedule.json'))).toBe(false);
  });
});

describe('property: random configurations against float64', () => {
  test('fast-check', () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 70 }),
          lr: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
          beta1: fc.double({ min: 0.05, max: 0.99, noNaN: true }),
          beta2: fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
          weightDecay: fc.constantFrom(0, 0.01, 0.3),
          warmupSteps: fc.integer({ min: 0, max: 6 }),
          r: fc.constantFrom(0, 0.5, 2),
          weightLrPower: fc.constantFrom(0, 1, 2),
          steps: fc.integer({ min: 1, max: 8 }),
          dataSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        }),
        (c) => {
          const r = rng(c.dataSeed);
          const init = [randomF32(c.n, r)];
          const { n: _n, steps, dataSeed: _d, ...h } = c;
          const opt = new ScheduleFreeAdamW([init[0].slice()], h);
          const ref = new RefGroup(init, { ...DEFAULTS, ...h });
          try {
            for (let t = 0; t < steps; t++) {
              const g = randomF32(c.n, r);
              opt.setGrads(0, g);
              opt.step();
              ref.step([g], 1, 1);
            }
            expect(close(opt.readParams(0), ref.y[0])).toBeLessThan(1e-4);
            opt.eval();
            expect(close(opt.readParams(0), ref.x()[0])).toBeLessThan(1e-4);
          } finally {
            opt.dispose();
          }
        },
      ),
      { seed, numRuns: 60 },
    );
  });
});

describe('bad options name the option', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['beta1 0 (x would be at infinity)', { beta1: 0 }, /\(0, 1\) for options\.beta1/],
    ['beta1 1', { beta1: 1 }, /options\.beta1/],
    ['beta2 1', { beta2: 1 }, /options\.beta2/],
    ['warmupSteps 2.5', { warmupSteps: 2.5 }, /options\.warmupSteps/],
    ['warmupSteps -1', { warmupSteps: -1 }, /options\.warmupSteps/],
    ['r -1', { r: -1 }, /options\.r\b/],
    ['weightLrPower NaN', { weightLrPower: NaN }, /options\.weightLrPower/],
    ['eps -1e-8', { eps: -1e-8 }, /options\.eps/],
    ['weightDecay "0.1"', { weightDecay: '0.1' }, /options\.weightDecay/],
    ['momentum (not an option)', { momentum: 0.9 }, /Unknown option options\.momentum/],
  ];
  for (const [label, o, re] of cases) {
    test(label, () => {
      expect(() => new ScheduleFreeAdamW([3], o)).toThrow(re);
    });
  }
  test('per group', () => {
    expect(() => new ScheduleFreeAdamW([{ params: [3] }, { params: [2], warmupSteps: 0.5 }])).toThrow(/params\[1\]\.warmupSteps/);
  });
});

describe('tfjs adapter: eval() and train() move the variables', () => {
  test('minimize, eval, train', async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.tensor1d([1, -1, 0.5]), true, 'sf_w');
    const target = tf.tensor1d([0.2, 0.3, -0.4]);
    const opt = new FusedTfOptimizer({ optimizer: 'schedulefree-adamw', lr: 0.05, warmupSteps: 2 });
    expect(() => new FusedTfOptimizer({ optimizer: 'adamw' }).eval()).toThrow(/has one point/);
    for (let i = 0; i < 6; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar);
    const fused = opt.fused as ScheduleFreeAdamW;
    const y = Array.from(w.dataSync());
    expect(Array.from(fused.readParams(0))).toEqual(y);
    opt.eval();
    expect(opt.mode).toBe('eval');
    const x = Array.from(w.dataSync());
    expect(x).toEqual(Array.from(fused.readParams(0)));
    expect(x).not.toEqual(y);
    expect(() => opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar)).toThrow(/eval mode/);
    opt.train();
    expect(close(w.dataSync(), y)).toBeLessThan(1e-6);
    opt.dispose();
    w.dispose();
    target.dispose();
  });
});

const cuda = buildInfo().cuda;
if (!cuda.available) console.log(`[rules.schedulefree] CUDA parity skipped: CUDA is unavailable here: ${cuda.reason}`);

describe.skipIf(!cuda.available)('CUDA against the CPU', () => {
  test('two groups, 7 steps with warm-up and clipping, then eval', () => {
    const r = rng(seed + 9);
    const lengths = [20_001, 13, 300];
    const init = lengths.map((n) => randomF32(n, r));
    const make = (device: 'cpu' | 'cuda'): ScheduleFreeAdamW =>
      new ScheduleFreeAdamW([{ params: [init[0].slice(), init[1].slice()] }, { params: [init[2].slice()], beta1: 0.8, weightDecay: 0.1 }], {
        lr: 0.01,
        warmupSteps: 3,
        maxGradNorm: 1,
        device,
      });
    const cpu = make('cpu');
    const dev = make('cuda');
    for (let t = 0; t < 7; t++) {
      lengths.forEach((n, i) => {
        const g = randomF32(n, r);
        cpu.setGrads(i, g);
        dev.setGrads(i, g);
      });
      cpu.step();
      dev.step();
    }
    cpu.eval();
    dev.eval();
    lengths.forEach((_, i) => expect(close(dev.readParams(i), cpu.readParams(i)), `tensor ${i}`).toBeLessThan(1e-5));
    expect(dev.stateDict().groups).toEqual(cpu.stateDict().groups);
    cpu.dispose();
    dev.dispose();
  });
});
