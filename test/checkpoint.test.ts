/**
 * Checkpoints: stateDict/loadStateDict, save/load (async and sync), the binary format, and
 * what a truncated, corrupt or mismatched file does (a clear error, the optimizer untouched).
 *
 * The central property: stopping a run at step K, saving, loading into a fresh optimizer and
 * finishing equals the uninterrupted run bit for bit: params, states, counters, trace, and
 * the final checkpoint file itself (byte-identical). Run on the CPU, and on CUDA where a
 * device exists (skipped with the reason otherwise).
 *
 * What is bitwise, and why (docs/gpu.md "Reproducibility"):
 * - the same device, resumed against uninterrupted: bitwise by design on the CPU and on CUDA.
 *   Each backend sums the norms in a fixed order (no floating-point atomics), so the same
 *   inputs give the same norms, clip coefficients and updates. One CUDA caveat: after a
 *   skipNonFinite skip that the host has not seen (no outcome read), a CUDA step re-derives its
 *   bias correction with the device's pow(), where the resumed run (whose applied count is
 *   known) uses the host's. Rounded to float the two agree except with a probability of about
 *   1e-8 per step: bitwise in practice, not by construction.
 * - CPU against CUDA (a checkpoint moved between devices): the update rule is bitwise the same
 *   (same fp32 code, no FMA contraction, host-derived constants), but the norms are summed in a
 *   different order and differ in their last bits (relative ~1e-13). So the trace norms are
 *   compared within NORM_RTOL; params and state bitwise where nothing depends on a norm, and
 *   within STATE_RTOL where clipping turns the norm into the clip coefficient (the tolerances
 *   of bench/gpu/parity.mjs).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import {
  Adam,
  AdamW,
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  CheckpointError,
  SGD,
  buildInfo,
  cosineDecay,
  encodeCheckpoint,
  join,
  linear,
  readCheckpoint,
  readCheckpointSync,
  type FusedOptimizer,
  type OptimizerStateDict,
} from '../src/index.js';
import { NORM_RTOL, STATE_RTOL, compareArrays } from '../bench/gpu/parity.mjs';
import { randomF32, rng } from './support/reference.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-ckpt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

const info = buildInfo();
const DEVICES: { device: 'cpu' | 'cuda'; skip: string | null }[] = [
  { device: 'cpu', skip: null },
  { device: 'cuda', skip: info.cuda.available ? null : `CUDA unavailable: ${info.cuda.reason}` },
];
for (const d of DEVICES) if (d.skip) console.log(`checkpoint tests on ${d.device} skipped: ${d.skip}`);

type Opt = FusedOptimizer<object>;

/** The checkpoint bytes of an optimizer's whole state: equal bytes = equal state, bit for bit. */
function snapshot(opt: Opt): Buffer {
  return Buffer.concat([...encodeCheckpoint(opt.stateDict())]);
}

const LENGTHS = [1, 0, 37, 16_385, 3]; // 1, 0, odd, just over one reduction chunk
const schedule = join([linear({ from: 0, to: 0.05, steps: 3 }), cosineDecay({ peak: 0.05, steps: 12, end: 0.001 })], [3]);

interface Config {
  name: string;
  make: (device: string, init: boolean) => Opt;
}

const init = (n: number, seed: number): Float32Array => randomF32(n, rng(seed));
const params = (doInit: boolean): (Float32Array | number)[] => LENGTHS.map((n, i) => (doInit ? init(n, 100 + i) : n));

const CONFIGS: Config[] = [
  {
    name: 'SGD momentum nesterov, clipping, schedule',
    make: (device, i) =>
      new SGD(params(i), { device: device as 'cpu', lr: schedule, momentum: 0.9, nesterov: true, weightDecay: 1e-3, maxGradNorm: 5, threads: 2 }),
  },
  {
    name: 'SGD dampening, gradScale, constant lr',
    make: (device, i) => new SGD(params(i), { device: device as 'cpu', lr: 0.02, momentum: 0.5, dampening: 0.3, gradScale: 0.5 }),
  },
  {
    name: 'Adam, skipNonFinite, schedule',
    make: (device, i) => new Adam(params(i), { device: device as 'cpu', lr: schedule, skipNonFinite: true, weightDecay: 0.01, threads: 1 }),
  },
  {
    name: 'AdamW, clipping, gradScale, skipNonFinite',
    make: (device, i) =>
      new AdamW(params(i), { device: device as 'cpu', lr: 3e-3, beta2: 0.95, maxGradNorm: 1, gradScale: 1 / 8, skipNonFinite: true }),
  },
];

