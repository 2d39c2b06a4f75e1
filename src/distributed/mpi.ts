/**
 * The MPI communicator behind `fused-optim/distributed` (the public surface is `./index.ts`;
 * the optimizer classes use the internal methods here).
 */
import { isMainThread } from 'node:worker_threads';

import { loadNative, type NativeOptimizer } from '../native.js';
import * as v from '../validate.js';

/** Why `init()` or a distributed operation failed; `code` says which case. */
export class DistributedError extends Error {
  /**
   * - `ERR_FUSED_OPTIM_NO_LAUNCHER`: the process was not started by an MPI launcher (mpirun, srun);
   * - `ERR_FUSED_OPTIM_NO_MPI`: no usable libmpi (missing, or not Open MPI);
   * - `ERR_FUSED_OPTIM_MPI_THREAD`: called from a worker thread;
   * - `ERR_FUSED_OPTIM_MPI`: MPI itself failed, or the communicator is closed or busy;
   * - `ERR_FUSED_OPTIM_RANK_LEFT`: another rank disposed a distributed optimizer (or closed
   *   the communicator) that this rank still uses; that optimizer cannot step any more;
   * - `ERR_FUSED_OPTIM_MPI_MISMATCH`: the ranks called different collective methods of a
   *   distributed optimizer (a step on one, `stateDict()` on another), or are at different
   *   iterations; nothing was changed;
   * - `ERR_FUSED_OPTIM_MPI_TIMEOUT`: not every rank arrived at a collective within
   *   `timeoutMs`. MPI cannot be used again in this process (a collective cannot be cancelled):
   *   save what you need and exit; the launcher then ends the job.
   */
  readonly code: DistributedErrorCode;
  constructor(message: string, code: DistributedError['code'], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DistributedError';
    this.code = code;
  }
}

/** The `code` of a {@link DistributedError}. */
export type DistributedErrorCode =
  | 'ERR_FUSED_OPTIM_NO_LAUNCHER'
  | 'ERR_FUSED_OPTIM_NO_MPI'
  | 'ERR_FUSED_OPTIM_MPI_THREAD'
  | 'ERR_FUSED_OPTIM_MPI'
  | 'ERR_FUSED_OPTIM_RANK_LEFT'
  | 'ERR_FUSED_OPTIM_MPI_MISMATCH'
  | 'ERR_FUSED_OPTIM_MPI_TIMEOUT';

/** The codes the addon's collectives raise. */
const NATIVE_CODES = new Set<string>(['ERR_FUSED_OPTIM_MPI', 'ERR_FUSED_OPTIM_RANK_LEFT', 'ERR_FUSED_OPTIM_MPI_MISMATCH', 'ERR_FUSED_OPTIM_MPI_TIMEOUT']);

/** @internal A native collective's error as a {@link DistributedError}; other errors unchanged. */
export function asDistributedError(e: unknown): unknown {
  if (e instanceof DistributedError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof Error && typeof code === 'string' && NATIVE_CODES.has(code)) {
    return new DistributedError(e.message, code as DistributedErrorCode, { cause: e });
  }
  return e;
}

/** The default of {@link InitOptions.timeoutMs}: 30 minutes (PyTorch's default for its process groups). */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** Options of {@link init}. */
export interface InitOptions {
  /** The only backend today: `'mpi'` (Open MPI). */
  backend?: 'mpi';
  /**
   * Path or soname of libmpi to load instead of the default search
   * (`libmpi.so.40`, `libmpi.so.12`, `libmpi.so`, through the dynamic loader's path).
   */
  library?: string;
  /**
   * How long a collective waits for every rank to arrive before it fails with
   * `ERR_FUSED_OPTIM_MPI_TIMEOUT` instead of hanging, in milliseconds (`Infinity`: no limit).
   * Default {@link DEFAULT_TIMEOUT_MS} (30 minutes). It covers `barrier()`, `allreduce()`,
   * `allreduceSum()`, building a distributed optimizer, the start of each of its steps,
   * `stateDict()` and `save()`, and `close()`; the bulk transfers inside a step start only
   * once every rank is in it. Also settable later as `comm.timeoutMs`.
   */
  timeoutMs?: number;
}

/** MPI thread support levels, in the standard's order. */
const THREAD_LEVELS = ['single', 'funneled', 'serialized', 'multiple'] as const;

