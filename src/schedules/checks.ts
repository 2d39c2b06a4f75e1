/**
 * Validation helpers local to the schedule library, built on the shared `src/validate.ts`
 * (same message shape: "Expected <what> for <name> but received <value>").
 * @internal
 */
import {
  finite,
  integer,
  nonNegative,
  options,
  rangeError,
  typeError,
} from '../validate.js';
import type { Schedule } from './types.js';

/**
 * Reads an options object and rejects keys the factory does not know (a `TypeError`, as the
 * TypeScript compiler would report an excess property): `warmupSteps` or `warm_up` instead of
 * `warmup` would otherwise be silently ignored.
 */
export function readOptions(
  name: string,
  value: unknown,
  known: readonly string[],
): Record<string, unknown> {
  const o = options<Record<string, unknown>>(name, value) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw typeError(`${name}.${key}`, `a known option (${known.join(', ')})`, o[key]);
    }
  }
  return o;
}

/** `o[key]` checked by `check`, or a `TypeError` naming `options.<key>` when it is missing. */
export function required<T>(
  o: Record<string, unknown>,
  key: string,
  check: (name: string, value: unknown) => T,
  prefix = 'options',
): T {
  return check(`${prefix}.${key}`, o[key]);
}

/** `o[key]` checked by `check`, or `fallback` when it is `undefined`. */
export function optional<T>(
  o: Record<string, unknown>,
  key: string,
  fallback: T,
  check: (name: string, value: unknown) => T,
  prefix = 'options',
): T {
  const v = o[key];
  return v === undefined ? fallback : check(`${prefix}.${key}`, v);
}

/** A positive safe integer (>= 1). */
export function positiveInteger(name: string, value: unknown): number {
  return integer(name, value, 1);
}

/** A safe integer >= 0. */
export function nonNegativeInteger(name: string, value: unknown): number {
  return integer(name, value, 0);
}

/** A schedule argument: any function taking a step. */
export function scheduleArg(name: string, value: unknown): Schedule {
  if (typeof value !== 'function') throw typeError(name, 'a schedule (a function of the step)', value);
  return value as Schedule;
}

/**
 * Calls `schedule(step)` once, at construction, and checks that it returns a finite number.
 * `what` names the call in the message, e.g. `schedule(0)`.
 */
export function evalFinite(what: string, schedule: Schedule, step: number): number {
  const v = schedule(step) as unknown;
  if (typeof v !== 'number') throw typeError(what, 'a finite number', v);
  if (!Number.isFinite(v)) throw rangeError(what, 'a finite number', v);
  return v;
}

/** An array (or array-like of numbers) of schedules. */
export function scheduleArray(name: string, value: unknown): Schedule[] {
  if (!Array.isArray(value)) throw typeError(name, 'an array of schedules', value);
  if (value.length === 0) throw rangeError(name, 'a non-empty array of schedules', value);
  return value.map((s, i) => scheduleArg(`${name}[${i}]`, s));
}

/** Reads an array of numbers and checks every element with `check` (names `name[i]`). */
export function numberList(
  name: string,
  value: unknown,
  check: (name: string, value: unknown) => number,
): number[] {
  let list: ArrayLike<unknown>;
  if (Array.isArray(value)) list = value;
  else if (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  ) {
    list = value as unknown as ArrayLike<number>;
  } else {
    throw typeError(name, 'an array of numbers', value);
  }
  const out: number[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = check(`${name}[${i}]`, list[i]);
  return out;
}

/** The learning-rate-like values: finite and >= 0. */
export const rate = nonNegative;
export { boolean as bool } from '../validate.js';
export { finite, integer, nonNegative, rangeError, typeError };

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
export function readWarmupDecay(o: Record<string, unknown>): WarmupDecayParams {
  const peak = required(o, 'peak', rate);
  const steps = required(o, 'steps', positiveInteger);
  const end = optional(o, 'end', 0, rate);
  const warmup = optional(o, 'warmup', 0, (n, v) => integer(n, v, 0, steps));
  const warmupFrom = optional(o, 'warmupFrom', 0, rate);
  return { peak, steps, end, warmup, warmupFrom };
}

/** Validates an optional warm-up (`warmup`, `warmupFrom`) for schedules without a total length. */
export function readWarmup(o: Record<string, unknown>): { warmup: number; warmupFrom: number } {
  const warmup = optional(o, 'warmup', 0, nonNegativeInteger);
  const warmupFrom = optional(o, 'warmupFrom', 0, rate);
  return { warmup, warmupFrom };
}
