/**
 * Schedule refinement, the authors' closed form (Defazio, Cutkosky, Mehta, Mishchenko 2023,
 * "When, Why and How Much? Adaptive Learning Rate Scheduling by Refinement", arXiv 2310.07831).
 * @module
 */
import { finite, inInterval, integer, numberArray, oneOf, optional, positive, rangeError, readOptions, required, type OptionValues } from '../validate.js';
import { MEDIAN_BOUNDARIES, medianFilterUnchecked, type MedianBoundary } from './median.js';
import { tableSchedule } from '../schedules/combinators.js';
import type { Schedule } from '../schedules/types.js';
import { REFINE_METHODS, type RefineMethod } from './types.js';

/** Options of {@link refineSchedule}. */
export interface RefineOptions {
  /** `'sgd'`: L2 norms, weights ĝ⁻². `'adam'`: L1 norms, weights ĝ⁻¹. Required. */
  method: RefineMethod;
  /** Median-filter width as a fraction of the run, in [0, 1]; default 0.1. */
  tau?: number;
  /** Largest learning rate of the result (finite, > 0); default 1. */
  peak?: number;
  /** Boundary handling of the median filter; default `'authors'` (see `medianFilter`). */
  boundary?: MedianBoundary;
}

/** Everything {@link refineScheduleDetailed} computed. */
export interface RefinementResult {
  /** The refined schedule η, length T, max `peak`, last value 0. */
  schedule: Float64Array;
  /** The median-filtered norms ĝ. */
  smoothed: Float64Array;
  /** The median-filter width used, 2·⌊⌊τT⌋/2⌋ + 1. */
  width: number;
  method: RefineMethod;
  tau: number;
  peak: number;
}

/** Validated options, shared with `refineByBound` and `NormTrace`. @internal */
export interface ResolvedRefineOptions {
  method: RefineMethod;
  tau: number;
  peak: number;
  boundary: MedianBoundary;
  /** The snapshot the options were read from (for the caller's extra keys). */
  values: OptionValues;
}

/** The keys of {@link RefineOptions}. @internal */
export const REFINE_KEYS = ['method', 'tau', 'peak', 'boundary'] as const;

/**
 * Reads refinement options (unknown keys are a TypeError); `extraKeys` are the caller's own,
 * left in `values` for it to read. @internal
 */
export function resolveRefineOptions(opts: unknown, extraKeys: readonly string[] = [], name = 'options'): ResolvedRefineOptions {
  const o = readOptions(name, opts, [...REFINE_KEYS, ...extraKeys]);
  return {
    method: required(o, 'method', (n, v) => oneOf(n, v, REFINE_METHODS)),
    tau: optional(o, 'tau', 0.1, (n, v) => inInterval(n, v, 0, 1)),
    peak: optional(o, 'peak', 1, positive),
    boundary: optional(o, 'boundary', 'authors' as MedianBoundary, (n, v) => oneOf(n, v, MEDIAN_BOUNDARIES)),
    values: o,
  };
}

/**
 * The median-filter width refinement uses for a run of `T` steps:
 * `w = 2·⌊⌊τ·T⌋ / 2⌋ + 1` (always odd; 1, i.e. no smoothing, when τ·T < 2).
 *
 * @example
 * ```ts
 * refinementWidth(1000, 0.1);    // → 101
 * refinementWidth(1_000_000);    // → 100001
 * refinementWidth(15, 0.1);      // → 1
 * ```
 */
export function refinementWidth(T: number, tau = 0.1): number {
  integer('T', T, 0);
  inInterval('tau', tau, 0, 1);
  return 2 * Math.floor(Math.floor(tau * T) / 2) + 1;
}

/**
 * Checks a norm trace for refinement: at least 2 entries, each finite and >= 0.
 * @internal
 */
export function checkNorms(name: string, norms: unknown): Float64Array {
  const g = numberArray(name, norms);
  if (g.length < 2) {
    throw rangeError(name, 'at least 2 norms (a schedule needs a first and a last step)', norms);
  }
  for (let i = 0; i < g.length; i++) {
    const v = g[i];
    if (!(v >= 0) || v === Infinity) throw rangeError(`${name}[${i}]`, 'a finite number >= 0', v);
  }
  return g;
}

/**
 * Median-filters checked norms and rejects a result with a zero (whose weight would be
 * infinite).
 * @internal
 */
export function smoothNorms(g: Float64Array, width: number, boundary: MedianBoundary, name: string): Float64Array {
  const s = medianFilterUnchecked(g, width, boundary);
  for (let t = 0; t < s.length; t++) {
    if (s[t] === 0) {
      throw new RangeError(
        `Expected norms whose median over every window of width ${width} is > 0 for ${name} but received ` +
          `a median of 0 at step ${t} (too many zero norms there)`,
      );
    }
  }
  return s;
}