/** A communicator over every process of the MPI job (MPI_COMM_WORLD). */
export interface Communicator {
  /** This process's rank, 0 ≤ rank < size. */
  readonly rank: number;
  /** Number of processes. */
  readonly size: number;
  /**
   * This process's rank among the ranks on its node (`OMPI_COMM_WORLD_LOCAL_RANK`, set by
   * Open MPI's launcher; `rank` when unknown). An optimizer with this communicator and device
   * `'cuda'` or `'auto'` uses GPU `localRank % deviceCount`.
   */
  readonly localRank: number;
  readonly backend: 'mpi';
  /** The libmpi that was loaded, and its version string. */
  readonly library: { path: string; version: string };
  /**
   * The thread level MPI provides (`'serialized'` is requested). Below `'serialized'`,
   * `stepAsync()` with this communicator throws: its all-reduce runs on a libuv thread.
   */
  readonly threadLevel: (typeof THREAD_LEVELS)[number];
  /** True once `close()` was called (or the process is exiting). */
  readonly closed: boolean;
  /** See {@link InitOptions.timeoutMs}; settable (a positive number of milliseconds, or `Infinity`). */
  timeoutMs: number;
  /** Waits until every rank has called it. */
  barrier(): void;
  /** In-place all-reduce of doubles over every rank; returns `data`. */
  allreduce(data: Float64Array, op?: 'sum' | 'min' | 'max'): Float64Array;
  /** In-place sum of floats over every rank (MPI_FLOAT, MPI_SUM); returns `data`. */
  allreduceSum(data: Float32Array): Float32Array;
  /**
   * Copies `root`'s `data` into every rank's `data` (MPI_Bcast), e.g. a model's initial
   * weights (Horovod's `broadcast_parameters`); returns `data`. Every rank passes an array of
   * the same type and length and the same root.
   */
  broadcast<T extends Float32Array | Float64Array>(data: T, root?: number): T;
  /**
   * Finalises MPI (collective: every rank must call it). Every distributed optimizer not yet
   * disposed leaves first, and close() waits (up to `timeoutMs`) until the other ranks have
   * left them too: a rank still stepping one gets `ERR_FUSED_OPTIM_RANK_LEFT`. Safe to call
   * twice; MPI cannot be initialised again afterwards.
   */
  close(): void;
}

const DEFAULT_LIBS = ['libmpi.so.40', 'libmpi.so.12', 'libmpi.so'];

/** Environment variables an MPI launcher sets (Open MPI's mpirun, PMI/PMIx launchers such as srun and hydra). */
const LAUNCHER_ENV = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE', 'PMI_RANK'];

interface NativeMpi {
  load(paths: string[]): { path: string; version: string };
  init(): { rank: number; size: number; provided: number };
  setTimeout(ms: number): void;
  barrier(): void;
  finish(): void;
  allreduceF64(data: Float64Array, op: string): void;
  allreduceF32(data: Float32Array): void;
  broadcast(data: Float32Array | Float64Array, root: number): void;
  openChannel(): number;
  channelBroadcastF32(channel: number, data: Float32Array, root: number): void;
  header(channel: number, op: number, iteration: number): void;
  leave(channel: number): void;
  channelAllreduceF32(channel: number, data: Float32Array): void;
  threadSerialized: number;
}

function nativeMpi(): NativeMpi {
  return (loadNative() as unknown as { mpi: NativeMpi }).mpi;
}

export class MpiCommunicator implements Communicator {
  readonly backend = 'mpi' as const;
  readonly rank: number;
  readonly size: number;
  readonly localRank: number;
  readonly library: { path: string; version: string };
  readonly threadLevel: Communicator['threadLevel'];
  #closed = false;
  #busy: string | null = null;
  #timeoutMs = DEFAULT_TIMEOUT_MS;
  readonly #mpi: NativeMpi;

  constructor(mpi: NativeMpi, lib: { path: string; version: string }, w: { rank: number; size: number; provided: number }, timeoutMs: number) {
    this.#mpi = mpi;
    this.timeoutMs = timeoutMs;
    this.library = Object.freeze({ ...lib });
    this.rank = w.rank;
    this.size = w.size;
    const local = Number(process.env.OMPI_COMM_WORLD_LOCAL_RANK);
    this.localRank = Number.isInteger(local) && local >= 0 ? local : w.rank;
    this.threadLevel = THREAD_LEVELS[Math.max(0, Math.min(3, w.provided))];
  }