const TOTAL = 12;
/** Gradients of step t: fixed per step, with a NaN at step 4 and an Inf at step 8. */
function setStepGrads(opt: Opt, t: number): void {
  LENGTHS.forEach((n, i) => {
    const g = randomF32(n, rng(1000 * t + i), 2);
    if (n > 5 && i === 2 && t === 4) g[5] = NaN;
    if (n > 5 && i === 3 && t === 8) g[n - 1] = -Infinity;
    opt.setGrads(i, g);
  });
}

for (const { device, skip } of DEVICES) {
  describe.skipIf(skip !== null)(`resume equals an uninterrupted run bit for bit (${device})`, () => {
    for (const cfg of CONFIGS) {
      for (const K of [0, 1, 4, 5, TOTAL]) {
        test(`${cfg.name}, stop at step ${K}`, async () => {
          const a = cfg.make(device, true);
          // NaN steps without skipNonFinite would poison everything: only run them where skipped.
          const skipping = (a.hyperparameters as { skipNonFinite: boolean }).skipNonFinite;
          const runGuarded = (opt: Opt, from: number, to: number): void => {
            for (let t = from; t < to; t++) {
              setStepGrads(opt, t);
              if (!skipping && (t === 4 || t === 8)) opt.zeroGrad();
              opt.step();
            }
          };
          runGuarded(a, 0, TOTAL);
          const b = cfg.make(device, true);
          runGuarded(b, 0, K);
          const p = file(`${cfg.name.replace(/\W+/g, '_')}-${device}-${K}.ckpt`);
          await b.save(p);
          b.dispose();
          const c = cfg.make(device, false); // different initial params: everything must come from the file
          await c.load(p);
          expect(c.iteration).toBe(K);
          runGuarded(c, K, TOTAL);
          expect(c.iteration).toBe(a.iteration);
          expect(c.appliedSteps).toBe(a.appliedSteps);
          const ta = a.trace;
          const tc = c.trace;
          expect(tc.length).toBe(TOTAL);
          expect(Buffer.from(tc.l2.buffer, tc.l2.byteOffset, tc.l2.byteLength).equals(Buffer.from(ta.l2.buffer, ta.l2.byteOffset, ta.l2.byteLength))).toBe(true);
          if (skipping) expect(Array.from(tc.skipped)).toEqual(Array.from(ta.skipped));
          const sa = snapshot(a);
          const sc = snapshot(c);
          expect(sc.equals(sa)).toBe(true);
          // and the files they save are byte-identical
          a.saveSync(`${p}.a`);
          c.saveSync(`${p}.c`);
          expect(fs.readFileSync(`${p}.c`).equals(fs.readFileSync(`${p}.a`))).toBe(true);
          a.dispose();
          c.dispose();
        });
      }
    }
  });
}

/** Relative difference of two norms; 0 when both are the same non-finite value. */
function normRelErr(x: number, y: number): number {
  if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) return 0;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
  return Math.abs(x - y) / Math.max(Math.abs(y), 1e-300);
}

/**
 * Compares the state of a CUDA-resumed run `c` with the CPU run `a`. Counters, hyperparameters,
 * lr and the trace's skipped flags and lr: equal. Trace norms: bitwise for the first `saved`
 * records (computed on the CPU, carried by the file), within NORM_RTOL after. Params and state:
 * bitwise, or within STATE_RTOL (floor 1e-3 of the RMS) when `bitwise` is false.
 */
