/**
 * Piecewise-constant and exponential schedules: multi-step (with the 30-60-90 budget helper)
 * and exponential decay.
 */
import {
  boolean,
  inInterval,
  integer,
  nonNegative,
  nonNegativeInteger,
  numberList,
  optional,
  positive,
  positiveInteger,
  readOptions,
  required,
} from '../validate.js';
import { readWarmup } from './shared-options.js';
import type { Schedule } from './types.js';

/** Options of {@link multiStep}. */
export interface MultiStepOptions {
  /** Value before the first milestone (after the warm-up). Finite, >= 0. Required. */
  peak: number;
  /** Steps (0-based, warm-up included) where the value is multiplied by `gamma`: integers >= 0, any order, repeats allowed. Required. */
  milestones: readonly number[];
  /** Multiplicative factor per milestone, finite and > 0. Default 0.1. */
  gamma?: number;
  /** Linear warm-up length W (integer >= 0). Default 0. */
  warmup?: number;
  /** Value at step 0 when `warmup > 0`. Default 0. */
  warmupFrom?: number;
}

/**
 * Step decay at given milestones.
 *
 * Formula, with W = `warmup` and k(t) = the number of milestones m with m ≤ t:
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - t ≥ W: `peak·gamma^k(t)`.
 * Milestones count from step 0, warm-up included (a milestone inside the warm-up takes effect
 * at step W). A fractional step t uses the milestones ≤ t.
 *
 * Defaults: `gamma = 0.1`, `warmup = 0`, `warmupFrom = 0`.
 *
 * Follows PyTorch `MultiStepLR` (closed form `base_lr·gamma^bisect_right(milestones, t)`;
 * repeated milestones multiply by gamma once each).
 *
 * @example
 * ```ts
 * const lr = multiStep({ peak: 1, milestones: [3, 6], gamma: 0.5 });
 * [0, 2, 3, 5, 6, 1e9].map((t) => lr(t));
 * // → [1, 1, 0.5, 0.5, 0.25, 0.25]
 * ```
 */
export function multiStep(options: MultiStepOptions): Schedule {
  const o = readOptions('options', options, ['peak', 'milestones', 'gamma', 'warmup', 'warmupFrom']);
  const peak = required(o, 'peak', nonNegative);
  const milestones = required(o, 'milestones', (n, v) => numberList(n, v, nonNegativeInteger));
  const gamma = optional(o, 'gamma', 0.1, positive);
  const { warmup, warmupFrom } = readWarmup(o);
  return multiStepSchedule(peak, milestones, gamma, warmup, warmupFrom);
}

function multiStepSchedule(
  peak: number,
  milestoneList: number[],
  gamma: number,
  W: number,
  from: number,
): Schedule {
  const ms = Float64Array.from(milestoneList).sort();
  const n = ms.length;
  // levels[k] = peak·gamma^k, the closed form PyTorch uses (no accumulated rounding)
  const levels = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) levels[k] = peak * Math.pow(gamma, k);
  const rise = peak - from;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t < W) return from + rise * (t / W);
    // k = number of milestones <= t (upper bound by binary search)
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ms[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return levels[lo];
  };
}

/** Options of {@link budgetedMultiStep}. */
export interface BudgetedMultiStepOptions {
  /** Value before the first milestone. Finite, >= 0. Required. */
  peak: number;
  /** The budget T in steps. Integer >= 1. Required. */
  steps: number;
  /** Fractions of T where the value drops, each in (0, 1]. Default `[0.3, 0.6, 0.9]`. */
  fractions?: readonly number[];
  /** Factor per milestone, finite and > 0. Default 0.1. */
  gamma?: number;
  /** Linear warm-up length, an integer in [0, steps]. Default 0. */
  warmup?: number;
  /** Value at step 0 when `warmup > 0`. Default 0. */
  warmupFrom?: number;
}