  get closed(): boolean {
    return this.#closed;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  set timeoutMs(ms: number) {
    const t = checkTimeout('timeoutMs', ms);
    this.#mpi.setTimeout(t);
    this.#timeoutMs = t;
  }

  /** @internal Throws unless a collective may start now (open, main thread, none in flight). */
  begin(what: string): void {
    if (this.#closed) throw new DistributedError(`fused-optim: ${what} needs the MPI communicator, which has been closed`, 'ERR_FUSED_OPTIM_MPI');
    if (!isMainThread) throw workerThreadError(what);
    if (this.#busy !== null) {
      throw new DistributedError(
        `fused-optim: ${what} cannot start while ${this.#busy} is in flight on the MPI communicator: collectives must run one at a time and in the same order on every rank; await it first`,
        'ERR_FUSED_OPTIM_MPI',
      );
    }
    this.#busy = what;
  }

  /** @internal */
  end(): void {
    this.#busy = null;
  }

  /** @internal Whether an asynchronous all-reduce (on a libuv thread) is allowed. */
  get canAsync(): boolean {
    return THREAD_LEVELS.indexOf(this.threadLevel) >= 2;
  }

  #run<T>(what: string, fn: () => T): T {
    this.begin(what);
    try {
      return fn();
    } catch (e) {
      const d = asDistributedError(e);
      if (d instanceof DistributedError || d instanceof TypeError || d instanceof RangeError) throw d;
      throw new DistributedError(`fused-optim: ${what}: ${(e as Error).message}`, 'ERR_FUSED_OPTIM_MPI', { cause: e });
    } finally {
      this.end();
    }
  }

  /** @internal A channel of its own for a distributed optimizer (collective: MPI_Comm_idup). */
  openChannel(): number {
    return this.#run('building a distributed optimizer', () => this.#mpi.openChannel());
  }

  /** @internal The rendezvous before an optimizer's collective operation (1 step, 2 sync, 3 checkpoint, 4 construction). */
  header(channel: number, op: 1 | 2 | 3 | 4, iteration: number): void {
    this.#run(['step()', 'stateDict()', 'save()', 'building a distributed optimizer'][op - 1], () => this.#mpi.header(channel, op, iteration));
  }

  /** @internal In-place sum over a channel, after its header. */
  channelAllreduceSum(channel: number, data: Float32Array): void {
    this.#run('stateDict()', () => this.#mpi.channelAllreduceF32(channel, data));
  }

  /** @internal Tells the other ranks this rank left the channel's optimizer (never throws). */
  leave(channel: number): void {
    if (this.#closed) return;
    try {
      this.#mpi.leave(channel);
    } catch {
      /* leaving is best effort: close() leaves every channel anyway */
    }
  }

  barrier(): void {
    this.#run('barrier()', () => this.#mpi.barrier());
  }

  allreduce(data: Float64Array, op: 'sum' | 'min' | 'max' = 'sum'): Float64Array {
    if (!(data instanceof Float64Array)) throw v.typeError('data', 'a Float64Array', data);
    if (op !== 'sum' && op !== 'min' && op !== 'max') throw v.rangeError('op', "'sum', 'min' or 'max'", op);
    this.#run('allreduce()', () => this.#mpi.allreduceF64(data, op));
    return data;
  }

  allreduceSum(data: Float32Array): Float32Array {
    if (!(data instanceof Float32Array)) throw v.typeError('data', 'a Float32Array', data);
    this.#run('allreduceSum()', () => this.#mpi.allreduceF32(data));
    return data;
  }

  broadcast<T extends Float32Array | Float64Array>(data: T, root = 0): T {
    if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) throw v.typeError('data', 'a Float32Array or a Float64Array', data);
    const r = v.integer('root', root, 0, this.size - 1);
    this.#run('broadcast()', () => this.#mpi.broadcast(data, r));
    return data;
  }

  /** @internal Copies `root`'s data to every rank over a channel, after its header. */
  channelBroadcast(channel: number, data: Float32Array, root: number): void {
    this.#run('building a distributed optimizer', () => this.#mpi.channelBroadcastF32(channel, data, root));
  }

