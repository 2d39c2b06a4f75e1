/**
 * The option groups several schedule factories share (warm-up + decay, warm-up alone), read
 * with the checkers of `src/validate.ts`.
 * @internal
 */
import { integer, nonNegative, nonNegativeInteger, optional, positiveInteger, required, type OptionValues } from '../validate.js';

/** Options shared by the warm-up + decay family (`linearDecay`, `cosineDecay`, `rex`, ...). */
export interface WarmupDecayOptions {
  /** Value at the end of the warm-up (step `warmup`). Finite, >= 0. Required. */
  peak: number;
  /** Total length T, warm-up included: the value reaches `end` at step T. Integer >= 1. Required. */
  steps: number;
  /** Value from step T on. Finite, >= 0. Default 0. */
  end?: number;
  /** Warm-up length W, an integer in [0, steps]. Default 0 (no warm-up). */
  warmup?: number;
  /** Value at step 0 when `warmup > 0`. Finite, >= 0. Default 0. */
  warmupFrom?: number;
}

export const WARMUP_DECAY_KEYS = ['peak', 'steps', 'end', 'warmup', 'warmupFrom'] as const;

export interface WarmupDecayParams {
  peak: number;
  steps: number;
  end: number;
  warmup: number;
  warmupFrom: number;
}

/** Validates the shared warm-up + decay options (in this order: peak, steps, end, warmup, warmupFrom). */
export function readWarmupDecay(o: OptionValues): WarmupDecayParams {
  const peak = required(o, 'peak', nonNegative);
  const steps = required(o, 'steps', positiveInteger);
  const end = optional(o, 'end', 0, nonNegative);
  const warmup = optional(o, 'warmup', 0, (n, v) => integer(n, v, 0, steps));
  const warmupFrom = optional(o, 'warmupFrom', 0, nonNegative);
  return { peak, steps, end, warmup, warmupFrom };
}

/** Validates an optional warm-up (`warmup`, `warmupFrom`) for schedules without a total length. */
export function readWarmup(o: OptionValues): { warmup: number; warmupFrom: number } {
  const warmup = optional(o, 'warmup', 0, nonNegativeInteger);
  const warmupFrom = optional(o, 'warmupFrom', 0, nonNegative);
  return { warmup, warmupFrom };
}
