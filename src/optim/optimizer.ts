/**
 * Optimizer classes over one flat arena per state (docs/design.md, "Memory model"): `SGD`,
 * `Adam`, `AdamW`. One native pass per step covers every tensor of every parameter group.
 * A class is its rule spec (`./rules/`) plus this shared machinery.
 */
import { HP, OUT, SLOT, TRACE_FIELDS, hpLength, loadNative, type NativeOptimizer } from '../native.js';
import type { Schedule } from '../schedules/types.js';
import { asDistributedError, attachNccl, checkComm, requireNccl, type Communicator, type MpiCommunicator } from '../distributed/mpi.js';
import { NormTrace } from '../trace.js';
import * as v from '../validate.js';
import {
  CHECKPOINT_VERSION,
  STATE_DICT_FORMAT,
  checkStateDict,
  readCheckpoint,
  readCheckpointSync,
  writeCheckpoint,
  writeCheckpointSync,
  type CheckpointGroup,
  type OptimizerStateDict,
} from './checkpoint.js';
import { readOutcome } from './functional.js';
import { lazyStepInfo } from './lazy-outcome.js';
import {
  GRADIENT_KEYS,
  type AdamHyperparameters,
  type GradientOptions,
  type ResolvedGradient,
  type SgdHyperparameters,
  type StepResult,
  packHeader,
  rejectUnknown,
  resolveGradient,
} from './options.js';
import { RULES, groupKeys, packGroup, resolveHyper, type HyperValue, type OptimizerKind, type RuleSpec } from './rules/index.js';

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
   * Records of the native trace ring (read back in batches of half this). Default: scaled with
   * the parameter count, 64 records for the smallest optimizers up to 4096 from 256K
   * parameters (a record costs 32 bytes natively and as much again in the read-back buffers).
   * 0 disables the trace.
   */
  traceCapacity?: number;
  /** CUDA only (ignored on the CPU): the stream this optimizer's work goes to. See {@link CudaStreamOption}. */
  stream?: CudaStreamOption;
  /**
   * Data parallelism (`fused-optim/distributed`): a communicator from `init()`. Every step then
   * averages the gradient arena over all ranks (one in-place `MPI_Allreduce` sum over the whole
   * arena; the 1/size is folded into `gradScale`, so `opt.grads` hold the **sum** after a step)
   * before the fused step; norms, clipping and skipping see the averaged gradient, identically
   * on every rank. Every rank must build the same layout (checked at construction with one
   * collective) and call `step()` the same number of times.
   *
   * Construction is collective (the optimizer gets a duplicate of the world communicator of its
   * own). Each step first meets the other ranks in a small rendezvous, so misuse is a typed
   * `DistributedError` on every rank instead of a hang: a rank that disposed this optimizer (or
   * closed the communicator) gives `ERR_FUSED_OPTIM_RANK_LEFT`; ranks at different iterations
   * or in different methods give `ERR_FUSED_OPTIM_MPI_MISMATCH` (nothing changed); a rank that
   * does not come within `comm.timeoutMs` gives `ERR_FUSED_OPTIM_MPI_TIMEOUT`. `dispose()` tells
   * the other ranks this one left and returns at once.
   *
   * On a CUDA device the all-reduce is NCCL's (libnccl.so.2, loaded at run time; see
   * `ncclInfo()`): construction makes one NCCL communicator per optimizer (rank 0's unique id
   * reaches the others over MPI; collective, every rank constructs it), and each step enqueues
   * `ncclAllReduce` on the optimizer's stream before the step's kernels (after the same MPI
   * rendezvous). Give each rank its own device (`device: 'cuda'` with `comm` picks GPU `comm.localRank % deviceCount`; or `'cuda:N'`): NCCL
   * refuses two ranks on one GPU. Without NCCL a CUDA arena with `comm` is refused with a
   * RangeError giving the reason. `dispose()` destroys the communicator (every rank should
   * dispose).
   */
  comm?: Communicator;
  /**
   * With `comm`: at construction, every rank's parameters are set to rank 0's (one
   * `MPI_Bcast`), as PyTorch's DistributedDataParallel does, so that ranks that initialised
   * their weights differently still train one model. Read them back from `params` /
   * `readParams()` for the forward pass (the arrays given to the constructor are not
   * changed). `false` keeps each rank's own values: then they must already be equal.
   * Default true.
   */
  broadcastParams?: boolean;
  /**
   * ZeRO stage 1, with `comm`: each rank keeps the rule's state (exp_avg, …) only for its
   * 1/size slice of the arena. A step reduce-scatters the gradient, steps the slice and
   * all-gathers the parameters; the global norm is the slices' sums added in rank order, so
   * clipping and skipping decide identically on every rank. With `shard`, `stateDict()`,
   * `save()` and `saveSync()` are collective (every rank calls them; the state is consolidated,
   * and `save` writes on rank 0 only), and the file loads at any world size, 1 included.
   * Not for LAMB (per-tensor trust ratios) or schedule-free AdamW (two views of the parameters);
   * `tensorNorms()` is not available. Default false.
   */
  shard?: boolean;
}

