/**
 * NormTrace: the per-iteration record of an optimizer run (gradient L2 and L1 norms, whether
 * the step was skipped, the learning rate used), its file formats (JSON with a format
 * version, CSV) and refinement of the next run's schedule from it.
 *
 * The optimizer classes fill it in batches read back from the native ring buffer
 * (`appendBatch`), never with a device→host sync per step. This module itself is pure
 * TypeScript and does not load the addon.
 * @module
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { writeFileAtomic, writeFileAtomicSync } from './fs-atomic.js';
import { BOUND_KEYS } from './refine/bound.js';
import { REFINE_KEYS } from './refine/closed-form.js';
import { refineByBoundDetailed, refineScheduleDetailed, type RefineByBoundOptions, type RefineByBoundResult, type RefineMethod, type RefinementResult } from './refine/index.js';
import { filePath, integer, oneOf, optional, rangeError, readOptions, typeError, type OptionValues } from './validate.js';

import { OPTIMIZER_KINDS, RULES, type OptimizerKind } from './optim/rules/index.js';

export { OPTIMIZER_KINDS, type OptimizerKind };

/** The `format` field of a saved trace. */
export const NORM_TRACE_FORMAT = 'fused-optim/norm-trace';

/** The format version this code writes, and the newest it reads. */
export const NORM_TRACE_VERSION = 1;

/** Options of the {@link NormTrace} constructor. */
export interface NormTraceOptions {
  /** The optimizer the trace records. */
  kind: OptimizerKind;
  /** Initial capacity in steps (grows by doubling); default 1024. */
  capacity?: number;
  /** Initial contents (all four or none of l2/l1; `skipped` defaults to 0s, `lr` to NaN). */
  l2?: ArrayLike<number>;
  l1?: ArrayLike<number>;
  skipped?: ArrayLike<number>;
  lr?: ArrayLike<number>;
}

/** A number as stored in JSON: non-finite values as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`. */
export type JSONNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** The JSON form of a trace (format version 1). */
export interface NormTraceJSON {
  format: typeof NORM_TRACE_FORMAT;
  version: number;
  kind: OptimizerKind;
  length: number;
  l2: JSONNumber[];
  l1: JSONNumber[];
  skipped: (0 | 1)[];
  lr: JSONNumber[];
}

/** How refinement treats skipped steps; see {@link NormTrace.refine}. */
export type SkippedPolicy = 'fill' | 'drop';

/** Options of {@link NormTrace.refine} and {@link NormTrace.refinementNorms}. */
export interface TraceRefineOptions {
  /** Default: `'sgd'` for an SGD trace, `'adam'` for Adam and AdamW. */
  method?: RefineMethod;
  /** Which norms to use; default the method's: `'l2'` for `'sgd'`, `'l1'` for `'adam'`. */
  norm?: 'l2' | 'l1';
  /** Skipped steps: `'fill'` (default) or `'drop'`. */
  skipped?: SkippedPolicy;
  /** Median-filter width as a fraction of the run; default 0.1. */
  tau?: number;
  /** Largest learning rate of the result; default 1. */
  peak?: number;
  /** Median-filter boundary; default `'authors'`. */
  boundary?: 'authors' | 'nearest' | 'reflect' | 'mirror';
}

/** The norms refinement uses, after the skipped-step policy. */
export interface RefinementNorms {
  /** One norm per step (`'fill'`) or per applied step (`'drop'`). */
  norms: Float64Array;
  method: RefineMethod;
  norm: 'l2' | 'l1';
  skipped: SkippedPolicy;
  /** For each entry of `norms`, the trace step it comes from. */
  steps: Int32Array;
  /** How many skipped steps were filled or dropped. */
  skippedCount: number;
}

/**
 * The refinement method that matches an optimizer: `'sgd'` for SGD (L2 norms, weights ĝ⁻²),
 * `'adam'` for Adam and AdamW (L1 norms, weights ĝ⁻¹).
 *
 * @example
 * ```ts
 * refineMethodForKind('adamw'); // → 'adam'
 * ```
 */
