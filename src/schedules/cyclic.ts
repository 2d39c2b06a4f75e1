/**
 * Schedules that follow a named library implementation: PyTorch `OneCycleLR` and
 * `CosineAnnealingWarmRestarts`, HF `get_inverse_sqrt_schedule`.
 */
import {
  boolean,
  inInterval,
  nonNegative,
  nonNegativeInteger,
  oneOf,
  optional,
  positive,
  positiveInteger,
  rangeError,
  readOptions,
  required,
} from '../validate.js';
import type { Schedule } from './types.js';

/** Options of {@link oneCycle}. */
export interface OneCycleOptions {
  /** `max_lr`: the top of the cycle. Finite, >= 0. Required. */
  peak: number;
  /** `total_steps`: number of optimizer steps in the cycle. Integer >= 1. Required. */
  steps: number;
  /** Fraction of the cycle spent rising, in [0, 1] (in [0, 0.5] with `threePhase`). Default 0.3. */
  pctStart?: number;
  /** initial value = peak / divFactor. Finite, > 0. Default 25. */
  divFactor?: number;
  /** final value = initial / finalDivFactor. Finite, > 0. Default 1e4. */
  finalDivFactor?: number;
  /** Annealing shape: `'cos'` (default) or `'linear'`. */
  anneal?: 'cos' | 'linear';
  /** Three phases (up, back down to initial, then to the final value) instead of two. Default false. */
  threePhase?: boolean;
}

/**
 * The 1cycle policy, value for value PyTorch `OneCycleLR`.
 *
 * With T = `steps`, p = `pctStart`, initial = peak/divFactor, final = initial/finalDivFactor,
 * phases end at e₁ = p·T − 1, e₂ = T − 1 (two phases) or e₁ = p·T − 1, e₂ = 2p·T − 2,
 * e₃ = T − 1 (three phases); the phases go initial → peak → final (two) or
 * initial → peak → initial → final (three). At step t the first phase i with t ≤ eᵢ (or the
 * last one) is used, with s = the previous end (0 for the first phase), pct = (t − s)/(eᵢ − s):
 * - `'cos'`: `end + (start − end)/2·(cos(π·pct) + 1)`;
 * - `'linear'`: `(end − start)·pct + start`.
 *
 * Our value at step t is the learning rate PyTorch uses for the (t + 1)-th optimizer step
 * (its `get_last_lr()` after t calls of `scheduler.step()`), for t in [0, T − 1].
 * Differences, where PyTorch raises or overshoots: for t > T − 1 the value holds the value at
 * T − 1 (PyTorch raises past T and extrapolates at T); a zero-length phase (p·T = 1) gives its
 * end value (PyTorch divides by zero); `threePhase` with pctStart > 0.5 is a `RangeError`
 * (PyTorch would never reach the final value).
 *
 * Defaults: `pctStart = 0.3`, `divFactor = 25`, `finalDivFactor = 1e4`, `anneal = 'cos'`,
 * `threePhase = false` (PyTorch's). Momentum cycling is not part of this schedule.
 *
 * Smith & Topin 2017, "Super-Convergence" (arXiv 1708.07120); PyTorch
 * `torch.optim.lr_scheduler.OneCycleLR`.
 *
 * @example
 * ```ts
 * const lr = oneCycle({ peak: 1, steps: 10, anneal: 'linear' });
 * [0, 1, 2, 3, 9].map((t) => lr(t));
 * // → [0.04, 0.52, 1, 0.8571434285714286, 0.000004000000000004]
 * ```
 */
export function oneCycle(options: OneCycleOptions): Schedule {
  const o = readOptions('options', options, [
    'peak',
    'steps',
    'pctStart',
    'divFactor',
    'finalDivFactor',
    'anneal',
    'threePhase',
  ]);
  const peak = required(o, 'peak', nonNegative);
  const T = required(o, 'steps', positiveInteger);
  const pctStart = optional(o, 'pctStart', 0.3, (n, v) => inInterval(n, v, 0, 1));
  const divFactor = optional(o, 'divFactor', 25, positive);
  const finalDivFactor = optional(o, 'finalDivFactor', 1e4, positive);
  const anneal = optional(o, 'anneal', 'cos', (n, v) => oneOf(n, v, ['cos', 'linear'] as const));
  const threePhase = optional(o, 'threePhase', false, boolean);
  if (threePhase && pctStart > 0.5) {
    throw rangeError('options.pctStart', 'a number in [0, 0.5] when options.threePhase is true', pctStart);
  }
  const initial = peak / divFactor;
  const final = initial / finalDivFactor;
  const last = T - 1;
  const e1 = pctStart * T - 1;
  const e2 = threePhase ? 2 * pctStart * T - 2 : last;
  const cos = anneal === 'cos';

  // One phase of PyTorch's loop. note: PyTorch computes pct = (t − s)/(e − s) and divides by
  // zero on a zero-length phase; the only such phase we can select is the first one at t = 0
  // (p·T = 1), whose end value we return.
  const phase = (t: number, s: number, e: number, start: number, end: number): number => {
    const pct = e === s ? 1 : (t - s) / (e - s);
    return cos
      ? end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (end - start) * pct + start;
  };

  if (!threePhase) {
    return (t: number): number => {
      if (!(t >= 0)) {
        if (t !== t) return NaN;
        t = 0;
      }
      if (t > last) t = last;
      if (t <= e1) return phase(t, 0, e1, initial, peak);
      return phase(t, e1, last, peak, final);
    };
  }
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t > last) t = last;
    if (t <= e1) return phase(t, 0, e1, initial, peak);
    if (t <= e2) return phase(t, e1, e2, peak, initial);
    return phase(t, e2, last, initial, final);
  };
}

