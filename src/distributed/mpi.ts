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
   * - `ERR_FUSED_OPTIM_MPI`: MPI itself failed, or the communicator is closed or busy.
   */
  readonly code: 'ERR_FUSED_OPTIM_NO_LAUNCHER' | 'ERR_FUSED_OPTIM_NO_MPI' | 'ERR_FUSED_OPTIM_MPI_THREAD' | 'ERR_FUSED_OPTIM_MPI';
  constructor(message: string, code: DistributedError['code'], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DistributedError';
    this.code = code;
  }
}

/** Options of {@link init}. */
export interface InitOptions {
  /** The only backend today: `'mpi'` (Open MPI). */
  backend?: 'mpi';
  /**
   * Path or soname of libmpi to load instead of the default search
   * (`libmpi.so.40`, `libmpi.so.12`, `libmpi.so`, through the dynamic loader's path).
   */
  library?: string;
}

/** MPI thread support levels, in the standard's order. */
const THREAD_LEVELS = ['single', 'funneled', 'serialized', 'multiple'] as const;

/** A communicator over every process of the MPI job (MPI_COMM_WORLD). */
export interface Communicator {
  /** This process's rank, 0 ≤ rank < size. */
  readonly rank: number;
  /** Number of processes. */
  readonly size: number;
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
  /** Waits until every rank has called it. */
  barrier(): void;
  /** In-place all-reduce of doubles over every rank; returns `data`. */
  allreduce(data: Float64Array, op?: 'sum' | 'min' | 'max'): Float64Array;
  /** In-place sum of floats over every rank (MPI_FLOAT, MPI_SUM); returns `data`. */
  allreduceSum(data: Float32Array): Float32Array;
  /** Finalises MPI (collective: every rank must call it). Safe to call twice; MPI cannot be initialised again afterwards. */
  close(): void;
}

const DEFAULT_LIBS = ['libmpi.so.40', 'libmpi.so.12', 'libmpi.so'];

/** Environment variables an MPI launcher sets (Open MPI's mpirun, PMI/PMIx launchers such as srun and hydra). */
const LAUNCHER_ENV = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE', 'PMI_RANK'];

interface NativeMpi {
  load(paths: string[]): { path: string; version: string };
  init(): { rank: number; size: number; provided: number };
  barrier(): void;
  finalize(): void;
  allreduceF64(data: Float64Array, op: string): void;
  allreduceF32(data: Float32Array): void;
  threadSerialized: number;
}

function nativeMpi(): NativeMpi {
  return (loadNative() as unknown as { mpi: NativeMpi }).mpi;
}

export class MpiCommunicator implements Communicator {
  readonly backend = 'mpi' as const;
  readonly rank: number;
  readonly size: number;
  readonly library: { path: string; version: string };
  readonly threadLevel: Communicator['threadLevel'];
  #closed = false;
  #busy: string | null = null;
  readonly #mpi: NativeMpi;

  constructor(mpi: NativeMpi, lib: { path: string; version: string }, w: { rank: number; size: number; provided: number }) {
    this.#mpi = mpi;
    this.library = Object.freeze({ ...lib });
    this.rank = w.rank;
    this.size = w.size;
    this.threadLevel = THREAD_LEVELS[Math.max(0, Math.min(3, w.provided))];
  }

  get closed(): boolean {
    return this.#closed;
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
      if (e instanceof DistributedError || e instanceof TypeError || e instanceof RangeError) throw e;
      throw new DistributedError(`fused-optim: ${what}: ${(e as Error).message}`, 'ERR_FUSED_OPTIM_MPI', { cause: e });
    } finally {
      this.end();
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

  close(): void {
    if (this.#closed) return;
    this.begin('close()');
    this.#closed = true;
    try {
      this.#mpi.finalize();
    } finally {
      this.end();
    }
  }

  /** @internal At process exit: finalise, unless exiting on an error (then mpirun tears the job down instead of every rank waiting in MPI_Finalize for the failed one). */
  exit(code: number): void {
    if (this.#closed || this.#busy !== null || code !== 0) return;
    this.#closed = true;
    try {
      this.#mpi.finalize();
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
  const o = v.readOptions('options', options, ['backend', 'library']);
  if (o.backend !== undefined && o.backend !== 'mpi') throw v.rangeError('options.backend', "'mpi'", o.backend);
  if (o.library !== undefined && (typeof o.library !== 'string' || o.library === '')) throw v.typeError('options.library', 'a non-empty string', o.library);
  if (!isMainThread) throw workerThreadError('init()');
  if (world !== null) {
    if (world.closed) throw new DistributedError('fused-optim: init(): the MPI communicator was closed and MPI cannot be initialised again in this process', 'ERR_FUSED_OPTIM_MPI');
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
  const comm = new MpiCommunicator(mpi, lib, w);
  world = comm;
  process.once('exit', (code) => comm.exit(code));
  return comm;
}

/** @internal For the optimizer classes: the communicator behind `options.comm`, checked. */
export function checkComm(name: string, comm: unknown): MpiCommunicator {
  if (!(comm instanceof MpiCommunicator)) throw v.typeError(name, "a communicator from fused-optim/distributed's init()", comm);
  if (comm.closed) throw new RangeError(`Expected an open communicator for ${name} but received one that has been closed`);
  return comm;
}