export function refineMethodForKind(kind: OptimizerKind): RefineMethod {
  return RULES[oneOf('kind', kind, OPTIMIZER_KINDS)].refineNorm === 'l2' ? 'sgd' : 'adam';
}

const INITIAL_CAPACITY = 1024;

/** The keys of {@link NormTraceOptions}. */
const TRACE_KEYS = ['kind', 'capacity', 'l2', 'l1', 'skipped', 'lr'];

/** The keys {@link TraceRefineOptions} adds to the refinement options. */
const TRACE_REFINE_KEYS = ['norm', 'skipped'];

/**
 * The per-iteration record of an optimizer: L2 norm, L1 norm, skipped flag and learning
 * rate of every step, in growable typed arrays (capacity doubles, so appending is amortised
 * O(1) per step).
 *
 * Norms are those of the unscaled, unclipped gradient (what refinement needs); NaN and
 * +Infinity are recorded as they are (a non-finite step is usually also skipped).
 *
 * Files: {@link NormTrace.save} writes JSON `{ format: 'fused-optim/norm-trace', version: 1,
 * kind, length, l2, l1, skipped, lr }` (non-finite numbers as the strings "NaN",
 * "Infinity", "-Infinity"), atomically: a temporary file in the same directory, fsync,
 * rename. {@link NormTrace.load} checks the format, the version and every length.
 * {@link NormTrace.saveCSV} writes `step,l2,l1,skipped,lr`.
 *
 * @example
 * ```ts
 * const trace = new NormTrace({ kind: 'adamw' });
 * // every k steps, a batch as read back from the device: L2, L1, skipped, lr
 * trace.appendBatch(new Float32Array([1.2, 0.9]), new Float32Array([130, 121]), new Uint8Array([0, 0]), [3e-4, 3e-4]);
 * trace.push(0.8, 120.5, 0, 3e-4); // or one step
 * const file = path.join(dir, 'run1.trace.json');
 * await trace.save(file);
 * const lr = (await NormTrace.load(file)).refine({ peak: 3e-4 }); // uses the L1 norms
 * lr.length;                                                       // → 3
 * lr[0];                                                           // → 3e-4
 * ```
 */
export class NormTrace {
  readonly #kind: OptimizerKind;
  #length = 0;
  #l2: Float64Array;
  #l1: Float64Array;
  #skipped: Uint8Array;
  #lr: Float64Array;

  /**
   * An empty trace for an optimizer of `kind`, or one holding the given arrays.
   * @throws TypeError/RangeError for a bad kind, capacity or array.
   */
  constructor(opts: NormTraceOptions) {
    const o = readOptions('options', opts, TRACE_KEYS, { required: true });
    this.#kind = oneOf('options.kind', o.kind, OPTIMIZER_KINDS);
    const capacity = optional(o, 'capacity', INITIAL_CAPACITY, (n, v) => integer(n, v, 0, 2 ** 31 - 1));
    this.#l2 = new Float64Array(capacity);
    this.#l1 = new Float64Array(capacity);
    this.#skipped = new Uint8Array(capacity);
    this.#lr = new Float64Array(capacity);
    if (o.l2 !== undefined || o.l1 !== undefined || o.skipped !== undefined || o.lr !== undefined) {
      if (o.l2 === undefined) throw typeError('options.l2', 'an array of numbers (with options.l1)', o.l2);
      if (o.l1 === undefined) throw typeError('options.l1', 'an array of numbers (with options.l2)', o.l1);
      const n = arrayLength('options.l2', o.l2);
      const skipped = o.skipped === undefined ? new Uint8Array(n) : o.skipped;
      const lr = o.lr === undefined ? new Float64Array(n).fill(NaN) : o.lr;
      this.#append(o.l2, o.l1, skipped, lr, 'options');
    }
  }