function expectCrossDeviceMatch(c: OptimizerStateDict, a: OptimizerStateDict, saved: number, bitwise: boolean): void {
  expect(c.iteration).toBe(a.iteration);
  expect(c.appliedSteps).toBe(a.appliedSteps);
  expect(c.hyperparameters).toEqual(a.hyperparameters);
  expect(c.lr).toBe(a.lr);
  const tc = c.trace!;
  const ta = a.trace!;
  expect(Array.from(tc.skipped)).toEqual(Array.from(ta.skipped));
  expect(Array.from(tc.lr)).toEqual(Array.from(ta.lr));
  for (const key of ['l2', 'l1'] as const) {
    expect(Array.from(tc[key].subarray(0, saved))).toEqual(Array.from(ta[key].subarray(0, saved)));
    let worst = 0;
    for (let i = saved; i < ta[key].length; i++) worst = Math.max(worst, normRelErr(tc[key][i], ta[key][i]));
    expect(worst, `trace ${key}`).toBeLessThanOrEqual(NORM_RTOL);
  }
  const arrays = (s: OptimizerStateDict): [string, Float32Array][] => [
    ...s.params.map((p, i): [string, Float32Array] => [`params[${i}]`, p]),
    ...Object.entries(s.state).flatMap(([k, list]) => list.map((x, i): [string, Float32Array] => [`${k}[${i}]`, x])),
  ];
  const ac = arrays(a);
  arrays(c).forEach(([name, x], k) => {
    const d = compareArrays(x, ac[k][1]);
    if (bitwise) expect(d.mismatches, name).toBe(0);
    else expect(d.maxRel, name).toBeLessThanOrEqual(STATE_RTOL);
  });
}

// Resumed on CUDA where a device exists; always also on the test backend 'test:lazy-cpu' (the
// CPU engine behind CUDA's lazy-outcome protocol, native/addon/test_backend.h), which checks
// this harness here: there both comparisons must hold, the second even bitwise.
const RESUME_ON: { device: string; skip: string | null }[] = [
  { device: 'cuda', skip: DEVICES[1].skip },
  { device: 'test:lazy-cpu', skip: null },
];
for (const { device: resumeOn, skip } of RESUME_ON) {
  describe.skipIf(skip !== null)(`checkpoints move between devices (CPU saved, ${resumeOn} resumed)`, () => {
    beforeAll(() => {
      process.env.FUSED_OPTIM_TEST_HOOKS = '1';
    });
    afterAll(() => {
      delete process.env.FUSED_OPTIM_TEST_HOOKS;
    });
    const SAVED = 5;
    /** Steps with the NaN / -Inf gradients zeroed unless the optimizer skips them. */
    const runOn = (opt: Opt, from: number, to: number, readApplied: boolean): void => {
      const skipping = (opt.hyperparameters as { skipNonFinite: boolean }).skipNonFinite;
      for (let t = from; t < to; t++) {
        setStepGrads(opt, t);
        if (!skipping && (t === 4 || t === 8)) opt.zeroGrad();
        opt.step();
        // Reading the applied count tells the CUDA host about skips, so every later step is sent
        // with host-derived constants, as on the CPU (see the file comment).
        if (readApplied) void opt.appliedSteps;
      }
    };
    const resume = (cfg: Config, name: string): { a: Opt; c: Opt } => {
      const a = cfg.make('cpu', true);
      runOn(a, 0, TOTAL, false);
      const b = cfg.make('cpu', true);
      runOn(b, 0, SAVED, false);
      const p = file(`${name}.ckpt`);
      b.saveSync(p);
      b.dispose();
      const c = cfg.make(resumeOn, false);
      c.loadSync(p);
      runOn(c, SAVED, TOTAL, true);
      return { a, c };
    };

    // No norm-dependent decision: only the trace norms may differ (summation order).
    for (const cfg of [CONFIGS[1], CONFIGS[2]]) {
      test(`${cfg.name}: params, state, counters, flags bitwise; trace norms within ${NORM_RTOL}`, () => {
        const { a, c } = resume(cfg, `cross-${resumeOn.replace(/\W+/g, '_')}-${cfg.name.replace(/\W+/g, '_')}`);
        expectCrossDeviceMatch(c.stateDict(), a.stateDict(), SAVED, true);
        a.dispose();
        c.dispose();
      });
    }

    // Clipping: the clip coefficient comes from the L2 norm, so params and state are not bitwise.
    for (const cfg of [CONFIGS[0], CONFIGS[3]]) {
      test(`${cfg.name}: params and state within ${STATE_RTOL}, trace norms within ${NORM_RTOL}, counters and flags equal`, () => {
        const { a, c } = resume(cfg, `cross-${resumeOn.replace(/\W+/g, '_')}-${cfg.name.replace(/\W+/g, '_')}`);
        expectCrossDeviceMatch(c.stateDict(), a.stateDict(), SAVED, false);
        a.dispose();
        c.dispose();
      });
    }

    if (resumeOn === 'test:lazy-cpu') {
      test('the comparison catches a one-ulp difference in a parameter, and a norm beyond the tolerance', () => {
        const { a, c } = resume(CONFIGS[1], 'cross-selfcheck');
        const sa = a.stateDict();
        const sc = c.stateDict();
        expectCrossDeviceMatch(sc, sa, SAVED, true);
        new Uint32Array(sc.params[2].buffer, sc.params[2].byteOffset, sc.params[2].length)[3] += 1;
        expect(() => expectCrossDeviceMatch(sc, sa, SAVED, true)).toThrow(/params\[2\]/);
        expectCrossDeviceMatch(sc, sa, SAVED, false);
        sc.params[2][3] = sa.params[2][3];
        sc.trace!.l2[SAVED + 1] *= 1 + 1e-9;
        expect(() => expectCrossDeviceMatch(sc, sa, SAVED, true)).toThrow(/trace l2/);
        a.dispose();
        c.dispose();
      });
    }
  });
}

