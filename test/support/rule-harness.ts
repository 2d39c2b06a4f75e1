/**
 * Pieces the per-rule test files (test/rules.*.test.ts, test/groups.test.ts,
 * test/optim.behaviour.test.ts) share: bad-input case runners, bitwise determinism across SIMD
 * levels and thread counts, checkpoint round trips, the tfjs adapter against the class, the
 * group-by-group float64 comparison and the random-configuration property against float64.
 *
 * Each helper asserts exactly what the copies it replaced asserted; what differs between rules
 * (the constructor, the reference, extra checks) is passed in.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';

import { buildInfo, decodeCheckpoint, encodeCheckpoint, setSimd, type FusedOptimizer, type OptimizerStateDict, type SimdLevel } from '../../src/index.js';
import { closeError, decide, expectSameBits, sameBits, wellConditionedGrad } from './ref-nadam-radam-lion.js';
import { randomF32, rng } from './reference.js';

type AnyOptimizer = FusedOptimizer<object>;
type ErrorType = new (...args: never[]) => Error;

/** One bad-input case: a test name, the call, the error class it must throw, and a message pattern. */
export type BadInputCase = [name: string, call: () => unknown, type: ErrorType, message: RegExp];

/**
 * Asserts that `call` throws an instance of `type` whose message matches `message`. A value
 * returned by a call that does not throw is disposed when it can be (the test fails anyway).
 */
export function expectTypedError(call: () => unknown, type: ErrorType, message: RegExp): void {
  let err: unknown;
  try {
    (call() as { dispose?: () => void } | undefined)?.dispose?.();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(type);
  expect((err as Error).message).toMatch(message);
}

/** One test per case, named after it, each asserting its typed error (see expectTypedError). */
export function testBadInputs(cases: readonly BadInputCase[]): void {
  for (const [name, call, type, message] of cases) test(name, () => expectTypedError(call, type, message));
}

/** Asserts that two state dicts hold bitwise the same parameters and state slots (every slot). */
export function expectSameStateBits(after: OptimizerStateDict, before: OptimizerStateDict): void {
  const x = [...after.params, ...Object.values(after.state).flat()];
  const y = [...before.params, ...Object.values(before.state).flat()];
  expect(x.length).toBe(y.length);
  x.forEach((a, i) => expect(sameBits(a, y[i]), `array ${i}`).toBe(true));
}

/**
 * Bitwise determinism: builds the optimizer with `make(threads)` on every SIMD level this CPU
 * has × threads 1 and 2, runs `drive` on each (which must draw the same data every time), and
 * asserts that every run holds the same bits as the first (parameters and every state slot).
 * Restores the SIMD level in use. Prints `<label>: N runs (SIMD … × threads 1, 2), <what>`.
 */
export function expectSameBitsAcrossSimdAndThreads<O extends AnyOptimizer>(
  label: string,
  what: string,
  make: (threads: number) => O,
  drive: (opt: O) => void,
): void {
  const levels = buildInfo().simdSupported as SimdLevel[];
  const initial = buildInfo().simd as SimdLevel;
  const runs: O[] = [];
  try {
    for (const level of levels) {
      for (const threads of [1, 2]) {
        setSimd(level);
        const opt = make(threads);
        runs.push(opt);
        drive(opt);
      }
    }
    console.log(`${label}: ${runs.length} runs (SIMD ${levels.join(', ')} × threads 1, 2), ${what}`);
    for (const o of runs.slice(1)) expectSameBits(o, runs[0], what);
  } finally {
    setSimd(initial);
    for (const o of runs) o.dispose();
  }
}

/** Sets every tensor's gradient and takes one step. */
export function stepWith(opt: AnyOptimizer, grads: readonly Float32Array[]): void {
  grads.forEach((g, i) => opt.setGrads(i, g));
  opt.step();
}

export interface CheckpointRun<O extends AnyOptimizer> {
  /** the optimizer that ran uninterrupted */
  a: O;
  /** loaded from the checkpoint file */
  fromFile: O;
  /** loaded from the state dict, encoded to checkpoint bytes and decoded */
  fromDict: O;
  /** a's state dict when it was saved */
  saved: OptimizerStateDict;
  /** `saved` after encodeCheckpoint / decodeCheckpoint */
  decoded: OptimizerStateDict;
}

/**
 * The checkpoint round trip: `a = make()` takes the first `saveAfter` gradient sets, is saved
 * to `file` and its state dict encoded and decoded; two fresh `make()` load the file and the
 * decoded dict; `afterLoad` may check them; then all three take the remaining gradient sets
 * and the two loaded ones must hold bitwise a's parameters and state. Disposes all three.
 */
export function expectCheckpointResumesBitwise<O extends AnyOptimizer>(o: {
  make: () => O;
  grads: readonly (readonly Float32Array[])[];
  saveAfter: number;
  file: string;
  beforeSave?: (a: O) => void;
  afterLoad?: (run: CheckpointRun<O>) => void;
}): void {
  const a = o.make();
  const loaded: O[] = [];
  try {
    for (const g of o.grads.slice(0, o.saveAfter)) stepWith(a, g);
    o.beforeSave?.(a);
    a.saveSync(o.file);
    const saved = a.stateDict();
    const decoded = decodeCheckpoint(Buffer.concat([...encodeCheckpoint(saved)]));
    const fromFile = o.make();
    loaded.push(fromFile);
    fromFile.loadSync(o.file);
    const fromDict = o.make();
    loaded.push(fromDict);
    fromDict.loadStateDict(decoded);
    o.afterLoad?.({ a, fromFile, fromDict, saved, decoded });
    for (const g of o.grads.slice(o.saveAfter)) for (const x of [a, fromFile, fromDict]) stepWith(x, g);
    expectSameBits(fromFile, a, 'loaded from the file');
    expectSameBits(fromDict, a, 'loaded from the decoded state dict');
  } finally {
    for (const x of [a, ...loaded]) x.dispose();
  }
}

/**
 * FusedTfOptimizer with `config` (whose `optimizer` names the rule) on one variable against
 * the class built by `make(w0)`: `steps` steps of the same gradients must give the same bits,
 * the adapter must have built that rule, and every weight must have moved.
 */
export async function expectTfAdapterMatchesClass(
  config: { optimizer: string } & Record<string, unknown>,
  make: (w0: Float32Array) => AnyOptimizer,
  steps: number,
): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { FusedTfOptimizer } = await import('../../src/tfjs/index.js');
  await tf.setBackend('cpu');
  const name = `rules_${config.optimizer}_w`;
  const w0 = Float32Array.from([0.5, -1, 2, 0]);
  const w = tf.variable(tf.tensor1d(w0), true, name);
  const tfOpt = new FusedTfOptimizer(config as never);
  const opt = make(w0);
  for (let t = 0; t < steps; t++) {
    const g = Float32Array.from([0.1, -0.2, 0.3 * t, 1]);
    tfOpt.applyGradients([{ name, tensor: tf.tensor1d(g) }]);
    opt.grads[0].set(g);
    opt.step();
  }
  expect(tfOpt.fused?.kind).toBe(config.optimizer);
  expect(sameBits(w.dataSync() as Float32Array, opt.readParams(0))).toBe(true);
  expect(Array.from(w.dataSync()).every((x, i) => x !== w0[i])).toBe(true);
  tfOpt.dispose();
  w.dispose();
  opt.dispose();
}

