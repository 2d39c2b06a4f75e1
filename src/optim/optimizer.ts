/**
 * Optimizer classes over one flat arena per state (DESIGN.md "Memory model"): `SGD`, `Adam`,
 * `AdamW`. One native pass per step covers every tensor, however many.
 */
import { HP, KIND, OUT, SLOT, TRACE_FIELDS, loadNative, type NativeOptimizer } from '../native.js';
import type { Schedule } from '../schedules/types.js';
import { NormTrace, type OptimizerKind } from '../trace.js';
import * as v from '../validate.js';
import {
  CHECKPOINT_VERSION,
  STATE_DICT_FORMAT,
  STATE_NAMES,
  checkStateDict,
  readCheckpoint,
  readCheckpointSync,
  writeCheckpoint,
  writeCheckpointSync,
  type OptimizerStateDict,
} from './checkpoint.js';
import { readOutcome } from './functional.js';
import { lazyStepInfo } from './lazy-outcome.js';
import {
  ADAMW_DEFAULTS,
  ADAM_DEFAULTS,
  SGD_DEFAULTS,
  type AdamHyperparameters,
  type ResolvedAdam,
  type ResolvedSgd,
  type SgdHyperparameters,
  type StepResult,
  packAdam,
  packSgd,
  resolveAdam,
  resolveSgd,
} from './options.js';

/** A learning rate: a number, or a schedule called with the 0-based iteration. */
export type LearningRate = number | Schedule;

/** Where an optimizer's arena lives. `'auto'`: the first CUDA device when usable, else the CPU. */
export type DeviceSpec = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;

/** Options every optimizer class takes besides its hyperparameters. */
export interface OptimizerCommonOptions {
  /** A number or a schedule `(iteration) => lr`. */
  lr?: LearningRate;
  /** Threads for this optimizer's steps (1–256). Default: the global setting. */
  threads?: number;
  /** Default `'cpu'`. */
  device?: DeviceSpec;
  /**
   * Records of the native trace ring (read back in batches of half this). Default 4096.
   * 0 disables the trace.
   */
  traceCapacity?: number;
}

export interface StepInfo extends StepResult {
  /** 0-based iteration of this step (the schedule was evaluated here). */
  iteration: number;
  /** The learning rate used. */
  lr: number;
}

/** One parameter tensor given at construction: its initial values, or its length (zeros). */
export type ParamInit = Float32Array | number;

const COMMON_KEYS = ['lr', 'threads', 'device', 'traceCapacity'];

/** Resolves a device spec to the addon's form ('cpu' | 'cuda:N') and says why. */
export function resolveDevice(name: string, spec: unknown): string {
  if (spec === undefined || spec === 'cpu') return 'cpu';
  if (typeof spec !== 'string') throw v.typeError(name, "'auto', 'cpu', 'cuda' or 'cuda:N'", spec);
  const info = loadNative().buildInfo();
  if (spec === 'auto') return info.cuda.available ? 'cuda:0' : 'cpu';
  const m = /^cuda(?::(\d+))?$/.exec(spec);
  if (!m) throw v.rangeError(name, "'auto', 'cpu', 'cuda' or 'cuda:N'", spec);
  if (!info.cuda.available) {
    throw new RangeError(`Expected a usable CUDA device for ${name} = '${spec}' but CUDA is unavailable: ${info.cuda.reason}`);
  }
  const ordinal = m[1] === undefined ? 0 : Number(m[1]);
  if (ordinal >= info.cuda.devices.length) {
    throw v.rangeError(name, `a CUDA device index below ${info.cuda.devices.length}`, spec);
  }
  return `cuda:${ordinal}`;
}