/**
 * The budgeted step schedule ("step 30-60-90"): multiply by `gamma` at 30%, 60% and 90% of
 * the budget T.
 *
 * Formula: {@link multiStep} with `milestones = fractions.map((f) => Math.round(f·T))`, i.e.
 * `peak·gamma^k(t)` with k(t) = the number of those milestones ≤ t.
 *
 * Defaults: `fractions = [0.3, 0.6, 0.9]`, `gamma = 0.1`, `warmup = 0`, `warmupFrom = 0`.
 *
 * The "step" baseline of paper 3 (Chen, Wolfe, Kyrillidis 2021, REX, arXiv 2107.04197),
 * the ResNet-on-ImageNet habit of dropping by 10× at epochs 30, 60 and 90 of 100.
 *
 * @example
 * ```ts
 * const lr = budgetedMultiStep({ peak: 1, steps: 100 });
 * [0, 29, 30, 60, 90, 99].map((t) => lr(t));
 * // → [1, 1, 0.1, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002]
 * ```
 */
export function budgetedMultiStep(options: BudgetedMultiStepOptions): Schedule {
  const o = readOptions('options', options, ['peak', 'steps', 'fractions', 'gamma', 'warmup', 'warmupFrom']);
  const peak = required(o, 'peak', nonNegative);
  const steps = required(o, 'steps', positiveInteger);
  const fractions = optional(o, 'fractions', [0.3, 0.6, 0.9], (n, v) =>
    numberList(n, v, (m, x) => inInterval(m, x, 0, 1, { loOpen: true })),
  );
  const gamma = optional(o, 'gamma', 0.1, positive);
  const warmup = optional(o, 'warmup', 0, (n, v) => integer(n, v, 0, steps));
  const warmupFrom = optional(o, 'warmupFrom', 0, nonNegative);
  const milestones = fractions.map((f) => Math.round(f * steps));
  return multiStepSchedule(peak, milestones, gamma, warmup, warmupFrom);
}

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** Value at the end of the warm-up. Finite, >= 0. Required. */
  peak: number;
  /** Factor per `every` steps, finite and > 0 (> 1 grows, as in an LR range test). Required. */
  gamma: number;
  /** Number of steps over which the value is multiplied by `gamma`. Integer >= 1. Default 1. */
  every?: number;
  /** When true the exponent is floored: the value changes only every `every` steps. Default false. */
  staircase?: boolean;
  /** Linear warm-up length W (integer >= 0). Default 0. */
  warmup?: number;
  /** Value at step 0 when `warmup > 0`. Default 0. */
  warmupFrom?: number;
}

/**
 * Exponential decay (or growth).
 *
 * Formula, with W = `warmup`, e = (t − W)/`every` (floored when `staircase`):
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - t ≥ W: `peak·gamma^e`.
 * With gamma < 1 the value tends to 0 (it is 0 at 1e9 for any practical gamma); with
 * gamma > 1 it grows without bound (Infinity once it overflows).
 *
 * Defaults: `every = 1`, `staircase = false`, `warmup = 0`, `warmupFrom = 0`.
 *
 * Follows optax `exponential_decay(init_value = peak, transition_steps = every, decay_rate =
 * gamma, transition_begin = W, staircase)` (no `end_value` clipping) and, with `every = 1`,
 * PyTorch `ExponentialLR`.
 *
 * @example
 * ```ts
 * const lr = exponentialDecay({ peak: 1, gamma: 0.5, every: 2, staircase: true });
 * [0, 1, 2, 3, 4].map((t) => lr(t));
 * // → [1, 1, 0.5, 0.5, 0.25]
 * ```
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const o = readOptions('options', options, ['peak', 'gamma', 'every', 'staircase', 'warmup', 'warmupFrom']);
  const peak = required(o, 'peak', nonNegative);
  const gamma = required(o, 'gamma', positive);
  const every = optional(o, 'every', 1, positiveInteger);
  const staircase = optional(o, 'staircase', false, boolean);
  const { warmup: W, warmupFrom: from } = readWarmup(o);
  const rise = peak - from;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t < W) return from + rise * (t / W);
    if (gamma === 1) return peak; // 1^Infinity is NaN in IEEE arithmetic
    let e = (t - W) / every;
    if (staircase) e = Math.floor(e);
    return peak * Math.pow(gamma, e);
  };
}

