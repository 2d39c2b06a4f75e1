/**
 * Argument validation shared by every factory and optimizer.
 *
 * One message shape for everything:
 *   "Expected <what> for <name> but received <value>"
 * `TypeError` when the type is wrong, `RangeError` when the type is right but the value is
 * out of range. C++ re-checks cheaply but trusts what passes here.
 */

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

/** A finite number >= 0 (or > 0 when `strict`). */
export function nonNegative(name: string, value: unknown): number {
  const v = finite(name, value);
  if (v < 0) throw rangeError(name, 'a finite number >= 0', value);
  return v;
}

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

export function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
  return value;
}

export function func<T extends (...args: never[]) => unknown>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw typeError(name, 'a function', value);
  return value as T;
}

export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  const what = `one of ${choices.map((c) => `'${c}'`).join(', ')}`;
  if (typeof value !== 'string') throw typeError(name, what, value);
  if (!(choices as readonly string[]).includes(value)) throw rangeError(name, what, value);
  return value as T;
}

/**
 * An options object (plain object, not null, not an array); `undefined` gives `{}`. Returns a
 * snapshot: a plain object with each own enumerable property read exactly once (like `{...o}`),
 * so that a getter cannot answer one check and then another value to the code that uses it.
 */
export function options<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(name, 'an options object', value);
  }
  const snapshot: Record<string, unknown> = {};
  for (const key of Object.keys(value)) snapshot[key] = (value as Record<string, unknown>)[key];
  return snapshot as Partial<T>;
}

/** The largest finite float32, 3.4028234663852886e38: what the kernels can hold. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A number the float32 kernels can hold: finite once rounded to float32 (|x| <= 3.4028234663852886e38).
 * Hyperparameters are validated as doubles, then rounded to float32 in the kernels, where a
 * larger finite value becomes ±Infinity.
 */
export function float32Finite(name: string, value: number): number {
  if (!Number.isFinite(Math.fround(value))) {
    throw rangeError(name, `a number the float32 kernels can hold (|x| <= ${FLOAT32_MAX})`, value);
  }
  return value;
}

/** True for an ArrayBuffer that was detached (transferred): it has no memory any more. */
export function isDetachedBuffer(buffer: ArrayBufferLike): boolean {
  const d = (buffer as { detached?: unknown }).detached;
  if (typeof d === 'boolean') return d;
  if (buffer.byteLength !== 0 || !(buffer instanceof ArrayBuffer)) return false;
  try {
    new Uint8Array(buffer); // throws on a detached buffer (Node 20: no `detached` getter)
    return false;
  } catch {
    return true;
  }
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

/** Reads `opts[key]`, applying `check` when present, else returning `fallback`. */
export function opt<T>(
  opts: Record<string, unknown>,
  key: string,
  fallback: T,
  check: (name: string, value: unknown) => T,
  prefix = 'options',
): T {
  const v = opts[key];
  if (v === undefined) return fallback;
  return check(`${prefix}.${key}`, v);
}