/** The state shared by SGD, Adam and AdamW; subclasses supply the rule and its packing. */
export abstract class FusedOptimizer<H extends object> implements Disposable {
  readonly #native: NativeOptimizer;
  readonly #name: string;
  readonly #kind: OptimizerKind;
  readonly #lengths: number[];
  readonly #hp = new Float64Array(HP.count);
  readonly #out = new Float64Array(OUT.count);
  readonly #outAsync = new Float64Array(OUT.count);
  readonly #traceBuf: Float64Array;
  readonly #traceCols: { l2: Float64Array; l1: Float64Array; lr: Float64Array; skipped: Float64Array };
  readonly #traceCapacity: number;
  #trace: NormTrace;
  #unread = 0;
  #lr: LearningRate;
  #iteration = 0;
  #appliedValue = 0;
  /** A device optimizer's applied-step count lives on the device: read it when asked for. */
  #appliedStale = false;
  #busy = false;
  #disposed = false;
  #last: StepInfo | null = null;
  #params: Float32Array[] | null = null;
  #grads: Float32Array[] | null = null;

  protected constructor(name: string, nativeKind: number, traceKind: OptimizerKind, params: unknown, options: Record<string, unknown>) {
    this.#name = name;
    this.#kind = traceKind;
    if (!Array.isArray(params)) throw v.typeError('params', 'an array of Float32Array or lengths', params);
    if (params.length === 0) throw v.rangeError('params', 'at least one tensor', params);
    this.#lengths = params.map((p, i) => {
      if (p instanceof Float32Array) return p.length;
      if (typeof p === 'number') return v.integer(`params[${i}]`, p, 0, 2 ** 40);
      throw v.typeError(`params[${i}]`, 'a Float32Array or a length', p);
    });
    // The `lengths` getter hands this array out: frozen, so a caller cannot desynchronise it
    // from the native layout.
    Object.freeze(this.#lengths);
    this.#lr = resolveLearningRate('options.lr', options.lr === undefined ? 1e-3 : options.lr);
    const threads = options.threads === undefined ? 0 : v.integer('options.threads', options.threads, 1, 256);
    this.#traceCapacity =
      options.traceCapacity === undefined ? 4096 : v.integer('options.traceCapacity', options.traceCapacity, 0, 1 << 24);
    const device = resolveDevice('options.device', options.device);
    const addon = loadNative();
    this.#native = new addon.Optimizer(nativeKind, Float64Array.from(this.#lengths), device, this.#traceCapacity, threads);
    const batch = Math.max(1, this.#traceCapacity);
    this.#traceBuf = new Float64Array(batch * TRACE_FIELDS);
    this.#traceCols = {
      l2: new Float64Array(batch),
      l1: new Float64Array(batch),
      lr: new Float64Array(batch),
      skipped: new Float64Array(batch),
    };
    this.#trace = new NormTrace({ kind: traceKind });
    params.forEach((p, i) => {
      if (p instanceof Float32Array && p.length > 0) this.#native.writeSlot(SLOT.params, i, p);
    });
  }

  /** Packs the hyperparameters for a step at `lr` (subclasses). */
  protected abstract pack(hp: Float64Array, lr: number): void;
  /** Current resolved hyperparameters (subclasses). */
  abstract get hyperparameters(): Readonly<H>;
  /**
   * Internal (checkpoints): validates saved hyperparameters (all but lr) for this optimizer,
   * without applying them. Throws TypeError/RangeError naming `prefix.key`.
   */
  protected abstract checkHyperparameters(saved: unknown, prefix: string): H;
  /** Internal (checkpoints): applies hyperparameters returned by `checkHyperparameters`. */
  protected abstract restoreHyperparameters(h: H): void;

  // --- guards -------------------------------------------------------------------------

  /** @internal The native optimizer, after checking it is neither disposed nor busy. */
  protected live(): NativeOptimizer {
    if (this.#disposed) throw new Error(`fused-optim: this ${this.#name} optimizer has been disposed`);
    if (this.#busy) {
      throw new Error(`fused-optim: a stepAsync() of this ${this.#name} optimizer is in flight; await it before using the optimizer`);
    }
    return this.#native;
  }

  /** For getters that stay readable during a stepAsync but not after dispose. */
  #alive(): void {
    if (this.#disposed) throw new Error(`fused-optim: this ${this.#name} optimizer has been disposed`);
  }

  #index(index: unknown): number {
    return v.integer('index', index, 0, this.#lengths.length - 1);
  }

  // --- shape ----------------------------------------------------------------------------

  /** Number of tensors. */
  get numTensors(): number {
    this.#alive();
    return this.#lengths.length;
  }

  /** Total number of parameters. */
  get numParams(): number {
    this.#alive();
    return this.#lengths.reduce((a, b) => a + b, 0);
  }

  /** Length of each tensor. */
  get lengths(): readonly number[] {
    this.#alive();
    return this.#lengths;
  }

  /** `'cpu'` or `'cuda:N'`. */
  get device(): string {
    return this.live().device ?? 'cpu';
  }

  /** Bytes of native memory this optimizer holds. */
  get nativeBytes(): number {
    return this.#disposed ? 0 : this.#native.nativeBytes;
  }

  #views(slot: number): Float32Array[] {
    const native = this.live();
    const buf = native.slotBuffer(slot);
    if (buf === null) {
      throw new Error(
        `fused-optim: zero-copy views exist only on the CPU; this ${this.#name} optimizer lives on ${native.device}. Use setGrads()/readParams()/setParams().`,
      );
    }
    const offsets = native.offsets();
    return this.#lengths.map((n, i) => new Float32Array(buf, offsets[i] * 4, n));
  }

  /**
   * Zero-copy views of the parameters in the arena (CPU only). They become empty (length 0)
   * when the optimizer is disposed: copy what you want to keep with `readParams`.
   */
  get params(): readonly Float32Array[] {
    this.live();
    this.#params ??= this.#views(SLOT.params);
    return this.#params;
  }

  /** Zero-copy views of the gradients (CPU only): write gradients straight into them. */
  get grads(): readonly Float32Array[] {
    this.live();
    this.#grads ??= this.#views(SLOT.grads);
    return this.#grads;
  }

  /** Copies `data` into tensor `index`'s gradient. */
  setGrads(index: number, data: Float32Array): void {
    const native = this.live();
    const i = this.#index(index);
    v.float32ArrayOfLength('data', data, this.#lengths[i]);
    native.writeSlot(SLOT.grads, i, data);
  }

  /** Copies `data` into tensor `index`'s parameters. */
  setParams(index: number, data: Float32Array): void {
    const native = this.live();
    const i = this.#index(index);
    v.float32ArrayOfLength('data', data, this.#lengths[i]);
    native.writeSlot(SLOT.params, i, data);
  }

  /** A copy of tensor `index`'s parameters (into `out` when given). */
  readParams(index: number, out?: Float32Array): Float32Array {
    const native = this.live();
    const i = this.#index(index);
    const dst = out === undefined ? new Float32Array(this.#lengths[i]) : v.float32ArrayOfLength('out', out, this.#lengths[i]);
    native.readSlot(SLOT.params, i, dst);
    return dst;
  }

  /** A copy of tensor `index`'s gradient. */
  readGrads(index: number, out?: Float32Array): Float32Array {
    const native = this.live();
    const i = this.#index(index);
    const dst = out === undefined ? new Float32Array(this.#lengths[i]) : v.float32ArrayOfLength('out', out, this.#lengths[i]);
    native.readSlot(SLOT.grads, i, dst);
    return dst;
  }

  /** Sets every gradient to 0. */
  zeroGrad(): void {
    this.live().fillSlot(SLOT.grads, 0);
  }

  // --- schedule and counters ----------------------------------------------------------------

  /** The learning rate: a number or a schedule of the iteration. */
  get lr(): LearningRate {
    this.#alive();
    return this.#lr;
  }

  /** Sets the learning rate (a number or a schedule) for the following steps. */
  set lr(value: LearningRate) {
    this.live();
    this.#lr = resolveLearningRate('lr', value);
  }

  /** The learning rate the next step will use. */
  get currentLr(): number {
    this.#alive();
    return this.#lrAt(this.#iteration);
  }

  /** Steps taken (skipped ones included): the schedule's argument for the next step. */
  get iteration(): number {
    this.live();
    return this.#iteration;
  }

  /** Steps applied (not skipped): drives bias correction. */
  get appliedSteps(): number {
    this.live();
    return this.#applied;
  }

  /** The last step's outcome, or null before the first step. */
  get lastStep(): StepInfo | null {
    this.#alive();
    return this.#last;
  }

  #lrAt(iteration: number): number {
    const lr = this.#lr;
    if (typeof lr === 'number') return lr;
    let value: unknown;
    try {
      value = lr(iteration);
    } catch (err) {
      throw new Error(`fused-optim: the lr schedule threw at iteration ${iteration}; no step was taken`, { cause: err });
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw v.rangeError(`the value of the lr schedule at iteration ${iteration}`, 'a finite number >= 0', value);
    }
    return value;
  }

  // --- stepping -------------------------------------------------------------------------------

  get #applied(): number {
    if (this.#appliedStale && !this.#disposed) this.#applied = this.#native.counters()[1];
    return this.#appliedValue;
  }

  set #applied(value: number) {
    this.#appliedValue = value;
    this.#appliedStale = false;
  }

  #finish(out: Float64Array, lr: number, iteration: number): StepInfo {
    // On CUDA the step was only enqueued: its outcome is fetched when a field is first read.
    const lazy = this.#native.outcomeIsLazy;
    const info: StepInfo = lazy ? lazyStepInfo<StepInfo>(this.#native, this.#name, iteration, lr) : { ...readOutcome(out), iteration, lr };
    this.#iteration = iteration + 1;
    if (lazy) this.#appliedStale = true;
    else this.#applied = out[OUT.applied];
    this.#last = info;
    if (this.#traceCapacity > 0 && ++this.#unread >= this.#traceCapacity / 2) this.#drainTrace();
    return info;
  }

  /** One fused step over every tensor. Returns the step's norms, clip coefficient and skip flag. */
  step(): StepInfo {
    const native = this.live();
    const iteration = this.#iteration;
    const lr = this.#lrAt(iteration);
    this.pack(this.#hp, lr);
    native.step(this.#hp, this.#out);
    return this.#finish(this.#out, lr, iteration);
  }

  /**
   * The same step on a worker thread, leaving the event loop free. One at a time: a second
   * call while one is in flight rejects, as does every other method of this optimizer.
   */
  async stepAsync(): Promise<StepInfo> {
    const native = this.live();
    const iteration = this.#iteration;
    const lr = this.#lrAt(iteration);
    const hp = new Float64Array(HP.count);
    this.pack(hp, lr);
    this.#busy = true;
    try {
      await native.stepAsync(hp, this.#outAsync);
    } finally {
      this.#busy = false;
    }
    if (this.#disposed) throw new Error(`fused-optim: this ${this.#name} optimizer was disposed during stepAsync()`);
    return this.#finish(this.#outAsync, lr, iteration);
  }

  /** Per-tensor L2 and L1 norms of the last step's (unscaled, unclipped) gradient. */
  tensorNorms(): { l2: Float64Array; l1: Float64Array } {
    const native = this.live();
    const n = this.#lengths.length;
    const sq = new Float64Array(n);
    const l1 = new Float64Array(n);
    native.tensorSums(sq, l1);
    for (let i = 0; i < n; i++) sq[i] = Math.sqrt(sq[i]);
    return { l2: sq, l1 };
  }

  // --- trace ----------------------------------------------------------------------------------

  #drainTrace(): void {
    const native = this.#native;
    const cols = this.#traceCols;
    for (;;) {
      const n = native.readTrace(this.#traceBuf);
      if (n === 0) break;
      const b = this.#traceBuf;
      for (let i = 0; i < n; i++) {
        cols.l2[i] = b[i * TRACE_FIELDS];
        cols.l1[i] = b[i * TRACE_FIELDS + 1];
        cols.lr[i] = b[i * TRACE_FIELDS + 2];
        cols.skipped[i] = b[i * TRACE_FIELDS + 3];
      }
      this.#trace.appendBatch(cols.l2.subarray(0, n), cols.l1.subarray(0, n), cols.skipped.subarray(0, n), cols.lr.subarray(0, n));
    }
    this.#unread = 0;
  }

  /**
   * The per-iteration record {L2, L1, skipped, lr} of every step since construction (or the
   * last `resetTrace`). Read back from the native ring in batches.
   */
  get trace(): NormTrace {
    this.live();
    if (this.#traceCapacity === 0) throw new Error(`fused-optim: the trace of this ${this.#name} optimizer is disabled (traceCapacity 0)`);
    this.#drainTrace();
    return this.#trace;
  }

  /** Starts a fresh trace; returns the old one. */
  resetTrace(): NormTrace {
    const old = this.trace;
    this.#trace = new NormTrace({ kind: old.kind });
    return old;
  }

  // --- checkpoints ----------------------------------------------------------------------------

  /** `'sgd'`, `'adam'` or `'adamw'`: the kind recorded in traces and checkpoints. */
  get kind(): OptimizerKind {
    this.#alive();
    return this.#kind;
  }

  /**
   * A snapshot of everything needed to resume bit for bit: parameters, state (exp_avg,
   * exp_avg_sq / momentum buffer), iteration, applied-step count, hyperparameters, the lr
   * when it is a number, and the trace so far. The arrays are copies (read with `readSlot`,
   * so this works on every device). Gradients are not included.
   *
   * A schedule is a function and is not serialised: `lr` is `null` then, and the caller passes
   * the same schedule to the optimizer it loads into; loading restores the iteration, which is
   * the schedule's position. (A stateful schedule such as `ReduceOnPlateau` keeps its own state.)
   */
  stateDict(): OptimizerStateDict {
    const native = this.live();
    const read = (slot: number): Float32Array[] =>
      this.#lengths.map((n, i) => {
        const a = new Float32Array(n);
        if (n > 0) native.readSlot(slot, i, a);
        return a;
      });
    const names = STATE_NAMES[this.#kind];
    const state: Record<string, Float32Array[]> = {};
    names.forEach((key, k) => {
      state[key] = read(k === 0 ? SLOT.state1 : SLOT.state2);
    });
    let trace: OptimizerStateDict['trace'] = null;
    if (this.#traceCapacity > 0) {
      this.#drainTrace();
      const t = this.#trace;
      trace = { l2: t.l2.slice(), l1: t.l1.slice(), skipped: t.skipped.slice(), lr: t.lr.slice() };
    }
    const { lr: _lr, ...hyperparameters } = this.#resolved();
    let nextLr: number | null = null;
    try {
      nextLr = this.#lrAt(this.#iteration);
    } catch {
      /* informative only */
    }
    return {
      format: STATE_DICT_FORMAT,
      version: CHECKPOINT_VERSION,
      kind: this.#kind,
      lengths: [...this.#lengths],
      iteration: this.#iteration,
      appliedSteps: this.#applied,
      hyperparameters: hyperparameters as Record<string, number | boolean | null>,
      lr: typeof this.#lr === 'number' ? this.#lr : null,
      nextLr,
      params: read(SLOT.params),
      state,
      trace,
    };
  }

  /** The subclass's resolved hyperparameters, without evaluating the schedule. */
  #resolved(): Record<string, unknown> {
    return this.checkHyperparameters({}, 'current') as Record<string, unknown>;
  }

  /**
   * Restores a state dict from `stateDict()` (or `readCheckpoint`). Everything is validated
   * before anything is written: a state of another kind, tensor count or tensor lengths, or
   * with a bad value, throws a TypeError/RangeError naming the field and leaves this optimizer
   * as it was. Restores parameters, state, counters, hyperparameters, the lr when it was a
   * number (a saved schedule requires this optimizer to have a schedule: pass the same one), and
   * the trace (the native ring's unread records are discarded). Gradients are left as they are.
   */
  loadStateDict(state: OptimizerStateDict): void {
    this.#load(state, 'state', null);
  }

  #load(state: unknown, name: string, source: string | null): void {
    const native = this.live();
    let s: OptimizerStateDict;
    let h: H;
    let trace: NormTrace | null = null;
    try {
      s = checkStateDict(state, { kind: this.#kind, lengths: this.#lengths, optimizer: this.#name }, name);
      h = this.checkHyperparameters(s.hyperparameters, `${name}.hyperparameters`);
      if (s.lr === null && typeof this.#lr === 'number') {
        throw new RangeError(
          `Expected this ${this.#name} optimizer to have an lr schedule because ${name}.lr is null (it was saved with a schedule, which is not serialised) but its lr is the number ${this.#lr}; construct it with the same schedule, or set optimizer.lr after loading`,
        );
      }
      if (s.trace !== null && this.#traceCapacity > 0) {
        const t = s.trace;
        trace = new NormTrace({ kind: this.#kind, capacity: t.l2.length, l2: t.l2, l1: t.l1, skipped: t.skipped, lr: t.lr });
      }
    } catch (e) {
      if (source === null) throw e;
      const err = e as Error;
      const Ctor = err instanceof TypeError ? TypeError : err instanceof RangeError ? RangeError : Error;
      throw new Ctor(`Cannot load the checkpoint ${source} into this ${this.#name} optimizer: ${err.message}`, { cause: e });
    }
    // Validated: write.
    const write = (slot: number, arrays: Float32Array[]): void => {
      arrays.forEach((a, i) => {
        if (a.length > 0) native.writeSlot(slot, i, a);
      });
    };
    write(SLOT.params, s.params);
    STATE_NAMES[this.#kind].forEach((key, k) => write(k === 0 ? SLOT.state1 : SLOT.state2, s.state[key]));
    this.#drainTrace(); // discard the records of the run being replaced
    this.setCounters(s.iteration, s.appliedSteps);
    this.restoreHyperparameters(h);
    if (s.lr !== null) this.#lr = s.lr;
    this.#trace = trace ?? new NormTrace({ kind: this.#kind });
    this.#last = null;
  }

  /**
   * Saves a checkpoint file (docs/checkpoint-format.md), atomically: temporary file in the same
   * directory, fsync, rename. The state is snapshotted when `save` is called; stepping while
   * the file is written does not change what is written.
   */
  async save(path: string): Promise<void> {
    const state = this.stateDict();
    await writeCheckpoint(path, state);
  }

  /** {@link FusedOptimizer.save}, synchronously. */
  saveSync(path: string): void {
    writeCheckpointSync(path, this.stateDict());
  }

  /**
   * Loads a checkpoint file saved by `save` into this optimizer. A truncated or corrupt file
   * throws a `CheckpointError`; one of another kind, tensor count or lengths a `RangeError`;
   * either way this optimizer is left as it was.
   */
  async load(path: string): Promise<void> {
    this.live();
    const state = await readCheckpoint(path);
    this.#load(state, 'checkpoint', path);
  }

  /** {@link FusedOptimizer.load}, synchronously. */
  loadSync(path: string): void {
    this.live();
    this.#load(readCheckpointSync(path), 'checkpoint', path);
  }

  // --- lifetime -------------------------------------------------------------------------------

  /** True once `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Frees the native memory now. Safe to call twice. Zero-copy views become empty; every
   * method throws afterwards. During a `stepAsync`, freeing waits for it to end.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#params = null;
    this.#grads = null;
    this.#native.dispose();
  }

  /** The same as {@link dispose}, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Internal: the native object (checkpoints, tests). @internal */
  protected get native(): NativeOptimizer {
    return this.live();
  }

  /** Internal: restores counters after loading state. */
  protected setCounters(iteration: number, applied: number): void {
    this.live().setCounters(iteration, applied);
    this.#iteration = iteration;
    this.#applied = applied;
  }
}

function resolveLearningRate(name: string, lr: unknown): LearningRate {
  if (typeof lr === 'function') return lr as Schedule;
  if (typeof lr === 'number') return v.nonNegative(name, lr);
  throw v.typeError(name, 'a finite number >= 0 or a schedule function', lr);
}

function threadsOption(native: NativeOptimizer, threads: unknown): void {
  native.setThreads(v.integer('threads', threads, 1, 256));
}

export interface AdamOptions extends Omit<AdamHyperparameters, 'lr'>, OptimizerCommonOptions {}
export interface SgdOptions extends Omit<SgdHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** Adam-family base: Adam and AdamW differ only in their defaults. */
class AdamFamily extends FusedOptimizer<ResolvedAdam> {
  #h: ResolvedAdam;

  protected constructor(name: string, traceKind: OptimizerKind, defaults: ResolvedAdam, params: unknown, options: unknown) {
    const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
    const h = resolveAdam(o, 'options', defaults, COMMON_KEYS);
    super(name, KIND.adam, traceKind, params, o);
    this.#h = h;
  }

  protected pack(hp: Float64Array, lr: number): void {
    packAdam(hp, this.#h, lr, 0);
  }

  get hyperparameters(): Readonly<ResolvedAdam> {
    return { ...this.#h, lr: this.currentLr };
  }

  protected checkHyperparameters(saved: unknown, prefix: string): ResolvedAdam {
    const h = resolveAdam(saved, prefix, this.#h);
    if (this.kind === 'adamw' && !h.decoupled) throw v.rangeError(`${prefix}.decoupled`, 'true (AdamW always decouples weight decay)', h.decoupled);
    return h;
  }

  protected restoreHyperparameters(h: ResolvedAdam): void {
    this.#h = h;
  }

  /** Changes hyperparameters for the following steps (validated like the constructor). */
  setOptions(options: Omit<AdamHyperparameters, 'lr'> & { lr?: LearningRate; threads?: number }): void {
    const native = this.live();
    const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
    const h = resolveAdam(o, 'options', this.#h, ['lr', 'threads']);
    if (this.kind === 'adamw' && !h.decoupled) throw v.rangeError('options.decoupled', 'true (AdamW always decouples weight decay; use Adam)', o.decoupled);
    if (o.threads !== undefined) threadsOption(native, o.threads);
    if (o.lr !== undefined) this.lr = o.lr as LearningRate;
    this.#h = h;
  }
}

/**
 * Adam with L2 weight decay (added to the gradient), `torch.optim.Adam` semantics.
 *
 * @example
 * const opt = new Adam([new Float32Array([1, 2, 3]), 1000], { lr: linearDecay({ peak: 1e-3, steps: 100 }) });
 * opt.grads[0].set([0.1, -0.2, 0.3]);   // write gradients straight into the arena
 * const info = opt.step();             // { gradNormL2, gradNormL1, clipCoef, skipped, lr, ... }
 * opt.dispose();
 */
export class Adam extends AdamFamily {
  constructor(params: readonly ParamInit[], options: AdamOptions = {}) {
    super('Adam', 'adam', ADAM_DEFAULTS, params, options);
  }
}

/** Adam with decoupled weight decay (default 0.01), `torch.optim.AdamW` semantics. */
export class AdamW extends AdamFamily {
  constructor(params: readonly ParamInit[], options: Omit<AdamOptions, 'decoupled'> = {}) {
    const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
    if (o.decoupled === false) throw new RangeError('AdamW always decouples weight decay; use Adam for options.decoupled = false');
    super('AdamW', 'adamw', ADAMW_DEFAULTS, params, o);
  }
}

/** SGD with momentum, dampening, Nesterov and weight decay, `torch.optim.SGD` semantics. */
export class SGD extends FusedOptimizer<ResolvedSgd> {
  #h: ResolvedSgd;

  constructor(params: readonly ParamInit[], options: SgdOptions = {}) {
    const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
    const h = resolveSgd(o, 'options', SGD_DEFAULTS, COMMON_KEYS);
    super('SGD', KIND.sgd, 'sgd', params, o);
    this.#h = h;
  }

  protected pack(hp: Float64Array, lr: number): void {
    // The momentum buffer is initialised on the first applied step (torch: buffer is None).
    packSgd(hp, this.#h, lr, 0);
  }

  get hyperparameters(): Readonly<ResolvedSgd> {
    return { ...this.#h, lr: this.currentLr };
  }

  protected checkHyperparameters(saved: unknown, prefix: string): ResolvedSgd {
    return resolveSgd(saved, prefix, this.#h);
  }

  protected restoreHyperparameters(h: ResolvedSgd): void {
    this.#h = h;
  }

  /** Changes hyperparameters for the following steps (validated like the constructor). */
  setOptions(options: Omit<SgdHyperparameters, 'lr'> & { lr?: LearningRate; threads?: number }): void {
    const native = this.live();
    const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
    const h = resolveSgd(o, 'options', this.#h, ['lr', 'threads']);
    if (o.threads !== undefined) threadsOption(native, o.threads);
    if (o.lr !== undefined) this.lr = o.lr as LearningRate;
    this.#h = h;
  }
}