/**
 * Weights w_t = (ĝ_min / ĝ_t)² for `'sgd'`, ĝ_min / ĝ_t for `'adam'`: the paper's ĝ⁻² and
 * ĝ⁻¹ divided by a constant (which normalisation removes), so they lie in (0, 1] and cannot
 * overflow whatever the scale of the norms.
 * @internal
 */
export function refinementWeights(smoothed: Float64Array, method: RefineMethod): Float64Array {
  let gmin = Infinity;
  for (let t = 0; t < smoothed.length; t++) if (smoothed[t] < gmin) gmin = smoothed[t];
  const w = new Float64Array(smoothed.length);
  for (let t = 0; t < w.length; t++) {
    const u = gmin / smoothed[t];
    w[t] = method === 'sgd' ? u * u : u;
  }
  return w;
}

/**
 * The authors' closed form on smoothed norms: η_t = w_t·Σ_{p>t} w_p, normalised to max 1,
 * times `peak`. Suffix sums are compensated (Neumaier). @internal
 */
export function closedFormFromSmoothed(smoothed: Float64Array, method: RefineMethod, peak: number): Float64Array {
  const w = refinementWeights(smoothed, method);
  const T = w.length;
  const eta = new Float64Array(T);
  let sum = 0;
  let comp = 0;
  let max = 0;
  for (let t = T - 1; t >= 0; t--) {
    const e = w[t] * (sum + comp);
    eta[t] = e;
    if (e > max) max = e;
    const x = w[t];
    const s = sum + x;
    comp += Math.abs(sum) >= Math.abs(x) ? sum - s + x : x - s + sum;
    sum = s;
  }
  if (!(max > 0) || !Number.isFinite(max)) {
    throw new RangeError(`Expected norms with a usable dynamic range for norms but received weights that ${max > 0 ? 'overflow' : 'all underflow to 0'}`);
  }
  for (let t = 0; t < T; t++) eta[t] = (eta[t] / max) * peak;
  return eta;
}

/**
 * Refines a learning-rate schedule from the gradient norms of a previous run (the
 * authors' closed form, paper 1 of docs/papers.md).
 *
 * With T = `norms.length`:
 * 1. width w = 2·⌊⌊τ·T⌋/2⌋ + 1; ĝ = `medianFilter(norms, w, { boundary })` (default
 *    `'authors'`: reflect-pad the right end by 2w, left end repeats the first value);
 * 2. weights w_t = ĝ_t⁻² (`'sgd'`, L2 norms) or w_t = ĝ_t⁻¹ (`'adam'`, L1 norms);
 * 3. η_t = w_t · Σ_{p=t+1}^{T−1} w_p, so η_{T−1} = 0;
 * 4. η ← peak · η / max_t η_t.
 *
 * Properties (each one tested): constant norms give exact linear decay
 * η_t = peak·(T−1−t)/(T−1); scaling every norm by c > 0 changes nothing; a spike of at most
 * ⌊w/2⌋ steps is ignored; large early norms give a warm-up; a step's weight only depends
 * on the smoothed norm there and after.
 *
 * Edge cases: T = 2 gives `[peak, 0]` (width 1, no smoothing); T < 2 throws; a NaN,
 * ±Infinity or negative norm throws a RangeError naming its index (`NormTrace.refine`
 * fills skipped steps first); zero norms are fine unless a median window is mostly zeros,
 * which throws (its weight would be infinite).
 *
 * Cost: O(T log w) for the median filter, O(T) for the rest: ~0.3 s for T = 1e6, τ = 0.1
 * (scipy's speed; `bench/refine.mjs`).
 *
 * @param norms - per-step gradient norms of a previous run (L2 for SGD, L1 for Adam/AdamW).
 * @param opts - `{ method, tau = 0.1, peak = 1, boundary = 'authors' }`; `method` is required.
 * @returns a new `Float64Array` of length T: the learning rate for each step.
 * @throws TypeError for wrong types; RangeError for out-of-range values (see above).
 *
 * @example
 * ```ts
 * refineSchedule([2, 2, 2, 2, 2], { method: 'sgd' });
 * // → [1, 0.75, 0.5, 0.25, 0]   (a Float64Array)
 * // warm-up then decay:
 * refineSchedule([8, 4, 2, 2, 2], { method: 'sgd', tau: 0, peak: 0.1 });
 * // ≈ [0.0102, 0.0375, 0.1, 0.05, 0]
 * ```
 */