  /**
   * A trace holding copies of the given arrays (`skipped` defaults to all 0, `lr` to NaN,
   * "not recorded").
   *
   * @example
   * ```ts
   * const t = NormTrace.fromArrays({ kind: 'sgd', l2: [3, 2, 1], l1: [30, 20, 10] });
   * t.length; // → 3
   * ```
   */
  static fromArrays(arrays: {
    kind: OptimizerKind;
    l2: ArrayLike<number>;
    l1: ArrayLike<number>;
    skipped?: ArrayLike<number>;
    lr?: ArrayLike<number>;
  }): NormTrace {
    const a = readOptions('arrays', arrays, ['kind', 'l2', 'l1', 'skipped', 'lr'], { required: true });
    const n = arrayLength('arrays.l2', a.l2);
    return new NormTrace({ ...(a as unknown as NormTraceOptions), capacity: n });
  }

  /** The optimizer this trace records. */
  get kind(): OptimizerKind {
    return this.#kind;
  }

  /** Number of steps recorded. */
  get length(): number {
    return this.#length;
  }

  /** Steps the current buffers hold before they grow. */
  get capacity(): number {
    return this.#l2.length;
  }

  /**
   * L2 norms of the recorded steps: a view of the filled part (no copy). A view is only
   * valid until the next append that grows the buffers; copy it (`.slice()`) to keep it.
   */
  get l2(): Float64Array {
    return this.#l2.subarray(0, this.#length);
  }

  /** L1 norms of the recorded steps (a view, as {@link NormTrace.l2}). */
  get l1(): Float64Array {
    return this.#l1.subarray(0, this.#length);
  }

  /** 1 where the step was skipped (non-finite gradient), else 0 (a view, as {@link NormTrace.l2}). */
  get skipped(): Uint8Array {
    return this.#skipped.subarray(0, this.#length);
  }

  /** The learning rate used at each step, NaN where not recorded (a view, as {@link NormTrace.l2}). */
  get lr(): Float64Array {
    return this.#lr.subarray(0, this.#length);
  }

  /**
   * Appends one step.
   * @param l2 - L2 norm (>= 0, NaN or +Infinity).
   * @param l1 - L1 norm (>= 0, NaN or +Infinity).
   * @param skipped - 1 if the step was skipped, else 0.
   * @param lr - learning rate used (finite, or NaN when not known).
   */
  push(l2: number, l1: number, skipped: number, lr: number): void {
    checkNorm('l2', l2);
    checkNorm('l1', l1);
    checkSkipped('skipped', skipped);
    checkLr('lr', lr);
    this.#reserve(this.#length + 1);
    const i = this.#length++;
    this.#l2[i] = l2;
    this.#l1[i] = l1;
    this.#skipped[i] = skipped;
    this.#lr[i] = lr;
  }

  /**
   * Appends a batch of steps, as read back from the device ring buffer. All four arrays
   * must have the same length; each is an Array or a typed array (e.g. the `Float32Array`
   * and `Uint8Array` the native side fills). Amortised O(1) per step: buffers double.
   * Nothing is appended if any value is invalid.
   *
   * @param l2 - L2 norms (>= 0, NaN or +Infinity).
   * @param l1 - L1 norms (>= 0, NaN or +Infinity).
   * @param skipped - 0 or 1 per step.
   * @param lr - learning rates used (finite, or NaN when not known).
   * @throws TypeError for a non-array or non-number; RangeError for mismatched lengths or
   *   out-of-range values (the message names the index).
   */
  appendBatch(l2: ArrayLike<number>, l1: ArrayLike<number>, skipped: ArrayLike<number>, lr: ArrayLike<number>): void {
    this.#append(l2, l1, skipped, lr, '');
  }