  close(): void {
    if (this.#closed) return;
    this.begin('close()');
    this.#closed = true;
    try {
      this.#mpi.finish();
    } catch (e) {
      throw asDistributedError(e);
    } finally {
      this.end();
    }
  }

  /** @internal At process exit: finalise, unless exiting on an error (then mpirun tears the job down instead of every rank waiting in MPI_Finalize for the failed one). */
  exit(code: number): void {
    if (this.#closed || this.#busy !== null || code !== 0) return;
    this.#closed = true;
    try {
      this.#mpi.finish();
    } catch {
      /* exiting */
    }
  }
}

function workerThreadError(what: string): DistributedError {
  return new DistributedError(
    `fused-optim: ${what} must be called on the main thread, not a worker thread: MPI is initialised once per process with MPI_THREAD_SERIALIZED and fused-optim issues every collective from the main thread (or from its own step worker, serialised with the main thread); call init() on the main thread and step the distributed optimizer there`,
    'ERR_FUSED_OPTIM_MPI_THREAD',
  );
}

/** What {@link ncclInfo} reports. */
export interface NcclInfo {
  /** Whether libnccl.so.2 loads with the entry points a CUDA data-parallel step needs. */
  available: boolean;
  /** Why not, when unavailable. */
  reason: string | null;
  /** NCCL's version code (e.g. 21903 for 2.19.3), when available. */
  version: number | null;
}

interface NativeNccl {
  probe(): NcclInfo;
  /** ncclGetUniqueId: 128 bytes; throws (code ERR_FUSED_OPTIM_NO_NCCL) when NCCL is unavailable. */
  uniqueId(): Uint8Array;
  uniqueIdBytes: number;
}

function nativeNccl(): NativeNccl {
  return (loadNative() as unknown as { nccl: NativeNccl }).nccl;
}

/**
 * Whether NCCL can serve CUDA arenas here (`dlopen` of libnccl.so.2 at run time; no headers at
 * build time). When it is available, an optimizer on a CUDA device with `comm` all-reduces its
 * gradient with NCCL on the device (one communicator per optimizer, bootstrapped over MPI);
 * when it is not, such an optimizer is refused with a RangeError giving `reason`.
 */
export function ncclInfo(): NcclInfo {
  const p = nativeNccl().probe();
  return { available: p.available, reason: p.reason, version: p.version };
}

/**
 * @internal For the optimizer classes: throws the RangeError of a CUDA arena with `comm` where
 * NCCL is unavailable (before anything collective, so every rank of a uniform job throws it).
 */
export function requireNccl(name: string, device: string): void {
  const info = ncclInfo();
  if (info.available) return;
  throw new RangeError(
    `Expected NCCL for ${name} with a CUDA arena (options.device '${device}') but NCCL is unavailable: ${info.reason}. The data-parallel all-reduce of a CUDA arena runs on the device with NCCL (install libnccl2, or put its directory on LD_LIBRARY_PATH); otherwise use device 'cpu' with comm, or average the gradients yourself before setGrads()`,
  );
}

const ID_BYTES = 128;

/**
 * @internal Makes `native` (a CUDA arena) join an NCCL communicator over the ranks of `comm`:
 * rank 0 makes the unique id (ncclGetUniqueId), it reaches every rank through one MPI
 * all-reduce (128 bytes as doubles, zeros elsewhere, plus a failure flag so that a failure on
 * rank 0 is reported on every rank instead of leaving them waiting), then every rank calls
 * ncclCommInitRank on its arena's device. Collective: every rank calls it.
 */
export function attachNccl(comm: MpiCommunicator, native: NativeOptimizer, what: string): void {
  const buf = new Float64Array(ID_BYTES + 1);
  let failure: unknown = null;
  if (comm.rank === 0) {
    try {
      const id = nativeNccl().uniqueId();
      for (let i = 0; i < ID_BYTES; i++) buf[i + 1] = id[i];
    } catch (e) {
      failure = e;
      buf[0] = 1;
    }
  }
  comm.allreduce(buf, 'sum');
  if (failure !== null) throw failure;
  if (buf[0] !== 0) {
    throw new DistributedError(`fused-optim: ${what}: rank 0 could not make an NCCL unique id (ncclGetUniqueId failed there; see rank 0's error)`, 'ERR_FUSED_OPTIM_MPI');
  }
  const id = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) id[i] = buf[i + 1];
  comm.begin(what);
  try {
    native.attachNccl(id, comm.rank, comm.size);
  } finally {
    comm.end();
  }
}

let world: MpiCommunicator | null = null;

/**
 * Initialises MPI (`MPI_Init_thread`, requesting `MPI_THREAD_SERIALIZED`) and returns the
 * communicator of the whole job.
 *
 * - Calling `init` again returns the same communicator (MPI can be initialised only once per
 *   process); after `close()` it throws, because MPI cannot be initialised again.
 * - It must be called on the main thread: a worker thread gets a `DistributedError` with code
 *   `ERR_FUSED_OPTIM_MPI_THREAD`.
 * - Outside an MPI launcher (no `OMPI_COMM_WORLD_SIZE`, `PMIX_RANK`, `PMI_SIZE` in the
 *   environment) it throws `ERR_FUSED_OPTIM_NO_LAUNCHER`; without a loadable Open MPI,
 *   `ERR_FUSED_OPTIM_NO_MPI` with each library's reason.
 * - MPI is finalised at a clean process exit if `close()` was not called; on an exit with a
 *   non-zero code it is not, so that the launcher ends the job instead of hanging.
 */
export function init(options: InitOptions = {}): Communicator {
  const o = v.readOptions('options', options, ['backend', 'library', 'timeoutMs']);
  const timeoutMs = o.timeoutMs === undefined ? undefined : checkTimeout('options.timeoutMs', o.timeoutMs);
  if (o.backend !== undefined && o.backend !== 'mpi') throw v.rangeError('options.backend', "'mpi'", o.backend);
  if (o.library !== undefined && (typeof o.library !== 'string' || o.library === '')) throw v.typeError('options.library', 'a non-empty string', o.library);
  if (!isMainThread) throw workerThreadError('init()');
  if (world !== null) {
    if (world.closed) throw new DistributedError('fused-optim: init(): the MPI communicator was closed and MPI cannot be initialised again in this process', 'ERR_FUSED_OPTIM_MPI');
    if (timeoutMs !== undefined) world.timeoutMs = timeoutMs;
    return world;
  }
  if (!LAUNCHER_ENV.some((k) => process.env[k] !== undefined)) {
    throw new DistributedError(
      `fused-optim: init(): this process was not started by an MPI launcher (none of ${LAUNCHER_ENV.join(', ')} is set); run it with e.g. \`mpirun -np 2 node script.mjs\``,
      'ERR_FUSED_OPTIM_NO_LAUNCHER',
    );
  }
  const mpi = nativeMpi();
  let lib: { path: string; version: string };
  try {
    lib = mpi.load(o.library !== undefined ? [o.library as string] : DEFAULT_LIBS);
  } catch (e) {
    throw new DistributedError(
      `fused-optim: init(): no usable MPI library (${(e as Error).message}). Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev)`,
      'ERR_FUSED_OPTIM_NO_MPI',
      { cause: e },
    );
  }
  let w: { rank: number; size: number; provided: number };
  try {
    w = mpi.init();
  } catch (e) {
    throw new DistributedError(`fused-optim: init(): ${(e as Error).message}`, 'ERR_FUSED_OPTIM_MPI', { cause: e });
  }
  const comm = new MpiCommunicator(mpi, lib, w, timeoutMs ?? DEFAULT_TIMEOUT_MS);
  world = comm;
  process.once('exit', (code) => comm.exit(code));
  return comm;
}

function checkTimeout(name: string, ms: unknown): number {
  if (typeof ms !== 'number') throw v.typeError(name, 'a number of milliseconds', ms);
  if (!(ms > 0)) throw v.rangeError(name, 'a positive number of milliseconds (or Infinity)', ms);
  return ms;
}

/** @internal For the optimizer classes: the communicator behind `options.comm`, checked. */
export function checkComm(name: string, comm: unknown): MpiCommunicator {
  if (!(comm instanceof MpiCommunicator)) throw v.typeError(name, "a communicator from fused-optim/distributed's init()", comm);
  if (comm.closed) throw new RangeError(`Expected an open communicator for ${name} but received one that has been closed`);
  return comm;
}

