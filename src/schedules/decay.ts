/**
 * Warm-up + decay schedules over a fixed budget T (`steps`): constant, linear, cosine, REX,
 * polynomial, warmup-stable-decay and the re-warming schedule of continual pre-training.
 */
import {
  inInterval,
  integer,
  nonNegative,
  oneOf,
  optional,
  positive,
  positiveInteger,
  readOptions,
  required,
} from '../validate.js';
import { WARMUP_DECAY_KEYS, type WarmupDecayOptions, readWarmupDecay } from './shared-options.js';
import type { Schedule } from './types.js';

export type { WarmupDecayOptions } from './shared-options.js';

/**
 * The engine of the warm-up + decay family. `profile(z)` falls from 1 at z = 0 to 0 at z = 1.
 *
 * note: the decay is evaluated as `peak − (peak − end)·(1 − profile(z))`, algebraically the
 * documented `end + (peak − end)·profile(z)`, so that step W returns `peak` bit for bit and the
 * result stays monotone in z under rounding; step T and later return `end` directly.
 * @internal
 */
export function warmupDecay(
  peak: number,
  steps: number,
  end: number,
  warmup: number,
  warmupFrom: number,
  profile: (z: number) => number,
): Schedule {
  const W = warmup;
  const T = steps;
  const span = T - W;
  const rise = peak - warmupFrom;
  const drop = peak - end;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t < W) return warmupFrom + rise * (t / W);
    if (t >= T) return end;
    return peak - drop * (1 - profile((t - W) / span));
  };
}

const linearProfile = (z: number): number => 1 - z;
const cosineProfile = (z: number): number => 0.5 * (1 + Math.cos(Math.PI * z));

/**
 * A constant schedule.
 *
 * Formula: `value` at every step (a `NaN` step gives `NaN`, as for every schedule here).
 *
 * Follows optax `constant_schedule`.
 *
 * @param value - the value, finite and >= 0.
 * @throws TypeError / RangeError naming `value`.
 * @example
 * ```ts
 * const lr = constant(0.001);
 * [0, 10, 1e9].map((t) => lr(t));
 * // → [0.001, 0.001, 0.001]
 * ```
 */
export function constant(value: number): Schedule {
  const v = nonNegative('value', value);
  return (t: number): number => (t === t ? v : NaN);
}

/**
 * Linear interpolation from `from` to `to` over `steps` steps, then `to`.
 *
 * Formula: `from + (to − from)·min(t, steps)/steps`; `steps = 0` gives `to` everywhere.
 *
 * Follows optax `linear_schedule(init_value, end_value, transition_steps)`. It is the building
 * block of {@link warmup} (`warmup(s, { steps: W, from })` equals
 * `join([linear({ from, to: s(0), steps: W }), s], [W])`).
 *
 * @param options.from - value at step 0, finite, >= 0. Required.
 * @param options.to - value from step `steps` on, finite, >= 0. Required.
 * @param options.steps - transition length, an integer >= 0. Required.
 * @example
 * ```ts
 * const ramp = linear({ from: 0, to: 1, steps: 4 });
 * [0, 1, 2, 4, 100].map((t) => ramp(t));
 * // → [0, 0.25, 0.5, 1, 1]
 * ```
 */
export function linear(options: { from: number; to: number; steps: number }): Schedule {
  const o = readOptions('options', options, ['from', 'to', 'steps']);
  const from = required(o, 'from', nonNegative);
  const to = required(o, 'to', nonNegative);
  const steps = required(o, 'steps', (n, v) => integer(n, v, 0));
  const delta = to - from;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    return t >= steps ? to : from + delta * (t / steps);
  };
}

/**
 * Linear decay to `end` over the budget, after an optional linear warm-up.
 *
 * Formula, with W = `warmup`, T = `steps`, z = (t − W)/(T − W):
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - W ≤ t < T: `end + (peak − end)·(1 − z)`;
 * - t ≥ T: `end`.
 *
 * Defaults: `end = 0`, `warmup = 0`, `warmupFrom = 0`.
 *
 * Paper 1 (Defazio et al. 2023, "When, Why and How Much?", arXiv 2310.07831): linear decay is
 * the worst-case optimal schedule for the last iterate and their recommended default. Same
 * values as HF `get_linear_schedule_with_warmup` (with `end = 0`) and
 * `get_polynomial_decay_schedule_with_warmup` with `power = 1`.
 *
 * @example
 * ```ts
 * const lr = linearDecay({ peak: 1, steps: 10, warmup: 2 });
 * [0, 1, 2, 6, 9, 10, 1e9].map((t) => lr(t));
 * // → [0, 0.5, 1, 0.5, 0.125, 0, 0]
 * ```
 */