export function refineSchedule(norms: ArrayLike<number>, opts: RefineOptions): Float64Array {
  return refineScheduleDetailed(norms, opts).schedule;
}

/**
 * {@link refineSchedule}, also returning the smoothed norms and the width used (for plots
 * and reports).
 *
 * @example
 * ```ts
 * const r = refineScheduleDetailed([3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], { method: 'sgd' });
 * r.width;                           // → 3
 * r.smoothed.every((g) => g === 3);  // → true: the one-step dip is filtered out
 * r.schedule[1];                     // ≈ 18 / 19 (linear decay 1, 18/19, …, 0)
 * ```
 */
export function refineScheduleDetailed(norms: ArrayLike<number>, opts: RefineOptions): RefinementResult {
  return refineResolved(norms, resolveRefineOptions(opts));
}

function refineResolved(norms: ArrayLike<number>, o: ResolvedRefineOptions): RefinementResult {
  const g = checkNorms('norms', norms);
  const width = 2 * Math.floor(Math.floor(o.tau * g.length) / 2) + 1;
  const smoothed = smoothNorms(g, width, o.boundary, 'norms');
  const schedule = closedFormFromSmoothed(smoothed, o.method, o.peak);
  return { schedule, smoothed, width, method: o.method, tau: o.tau, peak: o.peak };
}

/** Options of {@link scheduleFromValues}. */
export interface ScheduleFromValuesOptions {
  /**
   * Length of the run the schedule is for (an integer >= 2); default: the number of values.
   * When it differs, the values are stretched over it: step s reads position
   * s·(n − 1)/(steps − 1).
   */
  steps?: number;
}

/**
 * Turns per-step learning rates into a schedule function: `fromArray` of
 * `fused-optim/schedules` (the same conversion), holding the last value, with a run length of
 * at least 2 steps.
 *
 * The step is floored (a fractional step uses the step below). For a run of `steps` steps
 * (default `values.length` = n) step s reads position u = s·(n − 1)/(steps − 1) of
 * `values`, linearly interpolated between neighbours; unstretched (steps = n), u = s and
 * step s returns `values[s]` exactly. Negative steps (and −Infinity) return `values[0]`;
 * steps past the end (and +Infinity) hold `values[n − 1]`, which is 0 for a closed-form
 * refined schedule: training past the planned end gets no further updates. NaN returns
 * NaN. The function never throws and allocates nothing.
 *
 * @example
 * ```ts
 * const f = scheduleFromValues([1, 0.5, 0]);
 * [f(0), f(1), f(1.7), f(2), f(1e9), f(-3)];          // → [1, 0.5, 0.5, 0, 0, 1]
 * scheduleFromValues([1, 0.5, 0], { steps: 5 })(1);  // → 0.75 (position 0.5)
 * ```
 */
export function scheduleFromValues(values: ArrayLike<number>, opts?: ScheduleFromValuesOptions): Schedule {
  const v = numberArray('values', values);
  if (v.length < 1) throw rangeError('values', 'at least 1 value', values);
  for (let i = 0; i < v.length; i++) finite(`values[${i}]`, v[i]);
  const o = readOptions('options', opts, ['steps']);
  const steps = optional(o, 'steps', Math.max(v.length, 2), (nm, x) => integer(nm, x, 2));
  return tableSchedule(v, steps, v[v.length - 1]);
}

/** Options of {@link refinedSchedule}. */
export interface RefinedScheduleOptions extends RefineOptions, ScheduleFromValuesOptions {}

/**
 * {@link refineSchedule} as a schedule function: `refinedSchedule(norms, opts)(t)` is the
 * refined learning rate at step t. Steps 0…T−1 return exactly `refineSchedule(norms, opts)[t]`
 * (fractional steps use the step below); steps past T−1 return 0 (the schedule's last
 * value), negative steps the first value, NaN gives NaN. With `steps`, the schedule is
 * stretched over a run of that many steps, interpolating linearly (see
 * {@link scheduleFromValues}).
 *
 * @example
 * ```ts
 * const lr = refinedSchedule([2, 2, 2, 2, 2], { method: 'sgd', peak: 0.1 });
 * [lr(0), lr(2), lr(4), lr(100)];                                   // → [0.1, 0.05, 0, 0]
 * refinedSchedule([2, 2, 2, 2, 2], { method: 'sgd', steps: 9 })(2); // → 0.75
 * ```
 */
export function refinedSchedule(norms: ArrayLike<number>, opts: RefinedScheduleOptions): Schedule {
  const o = resolveRefineOptions(opts, ['steps']);
  const values = refineResolved(norms, o).schedule;
  return scheduleFromValues(values, o.values.steps === undefined ? {} : { steps: o.values.steps as number });
}