/**
 * Sets the gradients, steps, takes the reference's global decision (norms, clip) over every
 * group and asserts the reported L2 norm (relative 2e-6) and, when clipping, an active clip.
 */
export function stepAndDecide(
  opt: AnyOptimizer,
  grads: Float32Array[][],
  gradScale: number,
  maxGradNorm: number | null,
): { info: ReturnType<AnyOptimizer['step']>; d: ReturnType<typeof decide> } {
  grads.flat().forEach((g, i) => opt.setGrads(i, g));
  const info = opt.step();
  const d = decide(grads, gradScale, maxGradNorm, false);
  expect(Math.abs(info.gradNormL2 - d.l2) / d.l2).toBeLessThan(2e-6);
  if (maxGradNorm !== null) expect(info.clipCoef).toBeLessThan(1);
  return { info, d };
}

/**
 * Asserts, tensor by tensor in group order (tensor k is the k-th over all groups), that
 * `error(actual(k), expected[gi][j], skip?.[gi][j]) < tol`; messages `<what>, group gi tensor j`.
 */
export function expectCloseByGroup(
  what: string,
  actual: (k: number) => ArrayLike<number>,
  expected: readonly (readonly ArrayLike<number>[])[],
  tol: number,
  o: { error?: (a: ArrayLike<number>, e: ArrayLike<number>, skip?: Uint8Array) => number; skip?: Uint8Array[][] } = {},
): void {
  const error = o.error ?? closeError;
  let k = 0;
  expected.forEach((group, gi) =>
    group.forEach((e, j) => {
      expect(error(actual(k), e, o.skip?.[gi][j]), `${what}, group ${gi} tensor ${j}`).toBeLessThan(tol);
      k++;
    }),
  );
}