export function linearDecay(options: WarmupDecayOptions): Schedule {
  const o = readOptions('options', options, WARMUP_DECAY_KEYS);
  const p = readWarmupDecay(o);
  return warmupDecay(p.peak, p.steps, p.end, p.warmup, p.warmupFrom, linearProfile);
}

/**
 * Cosine decay ("half-cosine annealing") to `end`, after an optional linear warm-up.
 *
 * Formula, with W = `warmup`, T = `steps`, z = (t − W)/(T − W):
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - W ≤ t < T: `end + (peak − end)·½(1 + cos πz)`;
 * - t ≥ T: `end`.
 *
 * Defaults: `end = 0`, `warmup = 0`, `warmupFrom = 0`.
 *
 * Follows SGDR (Loshchilov & Hutter 2016) without restarts; equal to optax
 * `warmup_cosine_decay_schedule(warmupFrom, peak, W, T, end)`, to PyTorch `CosineAnnealingLR`
 * (T_max = T − W, eta_min = end) for t ≤ T, and to HF `get_cosine_schedule_with_warmup`
 * (`num_cycles = 0.5`, `end = 0`). Unlike PyTorch's, the value stays at `end` after T.
 *
 * @example
 * ```ts
 * const lr = cosineDecay({ peak: 1, steps: 10, warmup: 2, end: 0.1 });
 * [0, 2, 4, 6, 8, 10].map((t) => lr(t));
 * // → [0, 1, 0.8681980515339464, 0.55, 0.23180194846605362, 0.1]
 * ```
 */
export function cosineDecay(options: WarmupDecayOptions): Schedule {
  const o = readOptions('options', options, WARMUP_DECAY_KEYS);
  const p = readWarmupDecay(o);
  return warmupDecay(p.peak, p.steps, p.end, p.warmup, p.warmupFrom, cosineProfile);
}

/** Options of {@link rex}. */
export interface RexOptions extends WarmupDecayOptions {
  /** Shape β in [0, 1]: 0 is linear decay, 0.5 the paper's REX, towards 1 it holds longer. Default 0.5. */
  beta?: number;
}

/**
 * REX ("reflected exponential") decay to `end`, after an optional linear warm-up.
 *
 * Formula, with W = `warmup`, T = `steps`, z = (t − W)/(T − W), β = `beta`:
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - W ≤ t < T: `end + (peak − end)·(1 − z)/((1 − β) + β(1 − z))`;
 * - t ≥ T: `end`.
 *
 * Defaults: `beta = 0.5` (the paper's profile (1 − z)/(½ + ½(1 − z))), `end = 0`,
 * `warmup = 0`, `warmupFrom = 0`. β = 0 is exactly linear decay.
 *
 * Paper 3 (Chen, Wolfe, Kyrillidis 2021, "REX: Revisiting Budgeted Training with an Improved
 * Schedule", arXiv 2107.04197). The paper also varies the sampling rate (how often the value
 * is re-read): combine with {@link sampled}, e.g. `sampled(rex(...), stepsPerEpoch)`.
 *
 * @example
 * ```ts
 * const lr = rex({ peak: 1, steps: 4 });
 * [0, 1, 2, 3, 4].map((t) => lr(t));
 * // → [1, 0.8571428571428571, 0.6666666666666666, 0.4, 0]
 * ```
 */
export function rex(options: RexOptions): Schedule {
  const o = readOptions('options', options, [...WARMUP_DECAY_KEYS, 'beta']);
  const p = readWarmupDecay(o);
  const beta = optional(o, 'beta', 0.5, (n, v) => inInterval(n, v, 0, 1));
  const a = 1 - beta;
  const profile = (z: number): number => {
    const r = 1 - z;
    return r / (a + beta * r);
  };
  return warmupDecay(p.peak, p.steps, p.end, p.warmup, p.warmupFrom, profile);
}