/**
 * The CUDA stream of an optimizer: every step, copy (setGrads, readParams, …) and fill it
 * makes is enqueued there, in call order.
 * - `'shared'` (default): the device's shared non-blocking stream, one per device for the
 *   process. Every optimizer on it runs in the order its work was enqueued, whatever the
 *   optimizer; waiting for one (reading a StepInfo field, readParams) also waits for what other
 *   optimizers enqueued before.
 * - `'own'`: a non-blocking stream created for this optimizer and destroyed by `dispose()`.
 *   Steps of different optimizers may overlap on the device, and waiting for one optimizer
 *   never waits for another. Nothing orders it against other optimizers' streams.
 * - `{ priority }`: an own stream with that CUDA stream priority (lower is higher, 0 the default;
 *   clamped to the device's range, typically -5..0), for example a small optimizer whose steps
 *   should overtake a large one's.
 * Neither kind waits for the legacy default stream.
 */
export type CudaStreamOption = 'shared' | 'own' | { priority: number };

export interface StepInfo extends StepResult {
  /** 0-based iteration of this step (the schedule was evaluated here). */
  iteration: number;
  /** The learning rate used. */
  lr: number;
}

/**
 * One parameter tensor given at construction: its initial values (copied into the arena), or
 * its length (zeros).
 */
export type ParamInit = Float32Array | number;

/**
 * A parameter group, PyTorch's `param_groups` semantics: its tensors, and any hyperparameter
 * of the rule (`lr` included, a number or a schedule) that differs from the optimizer's
 * defaults. The gradient options (`maxGradNorm`, `gradScale`, `skipNonFinite`) are global.
 */
export type ParamGroup<O extends object = Record<string, unknown>> = { params: readonly ParamInit[]; lr?: LearningRate } & Omit<
  O,
  'lr' | keyof GradientOptions
>;

/** What `opt.groups[i]` tells about a group. */
export interface GroupInfo {
  /** Index of the group. */
  index: number;
  /** Indices of the group's tensors in `opt.params` / `opt.grads` (consecutive). */
  tensors: readonly number[];
  /** The group's learning rate: a number or a schedule. */
  lr: LearningRate;
  /** The group's resolved hyperparameters besides `lr`. */
  hyperparameters: Readonly<Record<string, HyperValue>>;
}

const COMMON_KEYS = ['threads', 'device', 'traceCapacity', 'stream', 'comm', 'shard', 'broadcastParams'];


interface Group {
  tensors: number[];
  lr: LearningRate;
  hyper: Record<string, HyperValue>;
  /** The rule's host-side state (RuleSpec.host), or null. */
  host: Record<string, number> | null;
}

/** Resolves a device spec to the addon's form ('cpu' | 'cuda:N') and says why. */
export function resolveDevice(name: string, spec: unknown, defaultOrdinal = 0): string {
  if (spec === undefined || spec === 'cpu') return 'cpu';
  if (typeof spec !== 'string') throw v.typeError(name, "'auto', 'cpu', 'cuda' or 'cuda:N'", spec);
  const info = loadNative().buildInfo();
  if (spec === 'auto') return info.cuda.available ? `cuda:${defaultOrdinal % info.cuda.devices.length}` : 'cpu';
  // Test hook (native/addon/test_backend.h): a CPU arena with lazy outcomes, as on CUDA.
  if (spec === 'test:lazy-cpu' && process.env.FUSED_OPTIM_TEST_HOOKS === '1') return spec;
  const m = /^cuda(?::(\d+))?$/.exec(spec);
  if (!m) throw v.rangeError(name, "'auto', 'cpu', 'cuda' or 'cuda:N'", spec);
  if (!info.cuda.available) {
    throw new RangeError(`Expected a usable CUDA device for ${name} = '${spec}' but CUDA is unavailable: ${info.cuda.reason}`);
  }
  const ordinal = m[1] === undefined ? defaultOrdinal % info.cuda.devices.length : Number(m[1]);
  if (ordinal >= info.cuda.devices.length) {
    throw v.rangeError(name, `a CUDA device index below ${info.cuda.devices.length}`, spec);
  }
  return `cuda:${ordinal}`;
}

/** Resolves the `stream` option to the addon's arguments (mode, priority). */
function resolveStream(name: string, spec: unknown): ['shared' | 'own', number | undefined] {
  if (spec === undefined || spec === 'shared') return ['shared', undefined];
  if (spec === 'own') return ['own', undefined];
  if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    const keys = Object.keys(spec);
    const extra = keys.find((k) => k !== 'priority');
    if (extra !== undefined) throw v.rangeError(`${name}.${extra}`, 'no such key (only priority)', (spec as Record<string, unknown>)[extra]);
    return ['own', v.integer(`${name}.priority`, (spec as { priority?: unknown }).priority, -1000, 1000)];
  }
  if (typeof spec === 'string') throw v.rangeError(name, "'shared', 'own' or { priority }", spec);
  throw v.typeError(name, "'shared', 'own' or { priority }", spec);
}

/**
 * The machinery every optimizer class shares: the arena, parameter groups, stepping, the
 * trace and checkpoints. A subclass names its rule spec.
 */