describe('state dict', () => {
  test('round trip restores every field and the optimizer continues identically', () => {
    const a = new Adam([5, 3], { lr: 0.01, beta1: 0.8, eps: 1e-6, maxGradNorm: 2 });
    run2(a, 3);
    const s = a.stateDict();
    expect(s.format).toBe('fused-optim/optimizer-state');
    expect(s.kind).toBe('adam');
    expect(s.lengths).toEqual([5, 3]);
    expect(s.iteration).toBe(3);
    expect(s.appliedSteps).toBe(3);
    expect(s.lr).toBe(0.01);
    expect(s.nextLr).toBe(0.01);
    expect(s.hyperparameters).toEqual({ beta1: 0.8, beta2: 0.999, eps: 1e-6, weightDecay: 0, decoupled: false, maxGradNorm: 2, gradScale: 1, skipNonFinite: false });
    expect(Object.keys(s.state)).toEqual(['expAvg', 'expAvgSq']);
    expect(s.trace?.l2.length).toBe(3);
    const b = new Adam([5, 3]); // defaults: the hyperparameters come from the state
    b.loadStateDict(s);
    expect(b.hyperparameters).toEqual(a.hyperparameters);
    expect(snapshot(b).equals(snapshot(a))).toBe(true);
    expect(b.lastStep).toBeNull();
    run2(a, 2);
    run2(b, 2);
    expect(snapshot(b).equals(snapshot(a))).toBe(true);
    a.dispose();
    b.dispose();
  });

  test('the state dict holds copies, not views of the arena', () => {
    const a = new SGD([4], { lr: 0.1, momentum: 0.9 });
    run2(a, 1);
    const s = a.stateDict();
    const before = s.params[0].slice();
    run2(a, 1);
    expect(s.params[0]).toEqual(before);
    a.dispose();
  });

  test('SGD keys its momentum buffer as momentumBuffer', () => {
    const a = new SGD([2], { momentum: 0.5 });
    expect(Object.keys(a.stateDict().state)).toEqual(['momentumBuffer']);
    a.dispose();
  });

  test('a schedule is not serialised: lr null, loading needs a schedule, the position is the iteration', () => {
    const sched = (t: number): number => 0.1 / (1 + t);
    const a = new SGD([3], { lr: sched });
    run2(a, 4);
    const s = a.stateDict();
    expect(s.lr).toBeNull();
    expect(s.nextLr).toBe(sched(4));
    const numeric = new SGD([3], { lr: 0.1 });
    expect(() => numeric.loadStateDict(s)).toThrow(RangeError);
    expect(() => numeric.loadStateDict(s)).toThrow(/lr schedule.*state\.lr is null/);
    expect(numeric.iteration).toBe(0);
    const b = new SGD([3], { lr: sched });
    b.loadStateDict(s);
    expect(b.iteration).toBe(4);
    expect(b.currentLr).toBe(sched(4));
    for (const o of [a, numeric, b]) o.dispose();
  });

  test('a saved numeric lr replaces a schedule (as the other hyperparameters)', () => {
    const a = new Adam([2], { lr: 0.5 });
    const b = new Adam([2], { lr: () => 0.1 });
    b.loadStateDict(a.stateDict());
    expect(b.lr).toBe(0.5);
    a.dispose();
    b.dispose();
  });

  test('trace: saved when recorded; null with traceCapacity 0; loading either way', () => {
    const a = new Adam([3], { traceCapacity: 0 });
    run2(a, 2);
    const s = a.stateDict();
    expect(s.trace).toBeNull();
    const b = new Adam([3]);
    b.loadStateDict(s);
    expect(b.trace.length).toBe(0); // nothing recorded to restore
    const c = new Adam([3]);
    run2(c, 3);
    a.loadStateDict(c.stateDict()); // a trace into an optimizer that records none: ignored
    expect(a.iteration).toBe(3);
    for (const o of [a, b, c]) o.dispose();
  });

  test('unread native trace records of the replaced run are discarded', () => {
    const a = new SGD([3], { lr: 0.1 });
    run2(a, 2);
    const s = a.stateDict();
    const b = new SGD([3], { lr: 0.1 });
    run2(b, 5); // 5 unread records in b's native ring
    b.loadStateDict(s);
    expect(b.trace.length).toBe(2);
    run2(b, 1);
    expect(b.trace.length).toBe(3);
    a.dispose();
    b.dispose();
  });

  test('gradients are not part of the state and are left as they are', () => {
    const a = new SGD([2]);
    a.setGrads(0, new Float32Array([7, 8]));
    const b = new SGD([2]);
    b.loadStateDict(a.stateDict());
    expect(Array.from(b.readGrads(0))).toEqual([0, 0]);
    a.dispose();
    b.dispose();
  });

  const base = (): { opt: Adam; s: OptimizerStateDict } => {
    const opt = new Adam([3, 2], { lr: 0.1 });
    run2(opt, 1);
    return { opt, s: opt.stateDict() };
  };
  const bad: [string, (s: OptimizerStateDict) => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['not an object', () => 42, TypeError, /for state but received 42/],
    ['format', (s) => ({ ...s, format: 'x' }), RangeError, /state\.format/],
    ['newer version', (s) => ({ ...s, version: 99 }), RangeError, /newer.*for state\.version/],
    ['kind', (s) => ({ ...s, kind: 'sgd' }), RangeError, /'adam' \(this optimizer is Adam\) for state\.kind/],
    ['unknown kind', (s) => ({ ...s, kind: 'rmsprop' }), RangeError, /state\.kind/],
    ['tensor count', (s) => ({ ...s, lengths: [3] }), RangeError, /2 tensors .* for state\.lengths/],
    ['a length', (s) => ({ ...s, lengths: [3, 4] }), RangeError, /state\.lengths\[1\]/],
    ['iteration', (s) => ({ ...s, iteration: -1 }), RangeError, /state\.iteration/],
    ['applied > iteration', (s) => ({ ...s, appliedSteps: 5 }), RangeError, /state\.appliedSteps/],
    ['lr', (s) => ({ ...s, lr: -1 }), RangeError, /state\.lr/],
    ['hyperparameters type', (s) => ({ ...s, hyperparameters: null }), TypeError, /state\.hyperparameters/],
    ['a hyperparameter', (s) => ({ ...s, hyperparameters: { ...s.hyperparameters, beta1: 1.5 } }), RangeError, /state\.hyperparameters\.beta1/],
    ['unknown hyperparameter', (s) => ({ ...s, hyperparameters: { ...s.hyperparameters, momentum: 0.9 } }), TypeError, /state\.hyperparameters\.momentum/],
    ['params count', (s) => ({ ...s, params: [s.params[0]] }), RangeError, /state\.params/],
    ['params type', (s) => ({ ...s, params: [s.params[0], [1, 2]] }), TypeError, /state\.params\[1\]/],
    ['params length', (s) => ({ ...s, params: [s.params[0], new Float32Array(5)] }), RangeError, /state\.params\[1\]/],
    ['missing state', (s) => ({ ...s, state: { expAvg: s.state.expAvg } }), TypeError, /state\.state\.expAvgSq/],
    ['foreign state', (s) => ({ ...s, state: { ...s.state, momentumBuffer: s.params } }), RangeError, /state\.state\.momentumBuffer/],
    ['state length', (s) => ({ ...s, state: { ...s.state, expAvgSq: [s.params[0], new Float32Array(1)] } }), RangeError, /state\.state\.expAvgSq\[1\]/],
    ['trace arrays', (s) => ({ ...s, trace: { ...s.trace!, l1: new Float64Array(7) } }), RangeError, /state\.trace\.l1/],
    ['trace values', (s) => ({ ...s, trace: { ...s.trace!, l2: new Float64Array([-1]) } }), RangeError, /l2\[0\]/],
    [
      'a detached array',
      (s) => {
        const a = s.params[1].slice();
        structuredClone(a.buffer, { transfer: [a.buffer] });
        return { ...s, params: [s.params[0], a] };
      },
      RangeError,
      /state\.params\[1\].*possibly detached/,
    ],
  ];
  test.each(bad)('a bad state dict (%s) throws and leaves the optimizer as it was', (_name, mutate, Ctor, re) => {
    const { opt, s } = base();
    const target = new Adam([3, 2], { lr: 0.2, beta2: 0.9 });
    run2(target, 2);
    const before = snapshot(target);
    let err: unknown;
    try {
      target.loadStateDict(mutate(s) as OptimizerStateDict);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Ctor);
    expect((err as Error).message).toMatch(re);
    expect(snapshot(target).equals(before)).toBe(true);
    run2(target, 1); // still usable
    opt.dispose();
    target.dispose();
  });

  test('AdamW refuses hyperparameters that are not decoupled', () => {
    const a = new AdamW([2]);
    const s = a.stateDict();
    expect(() => a.loadStateDict({ ...s, hyperparameters: { ...s.hyperparameters, decoupled: false } })).toThrow(/state\.hyperparameters\.decoupled/);
    a.dispose();
  });
});

