/**
 * Parameter groups (PyTorch `param_groups` semantics) against a plain float64 reference: each
 * group's own hyperparameters and lr, one global gradient norm / clip / skip decision over all
 * groups (as `torch.nn.utils.clip_grad_norm_` over every parameter), 8 steps, odd lengths
 * (SIMD tails and a multi-chunk tensor), several tensors per group, fresh random data.
 *
 * Seed: printed; FUSED_OPTIM_TEST_SEED replays a run. Tolerance: |a − e| ≤ 2e-5 · max(|e|,
 * 1e-2 · max|e| of the array) — float32 arithmetic against float64 over 8 steps, scaled so
 * that entries near 0 are judged against the array's magnitude.
 * Norms: relative 2e-6 (double sums of the same float32 terms in another order).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, test } from 'vitest';

import { AdamW, Adam, SGD, adamStep, createOptimizer, encodeCheckpoint, decodeCheckpoint, type FusedOptimizer } from '../src/index.js';
import { randomF32, scaledError, refAdamApply, refDecide, refSgdApply, rng } from './support/reference.js';
import { expectCheckpointResumesBitwise, expectCloseByGroup, stepAndDecide, testBadInputs, type BadInputCase } from './support/rule-harness.js';
import { testSeed } from './support/seed.js';

const seed = testSeed('groups.test', 20261202);

const STEPS = 8;
const TOL = 2e-5;

const close = scaledError;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-groups-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('AdamW with a no-decay group and a different lr, against float64 (torch param_groups)', () => {
  for (const maxGradNorm of [null, 0.5]) {
    test(`maxGradNorm ${maxGradNorm}`, () => {
      const r = rng(seed);
      const lengths = [[1000, 17], [33, 40_000], [5]]; // group 0 decays; 1 no decay, lr ×0.1; 2 other betas
      const init = lengths.map((g) => g.map((n) => randomF32(n, r)));
      const cfg = [
        { lr: 3e-3, weightDecay: 0.05, beta1: 0.9, beta2: 0.999 },
        { lr: 3e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999 },
        { lr: 3e-3, weightDecay: 0.05, beta1: 0.8, beta2: 0.99 },
      ];
      const opt = new AdamW(
        [{ params: init[0] }, { params: init[1], lr: 3e-4, weightDecay: 0 }, { params: init[2], beta1: 0.8, beta2: 0.99 }],
        { lr: 3e-3, weightDecay: 0.05, maxGradNorm, threads: 2 },
      );
      expect(opt.groups.map((g) => g.tensors)).toEqual([[0, 1], [2, 3], [4]]);
      expect(opt.groups[1].hyperparameters.weightDecay).toBe(0);
      const p = init.map((g) => g.map((a) => Float64Array.from(a)));
      const m = lengths.map((g) => g.map((n) => new Float64Array(n)));
      const v = lengths.map((g) => g.map((n) => new Float64Array(n)));
      for (let t = 1; t <= STEPS; t++) {
        const grads = lengths.map((g) => g.map((n) => randomF32(n, r, 0.5)));
        // asserts the global norm and, with maxGradNorm, that the clip is global and active
        const { info, d } = stepAndDecide(opt, grads, 1, maxGradNorm);
        for (let gi = 0; gi < 3; gi++) {
          refAdamApply(p[gi], grads[gi], m[gi], v[gi], { ...cfg[gi], eps: 1e-8, decoupled: true, gradScale: 1 }, t, d.clipCoef);
        }
        expect(Math.abs(info.clipCoef - d.clipCoef)).toBeLessThan(1e-6);
        expect(info.lr).toBe(3e-3); // the first group's
      }
      expectCloseByGroup('params', (k) => opt.readParams(k), p, TOL, { error: close });
      const state = opt.stateDict().state;
      expectCloseByGroup('expAvg', (k) => state.expAvg[k], m, TOL, { error: close });
      expectCloseByGroup('expAvgSq', (k) => state.expAvgSq[k], v, TOL, { error: close });
      opt.dispose();
    });
  }
});

test('SGD with per-group momentum, dampening and Nesterov, against float64', () => {
  const r = rng(seed + 1);
  const lengths = [[101, 3], [257], [20_001, 7]];
  const cfg = [
    { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-3 },
    { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
    { lr: 0.02, momentum: 0.5, dampening: 0.1, nesterov: false, weightDecay: 0 },
  ];
  const init = lengths.map((g) => g.map((n) => randomF32(n, r)));
  const opt = new SGD(
    [
      { params: init[0], momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
      { params: init[1], lr: 0.1 },
      { params: init[2], lr: 0.02, momentum: 0.5, dampening: 0.1 },
    ],
    { lr: 0.05, gradScale: 0.5 },
  );
  const p = init.map((g) => g.map((a) => Float64Array.from(a)));
  const buf = lengths.map((g) => g.map((n) => new Float64Array(n)));
  for (let t = 1; t <= STEPS; t++) {
    const grads = lengths.map((g) => g.map((n) => randomF32(n, r)));
    grads.flat().forEach((g, i) => opt.setGrads(i, g));
    opt.step();
    const d = refDecide(grads.flat(), 0.5, null, false);
    for (let gi = 0; gi < 3; gi++) refSgdApply(p[gi], grads[gi], buf[gi], { ...cfg[gi], gradScale: 0.5 }, t, d.clipCoef);
  }
  let k = 0;
  const state = opt.stateDict().state.momentumBuffer;
  for (let gi = 0; gi < 3; gi++) {
    for (let j = 0; j < p[gi].length; j++, k++) {
      expect(close(opt.readParams(k), p[gi][j]), `group ${gi} tensor ${j}`).toBeLessThan(TOL);
      // The group without momentum never touches its buffer.
      if (gi === 1) expect(state[k].every((x) => x === 0)).toBe(true);
      else expect(close(state[k], buf[gi][j])).toBeLessThan(TOL);
    }
  }
  opt.dispose();
});

test('one group equals the plain tensor list bit for bit, and the functional step; any thread count', () => {
  const r = rng(seed + 2);
  const lengths = [1, 15, 16, 17, 70_001];
  const init = lengths.map((n) => randomF32(n, r));
  const make = (groups: boolean, threads: number): FusedOptimizer<object> =>
    groups
      ? new AdamW([{ params: init }], { lr: 1e-2, weightDecay: 0.1, maxGradNorm: 1e6, threads })
      : new AdamW(init, { lr: 1e-2, weightDecay: 0.1, maxGradNorm: 1e6, threads });
  const opts = [make(false, 1), make(true, 1), make(true, 2)];
  const fp = init.map((a) => a.slice());
  const fm = lengths.map((n) => new Float32Array(n));
  const fv = lengths.map((n) => new Float32Array(n));
  for (let t = 1; t <= STEPS; t++) {
    const grads = lengths.map((n) => randomF32(n, r, 0.1)); // two passes (maxGradNorm), clip 1
    for (const o of opts) grads.forEach((g, i) => o.setGrads(i, g));
    const infos = opts.map((o) => o.step());
    for (const info of infos) expect(info).toEqual(infos[0]);
    expect(infos[0].clipCoef).toBe(1);
    grads.forEach((g, i) => adamStep(fp[i], g, fm[i], fv[i], { lr: 1e-2, weightDecay: 0.1, decoupled: true, step: t }));
  }
  lengths.forEach((_, i) => {
    const ref = opts[0].readParams(i);
    for (const o of opts.slice(1)) expect(Buffer.from(o.readParams(i).buffer).equals(Buffer.from(ref.buffer))).toBe(true);
    expect(Buffer.from(fp[i].buffer).equals(Buffer.from(ref.buffer))).toBe(true);
  });
  for (const o of opts) o.dispose();
});

test('several groups: the same bits with 1 and 2 threads; per-tensor norms still reported', () => {
  const r = rng(seed + 3);
  const init = [randomF32(50_000, r), randomF32(333, r), randomF32(40_000, r)];
  const make = (threads: number) =>
    new Adam([{ params: [init[0]] }, { params: [init[1], init[2]], lr: 5e-3, eps: 1e-6 }], { lr: 1e-3, threads, skipNonFinite: true });
  const a = make(1);
  const b = make(2);
  for (let t = 0; t < 4; t++) {
    const grads = init.map((x) => randomF32(x.length, r));
    for (const o of [a, b]) grads.forEach((g, i) => o.setGrads(i, g));
    a.step();
    b.step();
  }
  for (let i = 0; i < 3; i++) expect(Buffer.from(a.readParams(i).buffer).equals(Buffer.from(b.readParams(i).buffer))).toBe(true);
  const norms = a.tensorNorms();
  expect(norms.l2.length).toBe(3);
  expect(Math.hypot(...norms.l2)).toBeCloseTo(a.lastStep!.gradNormL2, 6);
  a.dispose();
  b.dispose();
});

test('setOptions targets one group or all; global options cannot target a group; refused values change nothing', () => {
  const opt = new SGD([{ params: [4] }, { params: [4], momentum: 0.9 }], { lr: 0.1 });
  opt.setOptions({ lr: 0.01, weightDecay: 0.5 }, { group: 1 });
  expect(opt.groups[1].lr).toBe(0.01);
  expect(opt.groups[1].hyperparameters.weightDecay).toBe(0.5);
  expect(opt.groups[0].lr).toBe(0.1);
  expect(opt.groups[0].hyperparameters.weightDecay).toBe(0);
  opt.setOptions({ dampening: 0.2 });
  expect(opt.groups.map((g) => g.hyperparameters.dampening)).toEqual([0.2, 0.2]);
  expect(opt.groups[1].hyperparameters.momentum).toBe(0.9); // untouched keys keep their group values
  expect(() => opt.setOptions({ maxGradNorm: 1 }, { group: 0 })).toThrow(/global/);
  expect(() => opt.setOptions({ lr: 1 }, { group: 2 })).toThrow(RangeError);
  expect(() => opt.setOptions({ lr: 1 }, { group: 0, x: 1 } as never)).toThrow(/Unknown option target\.x/);
  expect(() => opt.setOptions({ momentum: -1, lr: 5 })).toThrow(/options\.momentum/);
  expect(opt.groups.map((g) => g.lr)).toEqual([0.1, 0.01]);
  opt.lr = 0.3; // every group
  expect(opt.groups.map((g) => g.lr)).toEqual([0.3, 0.3]);
  opt.dispose();
});

describe('bad groups give typed errors naming the group', () => {
  const cases: [string, () => unknown, RegExp, ErrorConstructor][] = [
    ['an empty group', () => new AdamW([{ params: [] }]), /empty group.*params\[0\]\.params/, RangeError],
    ['a group without params', () => new AdamW([{ lr: 1 } as never]), /params\[0\]\.params/, TypeError],
    ['a tensor in two groups', () => {
      const t = new Float32Array(3);
      return new AdamW([{ params: [t] }, { params: [t] }]);
    }, /params\[1\]\.params\[0\] is the same Float32Array as params\[0\]\.params\[0\]/, RangeError],
    ['an unknown key', () => new AdamW([{ params: [2] }, { params: [2], weightdecay: 0 } as never]), /Unknown option params\[1\]\.weightdecay/, TypeError],
    ['a key of another rule', () => new SGD([{ params: [2], beta1: 0.5 } as never]), /Unknown option params\[0\]\.beta1/, TypeError],
    ['a global option in a group', () => new AdamW([{ params: [2], maxGradNorm: 1 } as never]), /params\[0\]\.maxGradNorm cannot be set per group/, RangeError],
    ['a bad value', () => new AdamW([{ params: [2] }, { params: [2], beta2: 1 }]), /params\[1\]\.beta2/, RangeError],
    ['a bad lr', () => new AdamW([{ params: [2] }, { params: [2], lr: -1 }]), /params\[1\]\.lr/, RangeError],
    ['groups mixed with tensors', () => new AdamW([{ params: [2] }, 3] as never), /params\[1\]/, TypeError],
    ['a non-object group', () => new AdamW([[1, 2]] as never), /params\[0\]/, TypeError],
    ['Nesterov without momentum in one group', () => new SGD([{ params: [2] }, { params: [2], nesterov: true }], { momentum: 0 }), /nesterov/, RangeError],
  ];
  testBadInputs(cases.map(([name, fn, message, Ctor]): BadInputCase => [name, fn, Ctor, message]));

  test('an lr schedule that throws names its group; no step is taken', () => {
    const opt = new SGD([{ params: [2] }, { params: [2], lr: () => { throw new Error('boom'); } }], { lr: 0.1 });
    expect(() => opt.step()).toThrow(/lr schedule of group 1 threw at iteration 0/);
    expect(opt.iteration).toBe(0);
    opt.dispose();
  });

  test('an lr schedule returning a bad value names its group', () => {
    const opt = new SGD([{ params: [2] }, { params: [2], lr: () => Number.NaN }]);
    expect(() => opt.step()).toThrow(/lr schedule of group 1 at iteration 0/);
    opt.dispose();
  });
});

describe('checkpoints carry the groups', () => {
  const make = (lr2: number | ((t: number) => number) = 0.01) =>
    new AdamW([{ params: [5, 7] }, { params: [9], lr: lr2, weightDecay: 0 }], { lr: 0.1, weightDecay: 0.02 });

  test('a round trip restores each group and continues bit for bit', () => {
    const r = rng(seed + 4);
    expectCheckpointResumesBitwise({
      make: () => make(),
      grads: Array.from({ length: 6 }, () => [randomF32(5, r), randomF32(7, r), randomF32(9, r)]),
      saveAfter: 3,
      file: path.join(tmp, 'groups.ckpt'),
      beforeSave: (a) => a.setOptions({ lr: 0.005, eps: 1e-6 }, { group: 1 }),
      afterLoad: ({ a, fromFile, fromDict }) => {
        expect(fromFile.groups.map((g) => [g.lr, g.hyperparameters])).toEqual(a.groups.map((g) => [g.lr, g.hyperparameters]));
        expect(fromDict.groups.map((g) => [g.lr, g.hyperparameters])).toEqual(a.groups.map((g) => [g.lr, g.hyperparameters]));
      },
    });
  });

  test('another group structure is refused, leaving the optimizer as it was', () => {
    const a = make();
    a.step();
    const s = a.stateDict();
    const flat = new AdamW([5, 7, 9], { lr: 0.1 });
    const regrouped = new AdamW([{ params: [5] }, { params: [7, 9] }]);
    for (const o of [flat, regrouped]) {
      expect(() => o.loadStateDict(s)).toThrow(RangeError);
      expect(() => o.loadStateDict(s)).toThrow(/group structure/);
      expect(o.iteration).toBe(0);
    }
    for (const o of [a, flat, regrouped]) o.dispose();
  });

  test('a saved schedule needs a schedule in that group', () => {
    const a = make((t) => 0.01 / (1 + t));
    a.step();
    const s = a.stateDict();
    expect(s.groups?.map((g) => g.lr)).toEqual([0.1, null]);
    const numeric = make();
    expect(() => numeric.loadStateDict(s)).toThrow(/group 1 to have an lr schedule because state\.groups\[1\]\.lr is null/);
    const sched = make((t) => 0.01 / (1 + t));
    sched.loadStateDict(s);
    expect(sched.iteration).toBe(1);
    for (const o of [a, numeric, sched]) o.dispose();
  });

  test('a version 1 checkpoint (no groups) loads into a one-group optimizer', () => {
    const a = new Adam([3, 4], { lr: 0.02 });
    a.step();
    const s = { ...a.stateDict(), version: 1, groups: null };
    const bytes = Buffer.concat([...encodeCheckpoint(s)]);
    expect(bytes.readUInt32LE(8)).toBe(1);
    const decoded = decodeCheckpoint(bytes);
    expect(decoded.groups).toBeNull();
    const b = createOptimizer('adam', [3, 4]);
    b.loadStateDict(decoded);
    expect(b.iteration).toBe(1);
    expect(b.lr).toBe(0.02);
    a.dispose();
    b.dispose();
  });
});