export abstract class FusedOptimizer<H extends object = Record<string, unknown>> implements Disposable {
  readonly #native: NativeOptimizer;
  readonly #spec: RuleSpec;
  readonly #name: string;
  readonly #kind: OptimizerKind;
  readonly #lengths: number[];
  readonly #groups: Group[];
  #gradient: ResolvedGradient;
  readonly #hp: Float64Array;
  readonly #out = new Float64Array(OUT.count);
  readonly #outAsync = new Float64Array(OUT.count);
  readonly #traceBuf: Float64Array;
  readonly #traceCols: { l2: Float64Array; l1: Float64Array; lr: Float64Array; skipped: Float64Array };
  readonly #traceCapacity: number;
  #trace: NormTrace;
  #unread = 0;
  #iteration = 0;
  #appliedValue = 0;
  /** A device optimizer's applied-step count lives on the device: read it when asked for. */
  #appliedStale = false;
  #busy = false;
  #disposed = false;
  #last: StepInfo | null = null;
  /** Bumped when the counters are set: lazy StepInfo taken before then no longer resolve. */
  #epoch = 0;
  #params: Float32Array[] | null = null;
  #grads: Float32Array[] | null = null;
  /** Which point the parameters hold, for rules with `trainEvalModes` (always 'train' otherwise). */
  #mode: 'train' | 'eval' = 'train';
  /** The data-parallel communicator (options.comm), or null. */
  readonly #comm: MpiCommunicator | null;
  /** ZeRO-1: this rank holds the state of its slice only (options.shard). */
  readonly #shard: boolean;
  /** The MPI channel of a distributed optimizer (its own duplicate of the world), or -1. */
  readonly #channel: number = -1;