function run2(opt: Opt, steps: number): void {
  for (let k = 0; k < steps; k++) {
    opt.lengths.forEach((n, i) => opt.setGrads(i, randomF32(n, rng(7 * opt.iteration + i))));
    opt.step();
  }
}

describe('checkpoint files', () => {
  const make = (): Adam => {
    const o = new Adam([5, 0, 3], { lr: 0.1, skipNonFinite: true });
    run2(o, 3);
    return o;
  };

  test('the header is as documented (docs/checkpoint-format.md)', () => {
    const o = make();
    const p = file('header.ckpt');
    o.saveSync(p);
    const b = fs.readFileSync(p);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(b.subarray(0, 8).toString('latin1')).toBe(CHECKPOINT_MAGIC);
    expect(dv.getUint32(8, true)).toBe(CHECKPOINT_VERSION); // version (2: with groups)
    expect(dv.getUint32(12, true)).toBe(1); // adam
    expect(dv.getUint32(16, true)).toBe(3); // tensors
    expect(dv.getUint32(20, true)).toBe(2); // expAvg, expAvgSq
    expect(dv.getFloat64(24, true)).toBe(3); // iteration
    expect(dv.getFloat64(32, true)).toBe(3); // applied
    expect(dv.getFloat64(40, true)).toBe(3); // trace length
    const jsonBytes = dv.getUint32(48, true);
    expect(dv.getFloat64(56, true)).toBe(b.length);
    expect([0, 1, 2].map((i) => dv.getFloat64(64 + 8 * i, true))).toEqual([5, 0, 3]);
    const json = JSON.parse(b.subarray(88, 88 + jsonBytes).toString('utf8'));
    expect(json).toEqual({
      lr: 0.1,
      nextLr: 0.1,
      hyperparameters: expect.any(Object),
      state: ['expAvg', 'expAvgSq'],
      groups: [{ tensors: [0, 1, 2], hyperparameters: expect.any(Object), lr: 0.1 }],
    });
    const dataAt = 88 + Math.ceil(jsonBytes / 8) * 8;
    expect(new Float32Array(b.buffer.slice(b.byteOffset + dataAt, b.byteOffset + dataAt + 20))).toEqual(o.readParams(0));
    const digest = createHash('sha256').update(b.subarray(0, b.length - 32)).digest();
    expect(digest.equals(b.subarray(b.length - 32))).toBe(true);
    // the length: header, lengths, json, (1 + 2) × 8 floats padded to 8, 3 trace steps × 25 bytes padded, digest
    expect(b.length).toBe(64 + 24 + Math.ceil(jsonBytes / 8) * 8 + 96 + 80 + 32);
    o.dispose();
  });

  test('save/load and saveSync/loadSync agree; readCheckpoint inspects without an optimizer', async () => {
    const o = make();
    const p1 = file('async.ckpt');
    const p2 = file('sync.ckpt');
    await o.save(p1);
    o.saveSync(p2);
    expect(fs.readFileSync(p1).equals(fs.readFileSync(p2))).toBe(true);
    const s = await readCheckpoint(p1);
    expect(s.kind).toBe('adam');
    expect(s.iteration).toBe(3);
    expect(readCheckpointSync(p2).params[0]).toEqual(o.readParams(0));
    o.dispose();
  });

  test('save snapshots the state when called: later steps do not reach the file', async () => {
    const o = make();
    const expected = snapshot(o);
    const p = file('snapshot.ckpt');
    const pending = o.save(p);
    run2(o, 2);
    await pending;
    const r = new Adam([5, 0, 3]);
    r.loadSync(p);
    expect(snapshot(r).equals(expected)).toBe(true);
    o.dispose();
    r.dispose();
  });

  test('writes are atomic: no temporary file is left, an existing file is replaced whole', async () => {
    const o = make();
    const p = file('atomic.ckpt');
    fs.writeFileSync(p, 'old contents');
    await o.save(p);
    o.saveSync(p);
    expect(fs.readdirSync(dir).filter((f) => f.includes('atomic') && f !== 'atomic.ckpt')).toEqual([]);
    expect(fs.readFileSync(p).subarray(0, 8).toString('latin1')).toBe(CHECKPOINT_MAGIC);
    // a failed write (missing directory) leaves nothing behind
    await expect(o.save(path.join(dir, 'missing', 'x.ckpt'))).rejects.toThrow(/ENOENT/);
    expect(() => o.saveSync(path.join(dir, 'missing', 'x.ckpt'))).toThrow(/ENOENT/);
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
    o.dispose();
  });

  test('a bad path is a TypeError/RangeError naming path', async () => {
    const o = make();
    await expect(o.save(42 as unknown as string)).rejects.toThrow(/for path but received 42/);
    expect(() => o.loadSync('')).toThrow(RangeError);
    await expect(o.load(file('does-not-exist.ckpt'))).rejects.toThrow(/ENOENT/);
    o.dispose();
  });

  // --- damaged files ------------------------------------------------------------------------

  const good = (): Buffer => {
    const o = make();
    const p = file('good.ckpt');
    o.saveSync(p);
    o.dispose();
    return fs.readFileSync(p);
  };
  /** Re-signs a modified file, so that the structure checks behind the checksum are reached. */
  const resign = (b: Buffer): Buffer => {
    const out = Buffer.from(b);
    createHash('sha256').update(out.subarray(0, out.length - 32)).digest().copy(out, out.length - 32);
    return out;
  };

  function expectRejected(bytes: Buffer, code: RegExp | string, Ctor: new (...args: never[]) => Error = CheckpointError): void {
    const p = file('damaged.ckpt');
    fs.writeFileSync(p, bytes);
    const target = make();
    const before = snapshot(target);
    let err: unknown;
    try {
      target.loadSync(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Ctor);
    if ((Ctor as unknown) === CheckpointError) expect((err as CheckpointError).code).toBe(code);
    else expect((err as Error).message).toMatch(code);
    expect((err as Error).message).toContain(p);
    expect(snapshot(target).equals(before)).toBe(true);
    run2(target, 1); // still usable
    target.dispose();
  }

  test('truncated at every section boundary and inside each section', () => {
    const b = good();
    const cuts = [0, 1, 7, 8, 40, 63, 64, 80, 88, 100, b.length - 200, b.length - 100, b.length - 33, b.length - 32, b.length - 1];
    for (const n of cuts) {
      expectRejected(b.subarray(0, n), 'ERR_CHECKPOINT_TRUNCATED');
    }
  });

  test('one flipped byte anywhere is caught by the checksum (or the header checks)', () => {
    const b = good();
    const r = rng(99);
    const offsets = [8, 12, 16, 20, 24, 32, 40, 48, 56, 64, 70, 90, 150, b.length - 40, b.length - 10];
    for (let k = 0; k < 30; k++) offsets.push(8 + Math.floor(r() * (b.length - 8)));
    for (const at of offsets) {
      const c = Buffer.from(b);
      c[at] ^= 0x10;
      const p = file('flip.ckpt');
      fs.writeFileSync(p, c);
      let err: unknown;
      try {
        readCheckpointSync(p);
      } catch (e) {
        err = e;
      }
      expect(err, `byte ${at}`).toBeInstanceOf(CheckpointError);
      expect(['ERR_CHECKPOINT_CORRUPT', 'ERR_CHECKPOINT_TRUNCATED', 'ERR_CHECKPOINT_VERSION']).toContain((err as CheckpointError).code);
    }
    const c = Buffer.from(b);
    c[b.length - 100] ^= 1; // inside the trace
    expectRejected(c, 'ERR_CHECKPOINT_CORRUPT');
  });

  test('not a checkpoint, empty, newer version, trailing bytes', () => {
    const b = good();
    expectRejected(Buffer.from('{"format":"fused-optim/norm-trace"}'), 'ERR_CHECKPOINT_NOT_A_CHECKPOINT');
    expectRejected(Buffer.alloc(0), 'ERR_CHECKPOINT_TRUNCATED');
    const wrongMagic = Buffer.from(b);
    wrongMagic.write('XXXX', 0, 'latin1');
    expectRejected(wrongMagic, 'ERR_CHECKPOINT_NOT_A_CHECKPOINT');
    const newer = Buffer.from(b);
    newer.writeUInt32LE(CHECKPOINT_VERSION + 1, 8);
    expectRejected(resign(newer), 'ERR_CHECKPOINT_VERSION');
    expectRejected(Buffer.concat([b, Buffer.alloc(8)]), 'ERR_CHECKPOINT_CORRUPT');
  });

  test('crafted files with a valid checksum still fail the structure checks', () => {
    const b = good();
    const kind = Buffer.from(b);
    kind.writeUInt32LE(7, 12);
    expectRejected(resign(kind), 'ERR_CHECKPOINT_CORRUPT');
    const count = Buffer.from(b);
    count.writeUInt32LE(4, 16);
    expectRejected(resign(count), 'ERR_CHECKPOINT_CORRUPT');
    const counters = Buffer.from(b);
    counters.writeDoubleLE(5, 32); // applied > iteration
    expectRejected(resign(counters), 'ERR_CHECKPOINT_CORRUPT');
    const len = Buffer.from(b);
    len.writeDoubleLE(6, 64); // tensor 0 longer: sizes no longer add up
    expectRejected(resign(len), 'ERR_CHECKPOINT_CORRUPT');
    const json = Buffer.from(b);
    json[88] = 0x5b; // '[' instead of '{'
    expectRejected(resign(json), 'ERR_CHECKPOINT_CORRUPT');
  });

  test('a sound file that does not fit: wrong kind, tensor count or lengths (RangeError, optimizer untouched)', () => {
    const b = good();
    const p = file('fit.ckpt');
    fs.writeFileSync(p, b);
    const cases: [Opt, RegExp][] = [
      [new AdamW([5, 0, 3]), /'adamw' \(this optimizer is AdamW\) for checkpoint\.kind but received 'adam'/],
      [new SGD([5, 0, 3]), /checkpoint\.kind/],
      [new Adam([5, 0]), /2 tensors .* for checkpoint\.lengths/],
      [new Adam([5, 0, 4]), /checkpoint\.lengths\[2\]/],
    ];
    for (const [opt, re] of cases) {
      run2(opt, 1);
      const before = snapshot(opt);
      expect(() => opt.loadSync(p)).toThrow(RangeError);
      expect(() => opt.loadSync(p)).toThrow(re);
      expect(() => opt.loadSync(p)).toThrow(new RegExp(`Cannot load the checkpoint ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(snapshot(opt).equals(before)).toBe(true);
      opt.dispose();
    }
  });

  test('async load rejects the same way', async () => {
    const b = good();
    const p = file('async-bad.ckpt');
    fs.writeFileSync(p, b.subarray(0, b.length - 5));
    const o = make();
    const before = snapshot(o);
    await expect(o.load(p)).rejects.toBeInstanceOf(CheckpointError);
    await expect(o.load(p)).rejects.toThrow(/truncated/);
    expect(snapshot(o).equals(before)).toBe(true);
    o.dispose();
  });

  test('load into a disposed optimizer, or while a stepAsync is in flight, throws', async () => {
    const b = good();
    const p = file('busy.ckpt');
    fs.writeFileSync(p, b);
    const o = make();
    const pending = o.stepAsync();
    await expect(o.load(p)).rejects.toThrow(/in flight/);
    expect(() => o.saveSync(p)).toThrow(/in flight/);
    await pending;
    o.dispose();
    await expect(o.load(p)).rejects.toThrow(/disposed/);
    expect(() => o.stateDict()).toThrow(/disposed/);
  });
});
