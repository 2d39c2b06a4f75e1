/**
 * Combinators: build bigger schedules out of smaller ones (optax style).
 */
import {
  finite,
  integer,
  nonNegative,
  numberArray,
  numberList,
  oneOf,
  optional,
  positiveInteger,
  rangeError,
  readOptions,
  schedule as scheduleArg,
  scheduleArray,
  scheduleValue,
} from '../validate.js';
import type { Schedule } from './types.js';

/**
 * Runs `schedules` one after another, switching at `boundaries`; each schedule after the
 * first sees the step counted from its own boundary.
 *
 * Formula, with b₀ ≤ b₁ ≤ … the boundaries: `schedules[0](t)` for t < b₀, and
 * `schedules[i + 1](t − bᵢ)` for bᵢ ≤ t < bᵢ₊₁ (the last schedule runs for ever). With equal
 * boundaries the later schedule wins. A negative or `NaN` step goes to `schedules[0]`
 * unchanged (the built-in schedules clamp it to 0 or return `NaN`).
 *
 * Follows optax `join_schedules(schedules, boundaries)`.
 *
 * @param schedules - n >= 1 schedules.
 * @param boundaries - n − 1 finite steps >= 0 in non-decreasing order.
 * @example
 * ```ts
 * const lr = join([constant(1), linear({ from: 1, to: 0, steps: 4 })], [2]);
 * [0, 1, 2, 3, 4, 6].map((t) => lr(t));
 * // → [1, 1, 1, 0.75, 0.5, 0]
 * ```
 */
export function join(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const list = scheduleArray('schedules', schedules);
  const bs = numberList('boundaries', boundaries, nonNegative);
  if (bs.length !== list.length - 1) {
    throw rangeError(
      'boundaries',
      `an array of ${list.length - 1} boundar${list.length === 2 ? 'y' : 'ies'} (one fewer than schedules)`,
      boundaries,
    );
  }
  for (let i = 1; i < bs.length; i++) {
    if (bs[i] < bs[i - 1]) {
      throw rangeError(`boundaries[${i}]`, `a number >= boundaries[${i - 1}] = ${bs[i - 1]}`, bs[i]);
    }
  }
  if (list.length === 1) return list[0];
  const first = list[0];
  if (list.length === 2) {
    const b = bs[0];
    const second = list[1];
    return (t: number): number => (t >= b ? second(t - b) : first(t));
  }
  const b = Float64Array.from(bs);
  const rest = list.slice(1);
  return (t: number): number => {
    for (let i = b.length - 1; i >= 0; i--) {
      if (t >= b[i]) return rest[i](t - b[i]);
    }
    return first(t);
  };
}

/** Options of {@link warmup}. */
export interface WarmupOptions {
  /** Warm-up length W, an integer >= 0. Required. */
  steps: number;
  /** Value at step 0. Finite, >= 0. Default 0. */
  from?: number;
}

/**
 * Prepends a linear warm-up of `steps` steps to a schedule, which then starts at step W
 * from its own step 0.
 *
 * Formula, with W = `options.steps`, s = `schedule`:
 * - t < W: `from + (s(0) − from)·t/W`;
 * - t ≥ W: `s(t − W)`.
 * Identical to `join([linear({ from, to: s(0), steps: W }), s], [W])`. `s(0)` is read once,
 * here, and must be a finite number. W = 0 returns `schedule` itself.
 *
 * Default: `from = 0`.
 *
 * Follows optax (`warmup_cosine_decay_schedule` = `join_schedules([linear, cosine])`).
 *
 * @example
 * ```ts
 * const lr = warmup(linearDecay({ peak: 1, steps: 4 }), { steps: 2 });
 * [0, 1, 2, 3, 6].map((t) => lr(t));
 * // → [0, 0.5, 1, 0.75, 0]
 * ```
 */
export function warmup(schedule: Schedule, options: WarmupOptions): Schedule {
  const s = scheduleArg('schedule', schedule);
  const o = readOptions('options', options, ['steps', 'from']);
  const W = integer('options.steps', o.steps, 0);
  const from = optional(o, 'from', 0, nonNegative);
  const to = scheduleValue('schedule(0)', s, 0);
  if (W === 0) return s;
  const rise = to - from;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    return t < W ? from + rise * (t / W) : s(t - W);
  };
}

/**
 * Samples a schedule every `every` steps and holds the value in between: REX's "sampling
 * rate" (re-read the profile every iteration, every epoch, every k steps).
 *
 * Formula: `schedule(⌊t/every⌋·every)`; a negative step reads step 0, `NaN` gives `NaN`.
 *
 * Paper 3 (Chen, Wolfe, Kyrillidis 2021, REX, arXiv 2107.04197), Section 3: a schedule is a
 * profile plus a sampling rate.
 *
 * @param every - an integer >= 1 (1 returns `schedule` itself).
 * @example
 * ```ts
 * const lr = sampled(linearDecay({ peak: 1, steps: 8 }), 4);
 * [0, 3, 4, 7, 8].map((t) => lr(t));
 * // → [1, 1, 0.5, 0.5, 0]
 * ```
 */