  protected constructor(kind: OptimizerKind, params: unknown, options: unknown) {
    const spec = RULES[kind] as unknown as RuleSpec;
    this.#spec = spec;
    this.#name = spec.className;
    this.#kind = kind;
    const o = (v.options('options', options) as Record<string, unknown>);
    rejectUnknown(o, [...groupKeys(spec), ...GRADIENT_KEYS, ...COMMON_KEYS], 'options');
    const defaults = resolveHyper(spec, o, 'options', spec.defaults);
    const defaultLr = o.lr === undefined ? spec.defaultLr : resolveLearningRate('options.lr', o.lr);
    this.#gradient = resolveGradient(o, 'options');
    const { lengths, groups, inits } = parseParams(spec, params, defaults, defaultLr);
    this.#lengths = lengths;
    this.#groups = groups;
    // The `lengths` getter hands this array out: frozen, so a caller cannot desynchronise it
    // from the native layout.
    Object.freeze(this.#lengths);
    const threads = o.threads === undefined ? 0 : v.integer('options.threads', o.threads, 1, 256);
    this.#traceCapacity =
      o.traceCapacity === undefined ? defaultTraceCapacity(this.#lengths) : v.integer('options.traceCapacity', o.traceCapacity, 0, 1 << 24);
    this.#comm = o.comm === undefined ? null : checkComm('options.comm', o.comm);
    // A CUDA arena with comm all-reduces with NCCL: without it, say so first (whether or not
    // CUDA itself is usable here).
    if (this.#comm !== null && typeof o.device === 'string' && o.device.startsWith('cuda')) requireNccl('options.comm', o.device);
    // With comm, 'cuda' and 'auto' pick this rank's GPU on its node (local rank modulo the
    // device count), as one process per GPU needs.
    const device = resolveDevice('options.device', o.device, this.#comm?.localRank ?? 0);
    if (this.#comm !== null && device.startsWith('cuda')) requireNccl('options.comm', device);
    const [stream, priority] = resolveStream('options.stream', o.stream);
    this.#shard = o.shard === undefined ? false : v.boolean('options.shard', o.shard);
    const broadcastParams = o.broadcastParams === undefined ? true : v.boolean('options.broadcastParams', o.broadcastParams);
    if (o.broadcastParams !== undefined && this.#comm === null) throw v.rangeError('options.broadcastParams', 'to be left out without options.comm', o.broadcastParams);
    if (this.#shard) {
      if (this.#comm === null) throw v.rangeError('options.shard', 'false without options.comm (sharding splits the state across the ranks of a communicator)', true);
      if (kind === 'lamb' || spec.trainEvalModes) {
        throw v.rangeError('options.shard', `false for ${spec.className} (${kind === 'lamb' ? 'its per-tensor trust ratios need whole tensors' : 'its train/eval switch needs the whole state'})`, true);
      }
      if (device !== 'cpu') {
        throw v.rangeError('options.shard', `false on device '${device}' (ZeRO-1 sharding is built for CPU arenas only; a CUDA arena with comm is data-parallel with NCCL, each rank holding the whole state)`, true);
      }
    }
    const addon = loadNative();
    const tensorGroup = new Float64Array(lengths.length);
    groups.forEach((g, gi) => g.tensors.forEach((t) => (tensorGroup[t] = gi)));
    this.#hp = new Float64Array(hpLength(groups.length));
    let channel: number | undefined;
    if (this.#comm !== null) {
      checkSameLayout(this.#comm, spec, lengths, tensorGroup, groups.length, this.#shard, device.startsWith('cuda'));
      channel = this.#comm.openChannel();
    }
    try {
      this.#native = new addon.Optimizer(spec.native.code, Float64Array.from(lengths), tensorGroup, groups.length, device, this.#traceCapacity, threads, stream, priority, this.#shard, channel);
    } catch (e) {
      // The other ranks may have built theirs: leaving makes their first step fail with
      // ERR_FUSED_OPTIM_RANK_LEFT instead of waiting for this rank.
      if (channel !== undefined) this.#comm?.leave(channel);
      throw e;
    }
    this.#channel = channel ?? -1;
    if (this.#comm !== null && device.startsWith('cuda')) {
      try {
        attachNccl(this.#comm, this.#native, `new ${spec.className}()`);
      } catch (e) {
        this.#native.dispose(); // leaves the channel too
        throw e;
      }
    }
    const batch = Math.max(1, this.#traceCapacity);
    this.#traceBuf = new Float64Array(batch * TRACE_FIELDS);
    this.#traceCols = {
      l2: new Float64Array(batch),
      l1: new Float64Array(batch),
      lr: new Float64Array(batch),
      skipped: new Float64Array(batch),
    };
    this.#trace = new NormTrace({ kind, capacity: Math.min(1024, Math.max(64, this.#traceCapacity)) });
    inits.forEach((p, i) => {
      if (p instanceof Float32Array && p.length > 0) this.#native.writeSlot(SLOT.params, i, p);
    });
    for (const g of groups) {
      g.host = spec.host ? spec.host.init(g.hyper) : null;
      const init = spec.stateInit?.(g.hyper) ?? [];
      init.forEach((value, k) => {
        if (value === 0) return;
        for (const t of g.tensors) if (lengths[t] > 0) this.#native.writeSlot(SLOT.firstState + k, t, new Float32Array(lengths[t]).fill(value));
      });
    }
    if (this.#comm !== null && broadcastParams) {
      try {
        this.#broadcastParams(this.#comm);
      } catch (e) {
        this.#native.dispose(); // leaves the channel
        throw e;
      }
    }
  }

  /** Rank 0's parameters to every rank (construction, `broadcastParams`): a rendezvous, then one MPI_Bcast of every tensor packed. */
  #broadcastParams(comm: MpiCommunicator): void {
    const all = new Float32Array(this.#lengths.reduce((a, b) => a + b, 0));
    const native = this.#native;
    const each = (fn: (t: number, view: Float32Array) => void): void => {
      let at = 0;
      this.#lengths.forEach((n, t) => {
        if (n > 0) fn(t, all.subarray(at, at + n));
        at += n;
      });
    };
    if (comm.rank === 0) each((t, view) => native.readSlot(SLOT.params, t, view));
    comm.header(this.#channel, 4, 0);
    comm.channelBroadcast(this.#channel, all, 0);
    if (comm.rank !== 0) each((t, view) => native.writeSlot(SLOT.params, t, view));
  }

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

  /** Whether this rank holds only its slice of the state (options.shard, ZeRO-1). */
  get sharded(): boolean {
    this.#alive();
    return this.#shard;
  }

  /** The data-parallel communicator given as `options.comm`, or null. */
  get comm(): Communicator | null {
    this.#alive();
    return this.#comm;
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
   * when the optimizer is disposed: copy what you want to keep with `readParams`. (A buffer
   * moved out with `ArrayBuffer.prototype.transfer()` keeps the memory it took, until it is
   * collected.)
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

  /** The learning rate of the first group: a number or a schedule of the iteration. */
  get lr(): LearningRate {
    this.#alive();
    return this.#groups[0].lr;
  }

  /** Sets the learning rate of every group (`setOptions({ lr }, { group })` sets one). */
  set lr(value: LearningRate) {
    this.live();
    const lr = resolveLearningRate('lr', value);
    for (const g of this.#groups) g.lr = lr;
  }

  /** The learning rate the next step will use in the first group. */
  get currentLr(): number {
    this.#alive();
    return this.#lrAt(0, this.#iteration);
  }

  /**
   * The parameter groups, in order: each one's tensor indices, learning rate and resolved
   * hyperparameters (snapshots; change them with `setOptions`).
   */
  get groups(): readonly GroupInfo[] {
    this.#alive();
    return Object.freeze(
      this.#groups.map((g, index) =>
        Object.freeze({ index, tensors: Object.freeze([...g.tensors]), lr: g.lr, hyperparameters: Object.freeze({ ...g.hyper }) }),
      ),
    );
  }

  /**
   * The hyperparameters of the first group with its current lr, and the global gradient
   * options (`groups` lists every group).
   */
  get hyperparameters(): Readonly<H> {
    this.#alive();
    return { ...this.#gradient, ...this.#groups[0].hyper, lr: this.currentLr } as unknown as H;
  }

  /**
   * Changes hyperparameters for the following steps, validated like the constructor; nothing
   * changes when a value is refused. Without `target`, rule hyperparameters and `lr` apply to
   * every group; with `{ group: i }` to group i only. The gradient options and `threads` are
   * global and cannot target a group.
   */
  setOptions(options: Partial<H> & { lr?: LearningRate; threads?: number }, target?: { group: number }): void {
    const native = this.live();
    const spec = this.#spec;
    const o = (v.options('options', options) as Record<string, unknown>);
    rejectUnknown(o, [...groupKeys(spec), ...GRADIENT_KEYS, 'threads'], 'options');
    let which = this.#groups.map((_, i) => i);
    if (target !== undefined) {
      const t = (v.options('target', target) as Record<string, unknown>);
      rejectUnknown(t, ['group'], 'target');
      const gi = v.integer('target.group', t.group, 0, this.#groups.length - 1);
      for (const key of [...GRADIENT_KEYS, 'threads']) {
        if (o[key] !== undefined) {
          throw new RangeError(
            `options.${key} is global (it applies to the gradient of all groups together); call setOptions without a target group`,
          );
        }
      }
      which = [gi];
    }
    const gradient = resolveGradient(o, 'options', this.#gradient);
    const lr = o.lr === undefined ? undefined : resolveLearningRate('lr', o.lr);
    const hyper = which.map((gi) => resolveHyper(spec, o, 'options', this.#groups[gi].hyper));
    const threads = o.threads === undefined ? undefined : v.integer('threads', o.threads, 1, 256);
    // Validated: apply.
    if (threads !== undefined) native.setThreads(threads);
    this.#gradient = gradient;
    which.forEach((gi, k) => {
      this.#groups[gi].hyper = hyper[k];
      if (lr !== undefined) this.#groups[gi].lr = lr;
    });
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

  #lrAt(group: number, iteration: number): number {
    const lr = this.#groups[group].lr;
    if (typeof lr === 'number') return lr;
    const of = this.#groups.length > 1 ? ` of group ${group}` : '';
    let value: unknown;
    try {
      value = lr(iteration);
    } catch (err) {
      throw new Error(`fused-optim: the lr schedule${of} threw at iteration ${iteration}; no step was taken`, { cause: err });
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw v.rangeError(`the value of the lr schedule${of} at iteration ${iteration}`, 'a finite number >= 0', value);
    }
    return v.float32Finite(`the value of the lr schedule at iteration ${iteration}`, value);
  }

  /** Packs this step's hyperparameters into `hp`; returns every group's lr (the first is the step's). */
  #pack(hp: Float64Array, iteration: number): number[] {
    if (this.#mode === 'eval') {
      throw new Error(
        `fused-optim: this ${this.#name} optimizer is in eval mode (its parameters hold the evaluation point x, not the point y gradients are taken at); call train() before step()`,
      );
    }
    const lrs = this.#groups.map((_, gi) => this.#lrAt(gi, iteration)); // all evaluated before anything is written
    const host = this.#spec.host;
    // A rule with host state derives its constants from the applied-step count (on a device,
    // reading it waits for the previous step).
    const t = host ? this.#applied + 1 : 0;
    packHeader(hp, this.#gradient, this.#groups.length, 0);
    // Data parallel: the gradient slot will hold the sum over ranks; averaging is folded into
    // the unscale factor, so the step stays one read of the gradient.
    if (this.#comm !== null) hp[HP.gradScale] = this.#gradient.gradScale / this.#comm.size;
    this.#groups.forEach((g, gi) => {
      const derived = host ? host.derive(g.hyper, lrs[gi], t, g.host ?? {}) : undefined;
      packGroup(this.#spec, g.hyper, lrs[gi], hp, HP.header + gi * HP.groupStride, derived);
    });
    return lrs;
  }

  /** After a step: advances the rules' host state unless the step was skipped. */
  #advanceHost(info: StepInfo, lrs: number[]): void {
    const host = this.#spec.host;
    if (!host || info.skipped) return; // on a device, reading `skipped` waits for the step
    const t = this.#applied;
    this.#groups.forEach((g, gi) => {
      g.host = host.advance(g.hyper, lrs[gi], t, g.host ?? {});
    });
  }

  /**
   * Internal (rules whose parameters have two views, e.g. schedule-free AdamW's train/eval):
   * for every tensor, slot `dst` = dst + weights[group] · (src − dst), in fp32, on the device
   * the arena lives on.
   */
  protected lerpSlots(dst: number, src: number, weights: readonly number[]): void {
    this.live().lerpSlot(dst, src, Float64Array.from(weights));
  }

  /** Internal (subclasses): the spec of this optimizer's rule and a group's host state. */
  protected hostState(group: number): Readonly<Record<string, number>> | null {
    this.#alive();
    return this.#groups[group].host;
  }

  /**
   * Internal (rules with `trainEvalModes`): the point the parameters hold. Saved in
   * checkpoints; `step()` throws in `'eval'`. The subclass moves the parameters and then sets it.
   */
  protected get pointMode(): 'train' | 'eval' {
    return this.#mode;
  }

  /** Internal: records the point the subclass has just moved the parameters to. */
  protected set pointMode(mode: 'train' | 'eval') {
    this.live();
    if (!this.#spec.trainEvalModes) throw new Error(`fused-optim: ${this.#name} has no eval mode`);
    this.#mode = mode;
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
    let info: StepInfo;
    if (lazy) {
      const epoch = this.#epoch;
      info = lazyStepInfo<StepInfo>(this.#native, this.#name, iteration, lr, () => epoch === this.#epoch);
    } else {
      info = { ...readOutcome(out), iteration, lr };
    }
    this.#iteration = iteration + 1;
    if (lazy) this.#appliedStale = true;
    else this.#applied = out[OUT.applied];
    this.#last = info;
    if (this.#traceCapacity > 0 && ++this.#unread >= this.#traceCapacity / 2) this.#drainTrace();
    return info;
  }

  /** Refuses a step whose iteration count a checkpoint could not record exactly. */
  #checkCounter(iteration: number): void {
    if (iteration >= Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `fused-optim: this ${this.#name} optimizer has taken ${iteration} steps, the most its counters (and a checkpoint) can hold exactly (Number.MAX_SAFE_INTEGER); no step was taken`,
      );
    }
  }

  /** One fused step over every tensor. Returns the step's norms, clip coefficient and skip flag. */
  step(): StepInfo {
    const native = this.live();
    const iteration = this.#iteration;
    this.#checkCounter(iteration);
    const lrs = this.#pack(this.#hp, iteration);
    const comm = this.#comm;
    if (comm === null) native.step(this.#hp, this.#out);
    else {
      comm.begin(`${this.#name}.step()`);
      try {
        native.step(this.#hp, this.#out, iteration);
      } catch (e) {
        throw asDistributedError(e);
      } finally {
        comm.end();
      }
    }
    const info = this.#finish(this.#out, lrs[0], iteration);
    this.#advanceHost(info, lrs);
    return info;
  }

  /**
   * The same step on a worker thread, leaving the event loop free. One at a time: a second
   * call while one is in flight rejects, as does every other method of this optimizer.
   */
  async stepAsync(): Promise<StepInfo> {
    const native = this.live();
    const iteration = this.#iteration;
    this.#checkCounter(iteration);
    const hp = new Float64Array(this.#hp.length);
    const lrs = this.#pack(hp, iteration);
    const comm = this.#comm;
    // On CUDA the all-reduce is NCCL's, enqueued from the worker thread: no MPI call there.
    if (comm !== null && !comm.canAsync) {
      throw new Error(
        `fused-optim: ${this.#name}.stepAsync() with a communicator needs MPI_THREAD_SERIALIZED or better (its rendezvous and all-reduce run on a libuv thread) but this MPI provides '${comm.threadLevel}'; use step()`,
      );
    }
    comm?.begin(`${this.#name}.stepAsync()`);
    this.#busy = true;
    try {
      // With a communicator, the all-reduce runs on the worker thread before the step.
      await native.stepAsync(hp, this.#outAsync, comm !== null ? iteration : undefined);
    } catch (e) {
      throw asDistributedError(e);
    } finally {
      this.#busy = false;
      comm?.end();
    }
    if (this.#disposed) throw new Error(`fused-optim: this ${this.#name} optimizer was disposed during stepAsync()`);
    const info = this.#finish(this.#outAsync, lrs[0], iteration);
    this.#advanceHost(info, lrs);
    return info;
  }

  /** Per-tensor L2 and L1 norms of the last step's (unscaled, unclipped) gradient. */
  tensorNorms(): { l2: Float64Array; l1: Float64Array } {
    const native = this.live();
    if (this.#shard) throw new Error(`fused-optim: tensorNorms() is not available on a sharded (options.shard) ${this.#name}: each rank reduces only its slice`);
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
    const state: Record<string, Float32Array[]> = {};
    // Sharded: each rank read its slice and zeros elsewhere; the sum over ranks is the whole
    // state, exactly (x + 0 = x). A collective: every rank calls stateDict().
    if (this.#shard) (this.#comm as MpiCommunicator).header(this.#channel, 2, this.#iteration);
    this.#spec.stateNames.forEach((key, k) => {
      state[key] = read(SLOT.firstState + k);
      if (this.#shard) for (const a of state[key]) if (a.length > 0) (this.#comm as MpiCommunicator).channelAllreduceSum(this.#channel, a);
    });
    let trace: OptimizerStateDict['trace'] = null;
    if (this.#traceCapacity > 0) {
      this.#drainTrace();
      const t = this.#trace;
      trace = { l2: t.l2.slice(), l1: t.l1.slice(), skipped: t.skipped.slice(), lr: t.lr.slice() };
    }
    let nextLr: number | null = null;
    try {
      nextLr = this.#lrAt(0, this.#iteration);
    } catch {
      /* informative only */
    }
    const groups: CheckpointGroup[] = this.#groups.map((g) => ({
      tensors: [...g.tensors],
      hyperparameters: { ...g.hyper },
      lr: typeof g.lr === 'number' ? g.lr : null,
      ...(g.host !== null && { hostState: { ...g.host } }),
    }));
    return {
      format: STATE_DICT_FORMAT,
      version: CHECKPOINT_VERSION,
      kind: this.#kind,
      lengths: [...this.#lengths],
      iteration: this.#iteration,
      appliedSteps: this.#applied,
      hyperparameters: { ...this.#gradient, ...this.#groups[0].hyper },
      lr: groups[0].lr,
      nextLr,
      groups,
      params: read(SLOT.params),
      state,
      trace,
      ...(this.#spec.trainEvalModes && { mode: this.#mode }),
    };
  }

  /**
   * Restores a state dict from `stateDict()` (or `readCheckpoint`). Everything is validated
   * before anything is written: a state of another kind, tensor count, tensor lengths or group
   * structure, or with a bad value, throws a TypeError/RangeError naming the field and leaves
   * this optimizer as it was. Restores parameters, state, counters, hyperparameters (every
   * group's), the lr of each group whose lr was a number (a group saved with a schedule
   * requires this optimizer's group to have a schedule: pass the same one), and the trace (the
   * native ring's unread records are discarded). Gradients are left as they are.
   */
  loadStateDict(state: OptimizerStateDict): void {
    this.#load(state, 'state', null);
  }

  #load(state: unknown, name: string, source: string | null): void {
    const native = this.live();
    const spec = this.#spec;
    let s: OptimizerStateDict;
    let gradient: ResolvedGradient;
    let hypers: Record<string, HyperValue>[];
    let savedLrs: (number | null)[];
    let hostStates: (Record<string, number> | null)[];
    let trace: NormTrace | null = null;
    let mode: 'train' | 'eval' = 'train';
    try {
      s = checkStateDict(state, { kind: this.#kind, lengths: this.#lengths, optimizer: this.#name }, name);
      const structure = s.groups ?? [{ tensors: this.#lengths.map((_, i) => i) }];
      if (structure.length !== this.#groups.length || structure.some((g, gi) => g.tensors.join(',') !== this.#groups[gi].tensors.join(','))) {
        const shape = (gs: readonly { tensors: readonly number[] }[]): string => gs.map((g) => `[${g.tensors.join(',')}]`).join(' ');
        throw new RangeError(
          `Expected ${name}.groups to have this ${this.#name} optimizer's group structure (${this.#groups.length} group${this.#groups.length === 1 ? '' : 's'}: tensors ${shape(this.#groups)}) but it has ${structure.length}: tensors ${shape(structure)}`,
        );
      }
      // One group: the top-level hyperparameters and lr are authoritative (groups[0] repeats
      // them); several: each group's.
      const perGroup = s.groups !== null && this.#groups.length > 1;
      const saved = perGroup
        ? (s.groups as CheckpointGroup[]).map((g, gi) => ({ at: `${name}.groups[${gi}]`, hyperparameters: g.hyperparameters, lr: g.lr }))
        : [{ at: name, hyperparameters: s.hyperparameters, lr: s.lr }];
      gradient = resolveGradient(s.hyperparameters as Record<string, unknown>, `${name}.hyperparameters`, this.#gradient);
      hypers = saved.map((g, gi) => {
        const prefix = `${g.at}.hyperparameters`;
        const h = g.hyperparameters as Record<string, unknown>;
        rejectUnknown(h, [...Object.keys(spec.defaults), ...(perGroup ? [] : GRADIENT_KEYS)], prefix);
        return resolveHyper(spec, h, prefix, this.#groups[gi].hyper);
      });
      saved.forEach((g, gi) => {
        const lr = this.#groups[gi].lr;
        if (g.lr === null && typeof lr === 'number') {
          const whose = perGroup ? `optimizer's group ${gi}` : 'optimizer';
          throw new RangeError(
            `Expected this ${this.#name} ${whose} to have an lr schedule because ${g.at}.lr is null (it was saved with a schedule, which is not serialised) but its lr is the number ${lr}; construct it with the same schedule, or set its lr after loading`,
          );
        }
      });
      savedLrs = saved.map((g) => g.lr);
      hostStates = this.#groups.map((g, gi) => {
        if (!spec.host) return null;
        const h = s.groups?.[gi]?.hostState;
        const at = `${name}.groups[${gi}].hostState`;
        if (h === undefined || h === null) throw v.typeError(at, `the ${this.#name} rule's host state (saved by stateDict())`, h);
        const init = spec.host.init(g.hyper);
        const o = v.readOptions(at, h, Object.keys(init));
        const out: Record<string, number> = {};
        for (const key of Object.keys(init)) out[key] = v.finite(`${at}.${key}`, o[key] ?? init[key]);
        return out;
      });
      if (s.mode !== undefined) {
        if (!spec.trainEvalModes) throw v.rangeError(`${name}.mode`, `undefined (${this.#name} has no eval mode)`, s.mode);
        mode = s.mode; // checked by checkStateDict
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
    spec.stateNames.forEach((key, k) => write(SLOT.firstState + k, s.state[key]));
    this.#drainTrace(); // discard the records of the run being replaced
    this.setCounters(s.iteration, s.appliedSteps);
    this.#gradient = gradient;
    this.#groups.forEach((g, gi) => {
      g.hyper = hypers[gi];
      g.host = hostStates[gi];
      const lr = savedLrs[gi];
      if (lr !== null) g.lr = lr;
    });
    this.#trace = trace ?? new NormTrace({ kind: this.#kind });
    this.#mode = mode;
    this.#last = null;
  }

  /**
   * Saves a checkpoint file (docs/checkpoint-format.md), atomically: temporary file in the same
   * directory, fsync, rename. The state is snapshotted when `save` is called; stepping while
   * the file is written does not change what is written.
   */
  async save(path: string): Promise<void> {
    const state = this.stateDict();
    if (this.#shard) {
      // Collective: every rank consolidated the state; rank 0 writes, then every rank waits for it.
      let err: unknown = null;
      if ((this.#comm as MpiCommunicator).rank === 0) await writeCheckpoint(path, state).catch((e: unknown) => (err = e));
      this.#afterShardedWrite(err);
      return;
    }
    await writeCheckpoint(path, state);
  }

  /**
   * After rank 0 wrote a sharded optimizer's consolidated checkpoint: every rank waits for it
   * and learns whether it failed (rank 0 throws its own error, the others say so).
   */
  #afterShardedWrite(err: unknown): void {
    const comm = this.#comm as MpiCommunicator;
    comm.header(this.#channel, 3, this.#iteration);
    const failed = new Float32Array([err === null ? 0 : 1]);
    comm.channelAllreduceSum(this.#channel, failed);
    if (err !== null) throw err;
    if (failed[0] !== 0) throw new Error(`fused-optim: rank 0 failed to write the checkpoint of this sharded ${this.#name} (its error is on rank 0)`);
  }

  /** {@link FusedOptimizer.save}, synchronously. */
  saveSync(path: string): void {
    const state = this.stateDict();
    if (this.#shard) {
      let err: unknown = null;
      if ((this.#comm as MpiCommunicator).rank === 0) {
        try {
          writeCheckpointSync(path, state);
        } catch (e) {
          err = e;
        }
      }
      this.#afterShardedWrite(err);
      return;
    }
    writeCheckpointSync(path, state);
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

  /** The same as {@link FusedOptimizer.dispose}, for `using` declarations. */
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
    this.#epoch++;
    this.#iteration = iteration;
    this.#applied = applied;
  }
}

/** 32-bit FNV-1a over a list of integers (each as 4 bytes): the layout's fingerprint. */
function fnv1a(values: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const x of values) {
    for (let k = 0; k < 4; k++) {
      h ^= (Math.floor(x / 2 ** (8 * k)) & 0xff) >>> 0;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/**
 * Checks that every rank built the same arena (rule, tensor lengths, groups) with one
 * all-reduce of [x, −x] under MIN: a mismatch throws the same RangeError on every rank instead
 * of letting the step's all-reduce mix unrelated gradients (or hang on different sizes).
 */
function checkSameLayout(comm: MpiCommunicator, spec: RuleSpec, lengths: readonly number[], tensorGroup: Float64Array, groups: number, shard: boolean, cuda: boolean): void {
  const total = lengths.reduce((a, b) => a + b, 0);
  // The arena kind is part of the fingerprint: a CUDA arena all-reduces with NCCL, a CPU arena with MPI, and mixing them would pair unrelated collectives.
  const hash = fnv1a([spec.native.code, groups, (shard ? 1 : 0) + (cuda ? 2 : 0), lengths.length, ...lengths, ...tensorGroup]);
  const mine = [total, lengths.length, hash];
  const buf = Float64Array.from([...mine, ...mine.map((x) => -x)]);
  comm.allreduce(buf, 'min');
  const n = mine.length;
  if (mine.some((_, i) => buf[i] !== -buf[i + n])) {
    throw new RangeError(
      `Expected the same arena layout on every rank for options.comm but the ranks differ: this rank (${comm.rank} of ${comm.size}) has a ${spec.className}${shard ? ' (sharded)' : ''}${cuda ? ' on CUDA (NCCL)' : ' on the CPU'} of ${lengths.length} tensors, ${total} parameters, layout fingerprint ${hash.toString(16)}; across ranks the parameter count ranges ${buf[0]}..${-buf[n]} and the tensor count ${buf[1]}..${-buf[n + 1]}`,
    );
  }
}

/**
 * The default trace ring: 64 records per 4K parameters, a power of two in [64, 4096]. A small
 * optimizer steps fast and a drain every 32 steps costs it little; a large one keeps 4096.
 */
function defaultTraceCapacity(lengths: readonly number[]): number {
  const n = lengths.reduce((a, b) => a + b, 0);
  return Math.min(4096, Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, n / 64)))));
}

function resolveLearningRate(name: string, lr: unknown): LearningRate {
  if (typeof lr === 'function') return lr as Schedule;
  if (typeof lr === 'number') return v.float32Finite(name, v.nonNegative(name, lr));
  throw v.typeError(name, 'a finite number >= 0 or a schedule function', lr);
}

function isGroup(p: unknown): boolean {
  return p !== null && typeof p === 'object' && !ArrayBuffer.isView(p) && !Array.isArray(p);
}

/**
 * Reads the constructor's `params`: a list of tensors (one group) or a list of groups. Returns
 * the tensors' lengths and initial values in group order, and each group's resolved settings.
 */
function parseParams(
  spec: RuleSpec,
  params: unknown,
  defaults: Record<string, HyperValue>,
  defaultLr: LearningRate,
): { lengths: number[]; groups: Group[]; inits: ParamInit[] } {
  if (!Array.isArray(params)) throw v.typeError('params', 'an array of tensors (Float32Array or lengths) or of parameter groups', params);
  if (params.length === 0) throw v.rangeError('params', 'at least one tensor', params);
  const grouped = params.map(isGroup);
  if (grouped.some((g) => g !== grouped[0])) {
    const i = grouped.indexOf(!grouped[0]);
    throw v.typeError(`params[${i}]`, grouped[0] ? 'a parameter group like params[0]' : 'a Float32Array or a length like params[0]', params[i]);
  }
  const lengths: number[] = [];
  const inits: ParamInit[] = [];
  const seen = new Map<Float32Array, string>();
  const tensor = (name: string, p: unknown): void => {
    if (p instanceof Float32Array) {
      if (p.length === 0 && v.isDetachedBuffer(p.buffer)) {
        throw new RangeError(`Expected an attached Float32Array for ${name} but received a Float32Array whose buffer is detached (transferred)`);
      }
      const first = seen.get(p);
      if (first !== undefined) throw new RangeError(`Expected every tensor once but ${name} is the same Float32Array as ${first}`);
      seen.set(p, name);
      lengths.push(p.length);
    } else if (typeof p === 'number') {
      lengths.push(v.integer(name, p, 0, 2 ** 40));
    } else {
      throw v.typeError(name, 'a Float32Array or a length', p);
    }
    inits.push(p as ParamInit);
  };
  if (!grouped[0]) {
    params.forEach((p, i) => tensor(`params[${i}]`, p));
    return { lengths, inits, groups: [{ tensors: lengths.map((_, i) => i), lr: defaultLr, hyper: defaults, host: null }] };
  }
  const global = [...GRADIENT_KEYS, ...COMMON_KEYS];
  const groups = params.map((raw, gi): Group => {
    const at = `params[${gi}]`;
    const g = (v.options(at, raw) as Record<string, unknown>);
    for (const key of global) {
      if (g[key] !== undefined) {
        throw new RangeError(`${at}.${key} cannot be set per group: it is global (set it in the optimizer's options)`);
      }
    }
    rejectUnknown(g, ['params', ...groupKeys(spec)], at);
    if (!Array.isArray(g.params)) throw v.typeError(`${at}.params`, 'an array of tensors (Float32Array or lengths)', g.params);
    if (g.params.length === 0) throw v.rangeError(`${at}.params`, 'at least one tensor (an empty group)', g.params);
    const first = lengths.length;
    (g.params as unknown[]).forEach((p, j) => tensor(`${at}.params[${j}]`, p));
    return {
      tensors: Array.from({ length: lengths.length - first }, (_, k) => first + k),
      lr: g.lr === undefined ? defaultLr : resolveLearningRate(`${at}.lr`, g.lr),
      hyper: resolveHyper(spec, g, at, defaults),
      host: null,
    };
  });
  return { lengths, inits, groups };
}
