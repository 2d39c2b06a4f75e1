/**
 * Argument validation: the one module every factory, optimizer, trace, refinement, the tfjs
 * adapter and the CLI check their arguments with.
 *
 * - One message shape for a bad value: "Expected <what> for <name> but received <value>",
 *   a `TypeError` when the type is wrong, a `RangeError` when the type is right but the value
 *   is out of range.
 * - One way to read an options object: {@link readOptions} checks that it is a plain object,
 *   rejects unknown keys with "Unknown option <name>.<key>; expected one of 'a', 'b'" (a
 *   `TypeError`, as the TypeScript compiler reports an excess property), and reads every key
 *   once into a snapshot, so that a getter is never read twice; {@link required} and
 *   {@link optional} then check one key each.
 * - One checker per kind of value (finite, nonNegative, positive, inInterval, integer,
 *   boolean, oneOf, numberArray, float32Array, schedule, filePath...), each `(name, value)`.
 *
 * C++ re-checks cheaply but trusts what passes here.
 * @module
 */
import type { Schedule } from './schedules/types.js';

/** A short, printable description of any value, used in error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'number':
      return `${Object.is(value, -0) ? '-0' : String(value)} of type number`;
    case 'string': {
      const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
      return `'${s}' of type string`;
    }
    case 'bigint':
      return `${value}n of type bigint`;
    case 'boolean':
      return `${value} of type boolean`;
    case 'function':
      return `function ${(value as { name?: string }).name || '(anonymous)'}`;
    case 'symbol':
      return `${String(value)} of type symbol`;
    default:
      break;
  }
  if (ArrayBuffer.isView(value)) {
    const ctor = (value as object).constructor?.name ?? 'TypedArray';
    const len = (value as { length?: number }).length;
    if (len === undefined) return `${ctor} of ${(value as ArrayBufferView).byteLength} bytes`;
    if ((value as ArrayBufferView).buffer.byteLength === 0 && len === 0) return `${ctor}(0) (possibly detached)`;
    return `${ctor}(${len})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
}

/** Builds (does not throw) the standard error for a wrong type. */
export function typeError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** Builds (does not throw) the standard error for an out-of-range value. */
export function rangeError(name: string, expected: string, value: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** A finite number (not NaN, not ±Infinity). */
export function finite(name: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(name, 'a finite number', value);
  if (!Number.isFinite(value)) throw rangeError(name, 'a finite number', value);
  return value;
}

/** A finite number >= 0 (learning rates, weight decay, eps...). */
export function nonNegative(name: string, value: unknown): number {
  const v = finite(name, value);
  if (v < 0) throw rangeError(name, 'a finite number >= 0', value);
  return v;
}

/** A finite number > 0. */
export function positive(name: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(name, 'a finite number > 0', value);
  if (!Number.isFinite(value) || value <= 0) throw rangeError(name, 'a finite number > 0', value);
  return value;
}

/**
 * A finite number in an interval. `lo`/`hi` bounds; `loOpen`/`hiOpen` exclude them.
 * The message spells the interval in math notation, e.g. "a number in [0, 1)".
 */
export function inInterval(
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  { loOpen = false, hiOpen = false }: { loOpen?: boolean; hiOpen?: boolean } = {},
): number {
  const what = `a number in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
  if (typeof value !== 'number') throw typeError(name, what, value);
  const ok =
    Number.isFinite(value) &&
    (loOpen ? value > lo : value >= lo) &&
    (hiOpen ? value < hi : value <= hi);
  if (!ok) throw rangeError(name, what, value);
  return value;
}

/** A safe integer with optional bounds (inclusive). */
export function integer(name: string, value: unknown, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const what =
    min === -Number.MAX_SAFE_INTEGER
      ? max === Number.MAX_SAFE_INTEGER
        ? 'an integer'
        : `an integer <= ${max}`
      : max === Number.MAX_SAFE_INTEGER
        ? `an integer >= ${min}`
        : `an integer in [${min}, ${max}]`;
  if (typeof value !== 'number') throw typeError(name, what, value);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw rangeError(name, what, value);
  return value;
}

/** A safe integer >= 1. */
export function positiveInteger(name: string, value: unknown): number {
  return integer(name, value, 1);
}

/** A safe integer >= 0. */
export function nonNegativeInteger(name: string, value: unknown): number {
  return integer(name, value, 0);
}

/** `true` or `false`. */
export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
  return value;
}

/** Any function. */
export function func<T extends (...args: never[]) => unknown>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw typeError(name, 'a function', value);
  return value as T;
}

/** One of the given strings. */
export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  const what = `one of ${choices.map((c) => `'${c}'`).join(', ')}`;
  if (typeof value !== 'string') throw typeError(name, what, value);
  if (!(choices as readonly string[]).includes(value)) throw rangeError(name, what, value);
  return value as T;
}

/** A Float32Array whose buffer is attached (a detached one has byteLength 0 and length 0). */
export function float32Array(name: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) throw typeError(name, 'a Float32Array', value);
  return value;
}

/** A Float32Array of exactly `length` elements. */
export function float32ArrayOfLength(name: string, value: unknown, length: number): Float32Array {
  const a = float32Array(name, value);
  if (a.length !== length) {
    throw rangeError(name, `a Float32Array of length ${length}`, value);
  }
  return a;
}

/** An array-like of numbers (Array, Float32Array, Float64Array...). Returns a Float64Array copy. */
export function numberArray(name: string, value: unknown): Float64Array {
  if (Array.isArray(value)) {
    const out = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v !== 'number') throw typeError(`${name}[${i}]`, 'a number', v);
      out[i] = v;
    }
    return out;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && typeof (value as { length?: unknown }).length === 'number') {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
      throw typeError(name, 'an array of numbers', value);
    }
    return Float64Array.from(value as unknown as ArrayLike<number>);
  }
  throw typeError(name, 'an array of numbers', value);
}

/** An array (or a typed array other than BigInt) of numbers, each checked by `check` (names `name[i]`). */
export function numberList(name: string, value: unknown, check: (name: string, value: unknown) => number): number[] {
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

/** A non-empty file path string. */
export function filePath(name: string, value: unknown): string {
  if (typeof value !== 'string') throw typeError(name, 'a file path string', value);
  if (value.length === 0) throw rangeError(name, 'a non-empty file path', value);
  return value;
}

// --- schedules -----------------------------------------------------------------------------------

/** A schedule argument: any function of the step. */
export function schedule(name: string, value: unknown): Schedule {
  if (typeof value !== 'function') throw typeError(name, 'a schedule (a function of the step)', value);
  return value as Schedule;
}

/** A non-empty array of schedules. */
export function scheduleArray(name: string, value: unknown): Schedule[] {
  if (!Array.isArray(value)) throw typeError(name, 'an array of schedules', value);
  if (value.length === 0) throw rangeError(name, 'a non-empty array of schedules', value);
  return value.map((s, i) => schedule(`${name}[${i}]`, s));
}

/**
 * Calls `fn(step)` and checks that it returns a finite number; `what` names the call in the
 * message, e.g. `schedule(0)`.
 */
export function scheduleValue(what: string, fn: Schedule, step: number): number {
  const v = fn(step) as unknown;
  if (typeof v !== 'number') throw typeError(what, 'a finite number', v);
  if (!Number.isFinite(v)) throw rangeError(what, 'a finite number', v);
  return v;
}

// --- options objects -----------------------------------------------------------------------------

/** Where a snapshot from {@link readOptions} keeps its name (a symbol: not an option key). */
const NAME = Symbol('options name');

/** The options object read by {@link readOptions}: a snapshot of the caller's own keys. */
export type OptionValues = Readonly<Record<string, unknown>>;

/**
 * Builds (does not throw) the standard error for an option key that is not known:
 * "Unknown option options.foo; expected one of 'a', 'b'".
 */
export function unknownOption(name: string, key: string, known: readonly string[]): TypeError {
  const list = known.length === 0 ? 'no options' : `one of ${known.map((k) => `'${k}'`).join(', ')}`;
  return new TypeError(`Unknown option ${name}.${key}; expected ${list}`);
}

/** Throws {@link unknownOption} for the first own key of `o` that is not in `known`. */
export function rejectUnknownKeys(o: object, known: readonly string[], name: string): void {
  for (const key of Object.keys(o)) if (!known.includes(key)) throw unknownOption(name, key, known);
}

/**
 * Reads an options object, the one way every API does:
 * - `undefined` gives `{}` (all defaults), unless `required` is set; anything but a plain
 *   object (null, an array, a number...) is a `TypeError` naming `name`;
 * - a key not in `known` is a `TypeError` from {@link unknownOption} (`warmupSteps` instead
 *   of `warmup` would otherwise be silently ignored);
 * - every own key is read exactly once, into a frozen snapshot: a getter cannot return one
 *   value to validation and another to use.
 *
 * Then {@link required} and {@link optional} check one key each, naming it `<name>.<key>`.
 *
 * @example
 * ```ts
 * const o = readOptions('options', { peak: 0.1 }, ['peak', 'steps']);
 * optional(o, 'peak', 1, positive);            // → 0.1
 * optional(o, 'steps', 100, positiveInteger);  // → 100
 * ```
 * and `readOptions('options', { peek: 0.1 }, ['peak', 'steps'])` throws
 * `TypeError: Unknown option options.peek; expected one of 'peak', 'steps'`.
 */
export function readOptions(
  name: string,
  value: unknown,
  known: readonly string[],
  { required: mustExist = false }: { required?: boolean } = {},
): OptionValues {
  if (value === undefined && !mustExist) return Object.freeze({ [NAME]: name }) as OptionValues;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(name, 'an options object', value);
  }
  const snapshot: Record<string | symbol, unknown> = { [NAME]: name };
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw unknownOption(name, key, known);
    snapshot[key] = (value as Record<string, unknown>)[key];
  }
  return Object.freeze(snapshot) as OptionValues;
}

function optionName(o: OptionValues, key: string, prefix?: string): string {
  return `${prefix ?? ((o as Record<symbol, unknown>)[NAME] as string | undefined) ?? 'options'}.${key}`;
}

/** `o[key]` checked by `check`; a missing key goes to `check` as `undefined` (its error names `<name>.<key>`). */
export function required<T>(o: OptionValues, key: string, check: (name: string, value: unknown) => T, prefix?: string): T {
  return check(optionName(o, key, prefix), o[key]);
}

/** `o[key]` checked by `check`, or `fallback` when it is absent or `undefined`. */
export function optional<T>(
  o: OptionValues,
  key: string,
  fallback: T,
  check: (name: string, value: unknown) => T,
  prefix?: string,
): T {
  const v = o[key];
  return v === undefined ? fallback : check(optionName(o, key, prefix), v);
}

/**
 * An options object (plain object, not null, not an array); `undefined` gives `{}`. Reads
 * nothing and accepts any key: prefer {@link readOptions}.
 * @deprecated kept while `optim/options.ts` moves to `readOptions`.
 */
export function options<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(name, 'an options object', value);
  }
  return value as Partial<T>;
}

/**
 * {@link optional} with the prefix given explicitly (default `'options'`).
 * @deprecated kept while `optim/options.ts` moves to `readOptions`; use {@link optional}.
 */
export function opt<T>(
  o: Record<string, unknown>,
  key: string,
  fallback: T,
  check: (name: string, value: unknown) => T,
  prefix = 'options',
): T {
  return optional(o, key, fallback, check, prefix);
}