export function sampled(schedule: Schedule, every: number): Schedule {
  const s = scheduleArg('schedule', schedule);
  const k = positiveInteger('every', every);
  if (k === 1) return s;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    return s(Math.floor(t / k) * k);
  };
}

/**
 * Multiplies a schedule by a constant.
 *
 * Formula: `factor·schedule(t)`.
 *
 * Follows the usual "peak × unit-profile" construction (PyTorch `LambdaLR`, HF lambdas).
 *
 * @param factor - any finite number.
 * @example
 * ```ts
 * const lr = scale(linearDecay({ peak: 1, steps: 4 }), 0.01);
 * [0, 2, 4].map((t) => lr(t));
 * // → [0.01, 0.005, 0]
 * ```
 */
export function scale(schedule: Schedule, factor: number): Schedule {
  const s = scheduleArg('schedule', schedule);
  const f = finite('factor', factor);
  return (t: number): number => f * s(t);
}

/** Options of {@link fromArray}. */
export interface FromArrayOptions {
  /** After the last value: `'hold'` keeps the last value (default), `'zero'` gives 0. */
  after?: 'hold' | 'zero';
  /**
   * Length of the run the table is for, an integer >= 2; default: one step per value. When it
   * differs from the number of values n, the table is stretched over the run: step s reads
   * position s·(n − 1)/(steps − 1), interpolated linearly between neighbours.
   */
  steps?: number;
}

/**
 * The one array-to-schedule conversion (used by {@link fromArray} and refine's
 * `scheduleFromValues`), on values already checked: `values[⌊t⌋]` when `steps` equals their
 * number n, else position ⌊t⌋·(n − 1)/(steps − 1) interpolated linearly; steps ≥ `steps`
 * give `tail`, negative steps `values[0]`, NaN gives NaN. Never throws, allocates nothing.
 * @internal
 */
export function tableSchedule(values: Float64Array, steps: number, tail: number): Schedule {
  const v = values;
  const n = v.length;
  if (steps === n) {
    return (t: number): number => {
      if (!(t >= 0)) {
        if (t !== t) return NaN;
        t = 0;
      }
      return t < n ? v[Math.floor(t)] : tail;
    };
  }
  const scale = n === 1 ? 0 : (n - 1) / (steps - 1);
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t >= steps) return tail;
    const u = Math.floor(t) * scale;
    const i = Math.floor(u);
    if (i >= n - 1) return v[n - 1];
    const f = u - i;
    return f === 0 ? v[i] : v[i] + (v[i + 1] - v[i]) * f;
  };
}

/**
 * A schedule read from a table of values, one per step (e.g. a refined schedule, paper 1).
 *
 * Formula, with n = `values.length`: `values[⌊t⌋]` for t < n (fractional steps read the
 * step below; negative steps read `values[0]`); for t ≥ n, `values[n − 1]` (`after: 'hold'`)
 * or 0 (`after: 'zero'`). With `steps`, the table is stretched over a run of that many steps
 * (linear interpolation, see {@link FromArrayOptions.steps}). The values are copied.
 *
 * Default: `after = 'hold'`, one step per value.
 *
 * Follows optax `piecewise_constant_schedule` in spirit, and the tabulated schedules
 * produced by the refinement of paper 1 (Defazio et al. 2023, arXiv 2310.07831).
 *
 * @param values - a non-empty array (or typed array) of finite numbers.
 * @example
 * ```ts
 * const lr = fromArray([3, 2, 1], { after: 'zero' });
 * [0, 1.5, 2, 3, 1e9].map((t) => lr(t));
 * // → [3, 2, 1, 0, 0]
 * fromArray([1, 0.5, 0], { steps: 5 })(1);
 * // → 0.75
 * ```
 */
export function fromArray(values: ArrayLike<number>, options?: FromArrayOptions): Schedule {
  const v = numberArray('values', values);
  if (v.length === 0) throw rangeError('values', 'a non-empty array of numbers', values);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw rangeError(`values[${i}]`, 'a finite number', v[i]);
  }
  const o = readOptions('options', options, ['after', 'steps']);
  const after = optional(o, 'after', 'hold', (n, x) => oneOf(n, x, ['hold', 'zero'] as const));
  const steps = optional(o, 'steps', v.length, (n, x) => integer(n, x, 2));
  return tableSchedule(v, steps, after === 'hold' ? v[v.length - 1] : 0);
}

/**
 * Evaluates a schedule at steps 0, 1, …, `steps − 1`.
 *
 * Formula: `out[i] = schedule(i)`.
 *
 * Like `[schedule(i) for i in range(steps)]` in the optax and PyTorch test suites; handy for
 * plots, for the native side, and as the input of refinement.
 *
 * @param steps - an integer >= 0.
 * @example
 * ```ts
 * Array.from(materialize(linearDecay({ peak: 1, steps: 4 }), 5));
 * // → [1, 0.75, 0.5, 0.25, 0]
 * ```
 */
export function materialize(schedule: Schedule, steps: number): Float64Array {
  const s = scheduleArg('schedule', schedule);
  const n = integer('steps', steps, 0);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = s(i);
  return out;
}