/** Options of {@link cosineRestarts}. */
export interface CosineRestartsOptions {
  /** Value at the start of every cycle (PyTorch's base lr). Finite, >= 0. Required. */
  peak: number;
  /** `T_0`: length of the first cycle in steps. Integer >= 1. Required. */
  period: number;
  /** `T_mult`: each cycle is `mult` times longer than the previous one. Integer >= 1. Default 1. */
  mult?: number;
  /** `eta_min`: the value the cosine approaches at the end of a cycle. Finite, >= 0. Default 0. */
  end?: number;
}

/**
 * Cosine annealing with warm restarts (SGDR), value for value PyTorch
 * `CosineAnnealingWarmRestarts`.
 *
 * Formula, with P = `period`, m = `mult`: cycle n (0-based) starts at
 * Sₙ = P·n (m = 1) or P·(mⁿ − 1)/(m − 1) (m > 1) and lasts Tₙ = P·mⁿ; for Sₙ ≤ t < Sₙ₊₁,
 * T_cur = t − Sₙ and the value is `end + (peak − end)·(1 + cos(π·T_cur/Tₙ))/2`.
 * It restarts at `peak` at every Sₙ and never quite reaches `end`.
 *
 * Defaults: `mult = 1`, `end = 0`.
 *
 * Our value at integer step t equals PyTorch's learning rate after t calls of
 * `scheduler.step()` (the lr of the (t + 1)-th optimizer step); a fractional t equals
 * `scheduler.step(t)` (PyTorch's fractional-epoch form). The cycle index is found exactly:
 * PyTorch's `step(epoch)` uses `int(math.log(epoch/T_0·(T_mult − 1) + 1, T_mult))`, which
 * rounding can put one cycle early at an exact cycle start (T_0 = 1, T_mult = 10, epoch 111:
 * `log(1000, 10)` = 2.9999999999999996, so it returns `eta_min` instead of restarting); we
 * match its step-by-step `step()` recursion there. The value has no limit, so `Infinity`
 * gives `NaN`.
 *
 * Loshchilov & Hutter 2016, "SGDR: Stochastic Gradient Descent with Warm Restarts"
 * (arXiv 1608.03983).
 *
 * @example
 * ```ts
 * const lr = cosineRestarts({ peak: 1, period: 2, mult: 2 });
 * [0, 1, 2, 3, 4, 5, 6].map((t) => lr(t));
 * // → [1, 0.5, 1, 0.8535533905932737, 0.5, 0.14644660940672627, 1]
 * ```
 */
export function cosineRestarts(options: CosineRestartsOptions): Schedule {
  const o = readOptions('options', options, ['peak', 'period', 'mult', 'end']);
  const peak = required(o, 'peak', nonNegative);
  const P = required(o, 'period', positiveInteger);
  const m = optional(o, 'mult', 1, positiveInteger);
  const end = optional(o, 'end', 0, nonNegative);
  const amp = peak - end;
  const logM = Math.log(m);
  const startOf = (n: number): number => (P * (Math.pow(m, n) - 1)) / (m - 1);
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t === Infinity) return NaN;
    let cur: number;
    let len: number;
    if (m === 1) {
      cur = t % P;
      len = P;
    } else {
      let n = Math.floor(Math.log((t / P) * (m - 1) + 1) / logM);
      // exact correction of the rounded logarithm
      while (startOf(n + 1) <= t) n++;
      while (n > 0 && startOf(n) > t) n--;
      cur = t - startOf(n);
      len = P * Math.pow(m, n);
    }
    return end + (amp * (1 + Math.cos((Math.PI * cur) / len))) / 2;
  };
}

/** Options of {@link inverseSqrt}. */
export interface InverseSqrtOptions {
  /** Value at the end of the warm-up. Finite, >= 0. Required. */
  peak: number;
  /** Warm-up length W (integer >= 0). Default 0. */
  warmup?: number;
  /** Time scale τ of the decay, finite and > 0. Default `warmup`, or 10000 when `warmup` is 0. */
  timescale?: number;
  /** Value at step 0 when `warmup > 0`. Default 0. */
  warmupFrom?: number;
}

/**
 * Inverse square-root decay after a linear warm-up, HF `get_inverse_sqrt_schedule` semantics.
 *
 * Formula, with W = `warmup`, τ = `timescale`:
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - t ≥ W: `peak / √((t + τ − W)/τ)` (so `peak` at t = W, `peak/√2` at t = W + τ).
 *
 * Defaults: `warmup = 0`, `timescale = warmup || 10000` (as HF), `warmupFrom = 0`.
 *
 * Follows HF `transformers.get_inverse_sqrt_schedule(num_warmup_steps = W, timescale = τ)`
 * (itself from big_vision); the "Noam" schedule of Vaswani et al. 2017 is the case τ = W.
 *
 * @example
 * ```ts
 * const lr = inverseSqrt({ peak: 1, warmup: 4 });
 * [0, 2, 4, 16, 36].map((t) => lr(t));
 * // → [0, 0.5, 1, 0.5, 0.3333333333333333]
 * ```
 */
export function inverseSqrt(options: InverseSqrtOptions): Schedule {
  const o = readOptions('options', options, ['peak', 'warmup', 'timescale', 'warmupFrom']);
  const peak = required(o, 'peak', nonNegative);
  const W = optional(o, 'warmup', 0, nonNegativeInteger);
  const tau = optional(o, 'timescale', W || 10_000, positive);
  const from = optional(o, 'warmupFrom', 0, nonNegative);
  const rise = peak - from;
  const shift = tau - W;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t < W) return from + rise * (t / W);
    return peak * (1 / Math.sqrt((t + shift) / tau));
  };
}