/** Options of {@link polynomialDecay}. */
export interface PolynomialDecayOptions extends WarmupDecayOptions {
  /** Exponent, finite and > 0. Default 1 (linear decay). */
  power?: number;
}

/**
 * Polynomial decay to `end`, after an optional linear warm-up.
 *
 * Formula, with W = `warmup`, T = `steps`, z = (t − W)/(T − W), p = `power`:
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - W ≤ t < T: `end + (peak − end)·(1 − z)^p`;
 * - t ≥ T: `end`.
 *
 * Defaults: `power = 1` (as PyTorch `PolynomialLR` and HF), `end = 0`, `warmup = 0`,
 * `warmupFrom = 0`.
 *
 * Follows HF `get_polynomial_decay_schedule_with_warmup(num_warmup_steps = W,
 * num_training_steps = T, lr_end = end, power)`, optax `polynomial_schedule` and PyTorch
 * `PolynomialLR` (closed form, total_iters = T, end = 0).
 *
 * @example
 * ```ts
 * const lr = polynomialDecay({ peak: 1, steps: 4, power: 2 });
 * [0, 1, 2, 3, 4].map((t) => lr(t));
 * // → [1, 0.5625, 0.25, 0.0625, 0]
 * ```
 */
export function polynomialDecay(options: PolynomialDecayOptions): Schedule {
  const o = readOptions('options', options, [...WARMUP_DECAY_KEYS, 'power']);
  const p = readWarmupDecay(o);
  const power = optional(o, 'power', 1, positive);
  const profile = (z: number): number => Math.pow(1 - z, power);
  return warmupDecay(p.peak, p.steps, p.end, p.warmup, p.warmupFrom, profile);
}

/** Options of {@link warmupStableDecay}. */
export interface WarmupStableDecayOptions {
  /** Value of the stable phase. Finite, >= 0. Required. */
  peak: number;
  /** Total length T = warm-up + stable + decay. Integer >= 1. Required. */
  steps: number;
  /** Warm-up length W, an integer in [0, steps]. Default 0. */
  warmup?: number;
  /** Decay length D, an integer in [0, steps − warmup]. Required. */
  decaySteps: number;
  /** Shape of the decay: `'linear'` (default), `'cosine'` or `'1-sqrt'`. */
  decay?: 'linear' | 'cosine' | '1-sqrt';
  /** Value from step T on (HF `min_lr_ratio · peak`). Finite, >= 0. Default 0. */
  end?: number;
  /** Value at step 0 of the warm-up. Default `end`, as in HF (warm-up from `min_lr_ratio`). */
  warmupFrom?: number;
}

/**
 * Warmup-stable-decay ("trapezoidal") schedule: linear warm-up, a constant stable phase, then
 * a decay of `decaySteps` steps ending at T.
 *
 * Formula, with W = `warmup`, D = `decaySteps`, T = `steps`, p = (t − (T − D))/D:
 * - t < W: `warmupFrom + (peak − warmupFrom)·t/W`;
 * - W ≤ t < T − D: `peak`;
 * - T − D ≤ t < T: `end + (peak − end)·f(p)` with f(p) = `1 − p` (`'linear'`),
 *   `½(1 + cos πp)` (`'cosine'`) or `1 − √p` (`'1-sqrt'`);
 * - t ≥ T: `end`.
 *
 * Defaults: `warmup = 0`, `decay = 'linear'`, `end = 0`, `warmupFrom = end`.
 *
 * Follows HF `get_wsd_schedule(num_warmup_steps = W, num_decay_steps = D,
 * num_training_steps = T, warmup_type = 'linear', decay_type, min_lr_ratio = end/peak,
 * num_cycles = 0.5)`: like HF, the warm-up starts from `min_lr_ratio·peak` = `end` unless
 * `warmupFrom` says otherwise. (HF's default `decay_type` is `'cosine'`; ours is `'linear'`.)
 * WSD is from MiniCPM (Hu et al. 2024, arXiv 2404.06395); the 1-sqrt cooldown from Hägele
 * et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations".
 *
 * @example
 * ```ts
 * const lr = warmupStableDecay({ peak: 1, steps: 10, warmup: 2, decaySteps: 4, decay: '1-sqrt' });
 * [0, 1, 2, 5, 6, 7, 9, 10].map((t) => lr(t));
 * // → [0, 0.5, 1, 1, 1, 0.5, 0.1339745962155614, 0]
 * ```
 */