/** Tensor lengths of the property tests: short (tails), a few thousand, and around one 16384-element chunk. */
export const propertyLength = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 3000 }), fc.integer({ min: 16_380, max: 20_000 }));

/** One group's float64 reference: its parameters, advanced by `step`. */
export interface GroupReference {
  params: Float64Array[];
  step(grads: Float32Array[], gradScale: number, t: number, clipCoef: number): void;
}

/**
 * Random configurations against float64 (fast-check, `seed`, `numRuns`): 1–2 groups drawn from
 * `group` (which has `lengths` and the rule's hyperparameters), 1–`maxSteps` steps of
 * well-conditioned gradients, gradScale 1, 0.25 or 4, no clipping or clipping to 0.7 or 3
 * times the expected norm, 1 or 2 threads. Each group's reference comes from
 * `reference(group, init)`; every tensor's parameters must be within 1e-4 (closeError).
 */
export function assertRandomGroupsMatchFloat64<G extends { lengths: number[] }>(o: {
  seed: number;
  numRuns: number;
  group: fc.Arbitrary<G>;
  maxSteps: number;
  make: (groups: (Omit<G, 'lengths'> & { params: Float32Array[] })[], options: { maxGradNorm: number | null; gradScale: number; threads: number }) => AnyOptimizer;
  reference: (group: G, init: Float32Array[]) => GroupReference;
}): void {
  const config = fc.record({
    groups: fc.array(o.group, { minLength: 1, maxLength: 2 }),
    steps: fc.integer({ min: 1, max: o.maxSteps }),
    gradScale: fc.constantFrom(1, 0.25, 4),
    // clipping to a fraction of the expected norm √(0.35·n): a clip coefficient ≈ 0.7 keeps |g| ≥ 0.035
    clip: fc.constantFrom(null, 0.7, 3),
    threads: fc.constantFrom(1, 2),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
  fc.assert(
    fc.property(config, (c) => {
      const r = rng(c.seed);
      const init = c.groups.map((g) => g.lengths.map((n) => randomF32(n, r)));
      const total = c.groups.flatMap((g) => g.lengths).reduce((a, b) => a + b, 0);
      const maxGradNorm = c.clip === null ? null : c.clip * Math.sqrt(0.35 * total);
      const opt = o.make(
        c.groups.map(({ lengths: _l, ...g }, gi) => ({ ...g, params: init[gi] })),
        { maxGradNorm, gradScale: c.gradScale, threads: c.threads },
      );
      try {
        const refs = c.groups.map((g, gi) => o.reference(g, init[gi]));
        for (let t = 1; t <= c.steps; t++) {
          const grads = c.groups.map((g) => g.lengths.map((n) => wellConditionedGrad(n, r)));
          grads.flat().forEach((g, i) => opt.setGrads(i, g));
          opt.step();
          const d = decide(grads, c.gradScale, maxGradNorm, false);
          refs.forEach((ref, gi) => ref.step(grads[gi], c.gradScale, t, d.clipCoef));
        }
        let k = 0;
        for (let gi = 0; gi < refs.length; gi++) {
          for (let j = 0; j < refs[gi].params.length; j++, k++) {
            const err = closeError(opt.readParams(k), refs[gi].params[j]);
            if (!(err < 1e-4)) throw new Error(`group ${gi} tensor ${j}: params error ${err}`);
          }
        }
      } finally {
        opt.dispose();
      }
    }),
    { seed: o.seed, numRuns: o.numRuns },
  );
}

/**
 * The determinism check of test/rules.{nadam,radam,lion}.test.ts: tensors of lengths 1, 15,
 * 16, 17 and 70 001 (SIMD tails, several chunks) drawn from `rng(seed + 1)`; for maxGradNorm
 * null (one pass) and 1e6 (two passes), `steps` steps of gradients drawn from `rng(seed + 2)`
 * on every SIMD level × threads 1 and 2 must give the same bits (expectSameBitsAcrossSimdAndThreads).
 */
export function expectRuleDeterministic<O extends AnyOptimizer>(
  label: string,
  seed: number,
  steps: number,
  make: (init: Float32Array[], maxGradNorm: number | null, threads: number) => O,
): void {
  const r = rng(seed + 1);
  const lengths = [1, 15, 16, 17, 70_001];
  const init = lengths.map((n) => randomF32(n, r));
  for (const maxGradNorm of [null, 1e6]) {
    expectSameBitsAcrossSimdAndThreads(
      label,
      `maxGradNorm ${maxGradNorm}`,
      (threads) => make(init, maxGradNorm, threads),
      (opt) => {
        const rr = rng(seed + 2);
        for (let t = 0; t < steps; t++) {
          lengths.forEach((n, i) => opt.setGrads(i, randomF32(n, rr)));
          opt.step();
        }
      },
    );
  }
}

/**
 * A skipped step is invisible: `a` and `b` (both `make()`, with skipNonFinite) take the same
 * gradient sets, except that before set `badAt` `a` also takes a copy poisoned by `poison`
 * through stepAsync, which must report skipped and leave `a`'s parameters and every state
 * slot (named `slots`) bitwise as they were; in the end `a` must have applied `grads.length`
 * steps and hold `b`'s bits. `check(a, b)` may assert more before both are disposed.
 */
export async function expectSkippedStepInvisible<O extends AnyOptimizer>(o: {
  make: () => O;
  grads: readonly Float32Array[][];
  badAt: number;
  poison: (bad: Float32Array[]) => void;
  slots: string[];
  check?: (a: O, b: O) => void;
}): Promise<void> {
  const a = o.make();
  const b = o.make();
  try {
    for (let t = 0; t < o.grads.length; t++) {
      if (t === o.badAt) {
        const before = a.stateDict();
        const bad = o.grads[t].map((x) => x.slice());
        o.poison(bad);
        bad.forEach((x, i) => a.setGrads(i, x));
        expect((await a.stepAsync()).skipped).toBe(true);
        const after = a.stateDict();
        expect(Object.keys(after.state)).toEqual(o.slots);
        expectSameStateBits(after, before);
      }
      for (const x of [a, b]) stepWith(x, o.grads[t]);
    }
    expect(a.appliedSteps).toBe(o.grads.length);
    o.check?.(a, b);
    expectSameBits(a, b, 'after the skipped step');
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * CUDA against the CPU: tensors of lengths 1, 1000 and 40 001 drawn from `rng(seed)`;
 * `make(init, 'cpu')` and `make(init, 'cuda')` (with skipNonFinite) take `steps` gradient sets
 * drawn from the same generator, the third with a NaN in the last tensor (skipped); the device must have applied `steps − 1` steps and hold the CPU's bits.
 * `check(gpu, cpu)` may assert more before both are disposed.
 */
export function expectCudaMatchesCpu<O extends AnyOptimizer>(o: {
  seed: number;
  make: (init: Float32Array[], device: 'cpu' | 'cuda') => O;
  steps: number;
  check?: (gpu: O, cpu: O) => void;
}): void {
  const r = rng(o.seed);
  const lengths = [1, 1000, 40_001];
  const init = lengths.map((n) => randomF32(n, r));
  const cpu = o.make(init, 'cpu');
  const gpu = o.make(init, 'cuda');
  try {
    for (let t = 0; t < o.steps; t++) {
      const grads = lengths.map((n) => randomF32(n, r));
      if (t === 2) grads[2][7] = Number.NaN;
      for (const x of [cpu, gpu]) stepWith(x, grads);
    }
    expect(gpu.appliedSteps).toBe(o.steps - 1);
    o.check?.(gpu, cpu);
    expectSameBits(gpu, cpu, 'CUDA vs CPU');
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
}

/** The clipping cases of the float64 comparisons: [maxGradNorm, gradScale]. */
export const FLOAT64_CASES = [
  [null, 1],
  [0.5, 0.5],
] as const;

/**
 * The data of the three-group float64 comparisons: tensors of lengths [1000, 17], [33, 40 001]
 * and [5] (SIMD tails, a tensor over three 16384-element chunks), initial values drawn from
 * `r = rng(seed)` (which the test goes on drawing gradients from), their float64 copies `p`,
 * and `zeros()` for float64 state of the same shape.
 */
export function threeGroupData(seed: number): {
  r: () => number;
  lengths: number[][];
  init: Float32Array[][];
  p: Float64Array[][];
  zeros: () => Float64Array[][];
} {
  const r = rng(seed);
  const lengths = [[1000, 17], [33, 40_001], [5]];
  const init = lengths.map((g) => g.map((n) => randomF32(n, r)));
  const p = init.map((g) => g.map((a) => Float64Array.from(a)));
  return { r, lengths, init, p, zeros: () => lengths.map((g) => g.map((n) => new Float64Array(n))) };
}
