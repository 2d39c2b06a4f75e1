/**
 * The one stateful schedule: reduce the value when a monitored metric stops improving.
 */
import {
  inInterval,
  nonNegative,
  nonNegativeInteger,
  oneOf,
  optional,
  readOptions,
  required,
  typeError,
} from '../validate.js';
import type { Schedule } from './types.js';

/** Options of {@link ReduceOnPlateau}. */
export interface ReduceOnPlateauOptions {
  /** Starting value (PyTorch: the optimizer's lr). Finite, >= 0. Required. */
  peak: number;
  /** `'min'` (default): reduce when the metric stops decreasing; `'max'`: when it stops increasing. */
  mode?: 'min' | 'max';
  /** new value = value·factor, in (0, 1). Default 0.1. */
  factor?: number;
  /** Number of non-improving observations tolerated before reducing. Integer >= 0. Default 10. */
  patience?: number;
  /** Minimal improvement that counts, finite and >= 0. Default 1e-4. */
  threshold?: number;
  /** `'rel'` (default): better than best·(1 ∓ threshold); `'abs'`: better than best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Observations to wait after a reduction before counting bad ones again. Integer >= 0. Default 0. */
  cooldown?: number;
  /** Lower bound of the value. Finite, >= 0. Default 0. */
  minLr?: number;
  /** A reduction smaller than `eps` is skipped. Finite, >= 0. Default 1e-8. */
  eps?: number;
}

/**
 * Reduces the value by `factor` when a metric has stopped improving for more than `patience`
 * observations, with PyTorch `ReduceLROnPlateau` semantics.
 *
 * On `observe(metric)`:
 * 1. "better" is `metric < best·(1 − threshold)` (min, rel), `metric < best − threshold`
 *    (min, abs), `metric > best·(1 + threshold)` (max, rel) or `metric > best + threshold`
 *    (max, abs); `best` starts at +∞ (min) or −∞ (max). Better: `best = metric`, bad count 0;
 *    otherwise the bad count grows by one (a `NaN` metric is never better).
 * 2. In cooldown (counter > 0): the counter drops by one and the bad count is reset to 0.
 * 3. If the bad count exceeds `patience`: `value = max(value·factor, minLr)` unless that
 *    changes it by no more than `eps`; the cooldown counter is set to `cooldown` and the bad
 *    count to 0.
 *
 * Defaults: `mode = 'min'`, `factor = 0.1`, `patience = 10`, `threshold = 1e-4`,
 * `thresholdMode = 'rel'`, `cooldown = 0`, `minLr = 0`, `eps = 1e-8` (PyTorch's).
 *
 * The value does not depend on the step: pass `plateau.schedule` where a {@link Schedule} is
 * expected (it reads the current value), and call `observe` after each evaluation.
 *
 * PyTorch `torch.optim.lr_scheduler.ReduceLROnPlateau`.
 *
 * @example
 * ```ts
 * const plateau = new ReduceOnPlateau({ peak: 1, patience: 1, factor: 0.5 });
 * [3, 2, 2, 2, 2, 2].map((loss) => plateau.observe(loss));
 * // → [1, 1, 1, 0.5, 0.5, 0.25]
 * ```
 */
export class ReduceOnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  /** A schedule that returns the current value whatever the step (`NaN` for a `NaN` step). */
  readonly schedule: Schedule;

  #value: number;
  #best: number;
  #badEpochs = 0;
  #cooldownCounter = 0;
  #lastEpoch = 0;

  constructor(options: ReduceOnPlateauOptions) {
    const o = readOptions('options', options, [
      'peak',
      'mode',
      'factor',
      'patience',
      'threshold',
      'thresholdMode',
      'cooldown',
      'minLr',
      'eps',
    ]);
    this.#value = required(o, 'peak', nonNegative);
    this.mode = optional(o, 'mode', 'min', (n, v) => oneOf(n, v, ['min', 'max'] as const));
    this.factor = optional(o, 'factor', 0.1, (n, v) => inInterval(n, v, 0, 1, { loOpen: true, hiOpen: true }));
    this.patience = optional(o, 'patience', 10, nonNegativeInteger);
    this.threshold = optional(o, 'threshold', 1e-4, nonNegative);
    this.thresholdMode = optional(o, 'thresholdMode', 'rel', (n, v) => oneOf(n, v, ['rel', 'abs'] as const));
    this.cooldown = optional(o, 'cooldown', 0, nonNegativeInteger);
    this.minLr = optional(o, 'minLr', 0, nonNegative);
    this.eps = optional(o, 'eps', 1e-8, nonNegative);
    this.#best = this.mode === 'min' ? Infinity : -Infinity;
    this.schedule = (t: number): number => (t === t ? this.#value : NaN);
  }

  /** The current value. */
  get value(): number {
    return this.#value;
  }

  /** The best metric seen so far (±Infinity before the first observation). */
  get best(): number {
    return this.#best;
  }

  /** Consecutive non-improving observations counted so far (PyTorch `num_bad_epochs`). */
  get numBadEpochs(): number {
    return this.#badEpochs;
  }

  /** Observations left in the current cooldown (PyTorch `cooldown_counter`). */
  get cooldownCounter(): number {
    return this.#cooldownCounter;
  }

  /** Whether a cooldown is running. */
  get inCooldown(): boolean {
    return this.#cooldownCounter > 0;
  }

  /** Number of observations so far (PyTorch `last_epoch`). */
  get lastEpoch(): number {
    return this.#lastEpoch;
  }

  /**
   * Records one evaluation of the monitored metric and returns the value to use from now on.
   * @param metric - a number (`NaN` and ±Infinity are accepted; `NaN` is never an improvement).
   * @throws TypeError when `metric` is not a number.
   */
  observe(metric: number): number {
    if (typeof metric !== 'number') throw typeError('metric', 'a number', metric);
    this.#lastEpoch++;
    if (this.#isBetter(metric)) {
      this.#best = metric;
      this.#badEpochs = 0;
    } else {
      this.#badEpochs++;
    }
    if (this.#cooldownCounter > 0) {
      this.#cooldownCounter--;
      this.#badEpochs = 0;
    }
    if (this.#badEpochs > this.patience) {
      const old = this.#value;
      const next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.#value = next;
      this.#cooldownCounter = this.cooldown;
      this.#badEpochs = 0;
    }
    return this.#value;
  }

  #isBetter(a: number): boolean {
    const best = this.#best;
    if (this.mode === 'min') {
      return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    }
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }
}