export function warmupStableDecay(options: WarmupStableDecayOptions): Schedule {
  const o = readOptions('options', options, [
    'peak',
    'steps',
    'warmup',
    'decaySteps',
    'decay',
    'end',
    'warmupFrom',
  ]);
  const peak = required(o, 'peak', nonNegative);
  const T = required(o, 'steps', positiveInteger);
  const W = optional(o, 'warmup', 0, (n, v) => integer(n, v, 0, T));
  const D = required(o, 'decaySteps', (n, v) => integer(n, v, 0, T - W));
  const decay = optional(o, 'decay', 'linear', (n, v) => oneOf(n, v, ['linear', 'cosine', '1-sqrt'] as const));
  const end = optional(o, 'end', 0, nonNegative);
  const from = optional(o, 'warmupFrom', end, nonNegative);
  const rise = peak - from;
  const drop = peak - end;
  const stableEnd = T - D;
  const shape = decay === 'linear' ? 0 : decay === 'cosine' ? 1 : 2;
  return (t: number): number => {
    if (!(t >= 0)) {
      if (t !== t) return NaN;
      t = 0;
    }
    if (t < W) return from + rise * (t / W);
    if (t < stableEnd) return peak;
    if (t >= T) return end;
    const p = (t - stableEnd) / D;
    // fraction of the drop already taken: 1 − f(p)
    const g = shape === 0 ? p : shape === 1 ? 0.5 * (1 - Math.cos(Math.PI * p)) : Math.sqrt(p);
    return peak - drop * g;
  };
}

/** Options of {@link rewarm}. */
export interface RewarmOptions {
  /** MaxLR, reached at the end of the warm-up. Finite, >= 0. Required. */
  peak: number;
  /** Total number of steps of the continued pre-training. Integer >= 1. Required. */
  steps: number;
  /** Warm-up length, an integer in [0, steps]. Default `Math.round(0.01·steps)` (1%). */
  warmup?: number;
  /** MinLR, reached at `decayEnd` and kept after. Finite, >= 0. Default `0.1·peak`. */
  end?: number;
  /** Step where the cosine reaches `end`, an integer in [warmup, steps]. Default `max(warmup, Math.round(0.81·steps))`. */
  decayEnd?: number;
}

/**
 * Re-warming schedule for continual pre-training: linear warm-up from 0 to `peak`, cosine
 * decay to `end` reached at `decayEnd`, constant `end` afterwards.
 *
 * Formula, with W = `warmup`, E = `decayEnd`, z = (t − W)/(E − W):
 * - t < W: `peak·t/W`;
 * - W ≤ t < E: `end + (peak − end)·½(1 + cos πz)`;
 * - t ≥ E: `end`.
 * Equal to `cosineDecay({ peak, steps: decayEnd, warmup, end })`.
 *
 * Defaults, from the paper: `warmup = round(1% of steps)`, `end = 0.1·peak`,
 * `decayEnd = round(0.81·steps)` (240B of 297B tokens).
 *
 * Paper 2 (Gupta et al. 2023, "Continual Pre-Training of Large Language Models: How to
 * (re)warm your model?", arXiv 2308.04014).
 *
 * @example
 * ```ts
 * const lr = rewarm({ peak: 3e-4, steps: 1000 });
 * [0, 5, 10, 410, 810, 1000].map((t) => lr(t));
 * // → [0, 0.00015, 0.0003, 0.000165, 0.000029999999999999997, 0.000029999999999999997]
 * ```
 */
export function rewarm(options: RewarmOptions): Schedule {
  const o = readOptions('options', options, ['peak', 'steps', 'warmup', 'end', 'decayEnd']);
  const peak = required(o, 'peak', nonNegative);
  const steps = required(o, 'steps', positiveInteger);
  const W = optional(o, 'warmup', Math.round(0.01 * steps), (n, v) => integer(n, v, 0, steps));
  const end = optional(o, 'end', 0.1 * peak, nonNegative);
  const E = optional(o, 'decayEnd', Math.max(W, Math.round(0.81 * steps)), (n, v) => integer(n, v, W, steps));
  return warmupDecay(peak, E, end, W, 0, cosineProfile);
}