  #append(l2: unknown, l1: unknown, skipped: unknown, lr: unknown, prefix: string): void {
    const p = prefix ? `${prefix}.` : '';
    const n = arrayLength(`${p}l2`, l2);
    for (const [name, a] of [
      ['l1', l1],
      ['skipped', skipped],
      ['lr', lr],
    ] as const) {
      const m = arrayLength(`${p}${name}`, a);
      if (m !== n) throw rangeError(`${p}${name}`, `an array of length ${n} (as ${p}l2)`, a);
    }
    const L2 = l2 as ArrayLike<number>;
    const L1 = l1 as ArrayLike<number>;
    const SK = skipped as ArrayLike<number>;
    const LR = lr as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      checkNorm(`${p}l2[${i}]`, L2[i]);
      checkNorm(`${p}l1[${i}]`, L1[i]);
      checkSkipped(`${p}skipped[${i}]`, SK[i]);
      checkLr(`${p}lr[${i}]`, LR[i]);
    }
    this.#reserve(this.#length + n);
    const at = this.#length;
    copyInto(this.#l2, at, L2);
    copyInto(this.#l1, at, L1);
    copyInto(this.#skipped, at, SK);
    copyInto(this.#lr, at, LR);
    this.#length += n;
  }

  #reserve(needed: number): void {
    const cap = this.#l2.length;
    if (needed <= cap) return;
    if (needed > 2 ** 31 - 1) throw rangeError('trace length', 'at most 2^31 - 1 steps', needed);
    const next = Math.min(Math.max(needed, cap * 2, 16), 2 ** 31 - 1);
    const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(next);
      b.set(a.subarray(0, this.#length));
      return b;
    };
    this.#l2 = grow(this.#l2, (k) => new Float64Array(k));
    this.#l1 = grow(this.#l1, (k) => new Float64Array(k));
    this.#skipped = grow(this.#skipped, (k) => new Uint8Array(k));
    this.#lr = grow(this.#lr, (k) => new Float64Array(k));
  }

  /** Forgets every step (keeps the buffers). */
  clear(): void {
    this.#length = 0;
  }

  /**
   * The JSON form (format version {@link NORM_TRACE_VERSION}); `JSON.stringify(trace)` uses it.
   * Non-finite numbers become the strings "NaN", "Infinity", "-Infinity".
   */
  toJSON(): NormTraceJSON {
    return {
      format: NORM_TRACE_FORMAT,
      version: NORM_TRACE_VERSION,
      kind: this.#kind,
      length: this.#length,
      l2: Array.from(this.l2, encodeNumber),
      l1: Array.from(this.l1, encodeNumber),
      skipped: Array.from(this.skipped, (v) => v as 0 | 1),
      lr: Array.from(this.lr, encodeNumber),
    };
  }

  /**
   * A trace from its JSON form (an object, or a JSON string).
   * @throws TypeError/RangeError with a message naming the field, for a wrong format, an
   *   unsupported version, a length that does not match an array, or a bad value.
   */
  static fromJSON(json: unknown): NormTrace {
    let j: unknown = json;
    if (typeof json === 'string') {
      try {
        j = JSON.parse(json);
      } catch (e) {
        throw new SyntaxError(`Expected JSON text for json but it does not parse: ${(e as Error).message}`);
      }
    }
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw typeError('json', 'a NormTrace JSON object', j);
    const o = j as Record<string, unknown>;
    if (o.format !== NORM_TRACE_FORMAT) {
      throw rangeError('json.format', `'${NORM_TRACE_FORMAT}' (is this a NormTrace file?)`, o.format);
    }
    const version = integer('json.version', o.version, 1);
    if (version > NORM_TRACE_VERSION) {
      throw rangeError(
        'json.version',
        `a format version <= ${NORM_TRACE_VERSION} (written by a newer fused-optim; upgrade to read it)`,
        o.version,
      );
    }
    const kind = oneOf('json.kind', o.kind, OPTIMIZER_KINDS);
    const length = integer('json.length', o.length, 0, 2 ** 31 - 1);
    const arrays: Record<string, Float64Array> = {};
    for (const key of ['l2', 'l1', 'skipped', 'lr'] as const) {
      const a = o[key];
      if (!Array.isArray(a)) throw typeError(`json.${key}`, 'an array', a);
      if (a.length !== length) {
        throw rangeError(`json.${key}`, `an array of length ${length} (json.length)`, a);
      }
      const out = new Float64Array(length);
      for (let i = 0; i < length; i++) out[i] = decodeNumber(`json.${key}[${i}]`, a[i]);
      arrays[key] = out;
    }
    return new NormTrace({ kind, capacity: length, l2: arrays.l2, l1: arrays.l1, skipped: arrays.skipped, lr: arrays.lr });
  }

  /** The JSON text in chunks (so that a long trace never builds one huge string). */
  *#jsonChunks(): Generator<string> {
    yield `{"format":${JSON.stringify(NORM_TRACE_FORMAT)},"version":${NORM_TRACE_VERSION},"kind":${JSON.stringify(this.#kind)},"length":${this.#length}`;
    for (const [key, arr] of [
      ['l2', this.l2],
      ['l1', this.l1],
      ['skipped', this.skipped],
      ['lr', this.lr],
    ] as const) {
      yield `,\n"${key}":[`;
      for (let i = 0; i < arr.length; i += CHUNK) {
        const part: string[] = [];
        const end = Math.min(arr.length, i + CHUNK);
        for (let k = i; k < end; k++) part.push(numberText(arr[k]));
        yield (i === 0 ? '' : ',') + part.join(',');
      }
      yield ']';
    }
    yield '}\n';
  }

  /**
   * Saves the trace as JSON, atomically (temporary file in the same directory, fsync,
   * rename): a crash leaves the old file or the new one, never a torn one.
   *
   * @example
   * ```ts
   * const trace = NormTrace.fromArrays({ kind: 'adamw', l2: [1, 2], l1: [10, 20] });
   * await trace.save(path.join(dir, 'adamw.trace.json'));
   * NormTrace.loadSync(path.join(dir, 'adamw.trace.json')).length; // → 2
   * ```
   */
  async save(path: string): Promise<void> {
    await writeFileAtomic(filePath('path', path), this.#jsonChunks());
  }

  /** {@link NormTrace.save}, synchronously. */
  saveSync(path: string): void {
    writeFileAtomicSync(filePath('path', path), this.#jsonChunks());
  }

  /**
   * Loads a trace saved by {@link NormTrace.save}. Errors name the file and the field:
   * not JSON, not a NormTrace, an unsupported version, mismatched lengths, bad values.
   * (The file is read whole: traces up to a few million steps.)
   */
  static async load(path: string): Promise<NormTrace> {
    const p = filePath('path', path);
    return parseTraceFile(p, await fsp.readFile(p, 'utf8'));
  }

  /** {@link NormTrace.load}, synchronously. */
  static loadSync(path: string): NormTrace {
    const p = filePath('path', path);
    return parseTraceFile(p, fs.readFileSync(p, 'utf8'));
  }

  *#csvChunks(): Generator<string> {
    yield 'step,l2,l1,skipped,lr\n';
    const n = this.#length;
    for (let i = 0; i < n; i += CHUNK) {
      const end = Math.min(n, i + CHUNK);
      let s = '';
      for (let k = i; k < end; k++) {
        s += `${k},${numberText(this.#l2[k])},${numberText(this.#l1[k])},${this.#skipped[k]},${numberText(this.#lr[k])}\n`;
      }
      yield s;
    }
  }

  /**
   * The trace as CSV: header `step,l2,l1,skipped,lr`, one row per step, non-finite values as
   * `NaN`, `Infinity`.
   *
   * @example
   * ```ts
   * NormTrace.fromArrays({ kind: 'sgd', l2: [2], l1: [3], lr: [0.1] }).toCSV();
   * // → 'step,l2,l1,skipped,lr\n0,2,3,0,0.1\n'
   * ```
   */
  toCSV(): string {
    return Array.from(this.#csvChunks()).join('');
  }

  /** Writes {@link NormTrace.toCSV} to a file, atomically. */
  async saveCSV(path: string): Promise<void> {
    await writeFileAtomic(filePath('path', path), this.#csvChunks());
  }

  /** {@link NormTrace.saveCSV}, synchronously. */
  saveCSVSync(path: string): void {
    writeFileAtomicSync(filePath('path', path), this.#csvChunks());
  }

  /**
   * The norms refinement uses, after choosing the norm and applying the skipped-step policy.
   *
   * Skipped steps (flag 1) did not update the parameters and their norms are usually NaN or
   * Infinity (that is why they were skipped), so they cannot be used as they are:
   * - `'fill'` (default): a skipped step takes the norm of the closest earlier applied step
   *   (leading skipped steps take the first applied step's). The schedule keeps one entry per
   *   iteration, aligned with the optimizer's step counter, which counts skipped steps too;
   *   the median filter makes a few filled values irrelevant.
   * - `'drop'`: skipped steps are removed; the schedule has one entry per applied step.
   * A non-finite norm on a step that was not skipped is an error (the run diverged there),
   * and so is a trace where every step was skipped.
   */
  refinementNorms(opts?: TraceRefineOptions): RefinementNorms {
    return this.#norms(readOptions('options', opts, [...REFINE_KEYS, ...TRACE_REFINE_KEYS]));
  }

  /** {@link NormTrace.refinementNorms} on options already read. */
  #norms(o: OptionValues): RefinementNorms {
    if (RULES[this.#kind].refinable === false) {
      throw new Error(
        `fused-optim: a '${this.#kind}' trace cannot be refined: refinement turns the gradient norms of a run with a learning-rate schedule into a better schedule for the next run, and a ${RULES[this.#kind].className} run has no schedule to refine (its averaging replaces the decay). Refine the trace of a scheduled run (e.g. 'adamw') instead`,
      );
    }
    const method = optional(o, 'method', refineMethodForKind(this.#kind), (n, v) => oneOf(n, v, ['sgd', 'adam'] as const));
    const norm = optional(o, 'norm', method === 'sgd' ? 'l2' : 'l1', (n, v) => oneOf(n, v, ['l2', 'l1'] as const));
    const policy = optional(o, 'skipped', 'fill' as SkippedPolicy, (n, v) => oneOf(n, v, ['fill', 'drop'] as const));
    const src = norm === 'l2' ? this.l2 : this.l1;
    const sk = this.skipped;
    const n = this.#length;
    let applied = 0;
    for (let i = 0; i < n; i++) {
      if (sk[i]) continue;
      applied++;
      const v = src[i];
      if (!Number.isFinite(v)) {
        throw rangeError(`trace.${norm}[${i}]`, `a finite norm (step ${i} was not skipped)`, v);
      }
    }
    if (applied === 0) {
      throw rangeError('trace', 'at least one applied (not skipped) step', n === 0 ? 'an empty trace' : `${n} skipped steps`);
    }
    if (policy === 'drop') {
      const norms = new Float64Array(applied);
      const steps = new Int32Array(applied);
      for (let i = 0, k = 0; i < n; i++) {
        if (sk[i]) continue;
        norms[k] = src[i];
        steps[k++] = i;
      }
      return { norms, method, norm, skipped: policy, steps, skippedCount: n - applied };
    }
    const norms = new Float64Array(n);
    const steps = new Int32Array(n);
    let firstApplied = 0;
    while (sk[firstApplied]) firstApplied++;
    let lastValue = src[firstApplied];
    for (let i = 0; i < n; i++) {
      if (!sk[i]) lastValue = src[i];
      norms[i] = lastValue;
      steps[i] = i;
    }
    return { norms, method, norm, skipped: policy, steps, skippedCount: n - applied };
  }

  /**
   * Refines the next run's schedule from this trace (closed form, `refineSchedule`): L1
   * norms and ĝ⁻¹ weights for Adam/AdamW traces, L2 norms and ĝ⁻² for SGD, unless
   * `method`/`norm` say otherwise. Skipped steps are filled by default (see
   * {@link NormTrace.refinementNorms}).
   *
   * @returns one learning rate per step (`'fill'`) or per applied step (`'drop'`), max `peak`.
   * @example
   * ```ts
   * const t = NormTrace.fromArrays({ kind: 'sgd', l2: [1, 1, NaN, 1, 1], l1: [9, 9, NaN, 9, 9], skipped: [0, 0, 1, 0, 0] });
   * t.refine();                      // → [1, 0.75, 0.5, 0.25, 0]
   * t.refine({ skipped: 'drop' });   // ≈ [1, 2 / 3, 1 / 3, 0]
   * ```
   */
  refine(opts?: TraceRefineOptions): Float64Array {
    return this.refineDetailed(opts).schedule;
  }

  /** {@link NormTrace.refine}, also returning the norms used, the smoothed norms and the width. */
  refineDetailed(opts?: TraceRefineOptions): RefinementResult & { input: RefinementNorms } {
    const values = readOptions('options', opts, [...REFINE_KEYS, ...TRACE_REFINE_KEYS]);
    const input = this.#norms(values);
    const o = values as TraceRefineOptions;
    const r = refineScheduleDetailed(input.norms, {
      method: input.method,
      ...(o.tau !== undefined && { tau: o.tau }),
      ...(o.peak !== undefined && { peak: o.peak }),
      ...(o.boundary !== undefined && { boundary: o.boundary }),
    });
    return { ...r, input };
  }

  /**
   * Refines by minimising the last-iterate bound (`refineByBound`) on the norms chosen as
   * for {@link NormTrace.refine}.
   */
  refineByBound(opts?: TraceRefineOptions & Omit<RefineByBoundOptions, 'method'>): RefineByBoundResult & { input: RefinementNorms } {
    const o = readOptions('options', opts, [...REFINE_KEYS, ...BOUND_KEYS, ...TRACE_REFINE_KEYS]);
    const input = this.#norms(o);
    const { norm: _n, skipped: _s, ...rest } = o as unknown as TraceRefineOptions & RefineByBoundOptions;
    const r = refineByBoundDetailed(input.norms, { ...rest, method: input.method });
    return { ...r, input };
  }
}

const CHUNK = 65536;

function parseTraceFile(path: string, text: string): NormTrace {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot read a NormTrace from ${path}: not JSON (${(e as Error).message})`);
  }
  try {
    return NormTrace.fromJSON(json);
  } catch (e) {
    const err = e as Error;
    const Ctor = err instanceof TypeError ? TypeError : err instanceof RangeError ? RangeError : Error;
    throw new Ctor(`Cannot read a NormTrace from ${path}: ${err.message}`);
  }
}

function arrayLength(name: string, a: unknown): number {
  if (Array.isArray(a)) return a.length;
  if (ArrayBuffer.isView(a) && !(a instanceof DataView) && !(a instanceof BigInt64Array) && !(a instanceof BigUint64Array)) {
    return (a as unknown as ArrayLike<number>).length;
  }
  throw typeError(name, 'an array of numbers', a);
}

function checkNorm(name: string, v: unknown): void {
  if (typeof v !== 'number') throw typeError(name, 'a number', v);
  if (v < 0) throw rangeError(name, 'a norm >= 0 (or NaN, +Infinity)', v);
}

function checkSkipped(name: string, v: unknown): void {
  if (v !== 0 && v !== 1) {
    if (typeof v !== 'number') throw typeError(name, '0 or 1', v);
    throw rangeError(name, '0 or 1', v);
  }
}

function checkLr(name: string, v: unknown): void {
  if (typeof v !== 'number') throw typeError(name, 'a number', v);
  if (!Number.isFinite(v) && !Number.isNaN(v)) throw rangeError(name, 'a finite number (or NaN: not recorded)', v);
}

function copyInto(dst: Float64Array | Uint8Array, at: number, src: ArrayLike<number>): void {
  if (ArrayBuffer.isView(src)) dst.set(src as unknown as ArrayLike<number>, at);
  else for (let i = 0; i < src.length; i++) dst[at + i] = src[i];
}

function encodeNumber(v: number): JSONNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function numberText(v: number): string {
  return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

function decodeNumber(name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw typeError(name, 'a number or "NaN", "Infinity", "-Infinity"', v);
}
