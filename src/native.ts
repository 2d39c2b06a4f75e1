/**
 * The one typed contract of the native addon, and its loader. Nothing else imports the
 * `.node` file. Loading is lazy: `import 'fused-optim'` never touches the addon; the first
 * native-backed call does.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CudaError, NativeAddonError } from './errors.js';

/** Indices into the Float64Array of hyperparameters (native/core/step_args.h `HpIndex`). */
export const HP = {
  lr: 0,
  beta1: 1, // Adam beta1 / SGD momentum
  beta2: 2, // Adam beta2 / SGD dampening
  eps: 3,
  weightDecay: 4,
  maxGradNorm: 5,
  gradScale: 6,
  flags: 7,
  step: 8,
  count: 9,
} as const;

/** Bits of `HP.flags` (native `HpFlags`). */
export const FLAG = { decoupled: 1, nesterov: 2, skipNonFinite: 4 } as const;

/** Indices into the step outcome Float64Array (native `OutIndex`). */
export const OUT = { l2: 0, l1: 1, clipCoef: 2, skipped: 3, nonFinite: 4, applied: 5, count: 6 } as const;

/** Arena slots (native `Slot`). */
export const SLOT = { params: 0, grads: 1, state1: 2, state2: 3 } as const;

/** Doubles per trace record: l2, l1, lr, skipped. */
export const TRACE_FIELDS = 4;

export const KIND = { sgd: 0, adam: 1 } as const;

export interface NativeCudaInfo {
  compiled: boolean;
  available: boolean;
  reason: string | null;
  runtimeVersion: string | null;
  driverVersion: string | null;
  devices: string[];
}

export interface NativeBuildInfo {
  version: string;
  napiVersion: number;
  simd: string;
  simdSupported: string[];
  /** Default thread count of CPU steps (`setThreads`, `FUSED_OPTIM_THREADS`, else `cpus`). */
  threads: number;
  /** CPUs this process may use: its affinity mask, fewer under a cgroup CPU quota. */
  cpus: number;
  /** Most threads one CPU step uses, whatever is asked for (2 × cpus, at least 2). */
  maxThreads: number;
  /** Worker threads the CPU pool has started so far. */
  poolWorkers: number;
  chunkElements: number;
  cuda: NativeCudaInfo;
  compiler?: string;
}

/** The native Optimizer object (native/addon/optimizer_wrap.cc). */
export interface NativeOptimizer {
  slotBuffer(slot: number): ArrayBuffer | null;
  offsets(): Float64Array;
  step(hp: Float64Array, out: Float64Array): void;
  stepAsync(hp: Float64Array, out: Float64Array): Promise<void>;
  /**
   * The outcome of the step taken at `iteration` into `out` (waits for the device); false when
   * it is no longer held. For backends with `outcomeIsLazy` (CUDA), whose step() leaves `out` NaN.
   */
  readOutcome(out: Float64Array, iteration: number): boolean;
  tensorSums(sq: Float64Array, abs: Float64Array): void;
  readTrace(dst: Float64Array): number;
  writeSlot(slot: number, index: number, src: Float32Array): void;
  readSlot(slot: number, index: number, dst: Float32Array): void;
  fillSlot(slot: number, value: number): void;
  setCounters(iteration: number, applied: number): void;
  /** [iteration, applied, traceDropped] */
  counters(): Float64Array;
  setThreads(threads: number): void;
  dispose(): void;
  readonly device: string | null;
  readonly nativeBytes: number;
  readonly disposed: boolean;
  readonly busy: boolean;
  /** True on CUDA: step() returns before the device is done; see readOutcome. */
  readonly outcomeIsLazy: boolean;
}

export interface NativeAddon {
  buildInfo(): NativeBuildInfo;
  setThreads(n: number): void;
  getThreads(): number;
  setSimd(level: string): boolean;
  setErrorClasses(cudaError: typeof CudaError): void;
  adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, hp: Float64Array, out: Float64Array, threads: number): void;
  sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array | null, hp: Float64Array, out: Float64Array, threads: number): void;
  streamFloor(a: Float32Array, b: Float32Array, c: Float32Array, d: Float32Array, scale: number, threads: number): void;
  /** Benchmarks: device time in ms of each of `iters` device-to-device copies of `bytes` (throws a CudaError without CUDA). */
  cudaCopyTimes(device: number, bytes: number, iters: number): Float64Array;
  /** Benchmarks: device time in ms of each of `iters` calls of fn, from CUDA events on the device's stream. */
  cudaTimeCalls(device: number, iters: number, fn: () => void): Float64Array;
  Optimizer: new (kind: number, lengths: Float64Array, device: string, traceCapacity: number, threads: number) => NativeOptimizer;
  HP_COUNT: number;
  OUT_COUNT: number;
  TRACE_FIELDS: number;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the loader looks, in order. `FUSED_OPTIM_BINARY` overrides all. */
export function addonCandidates(): string[] {
  const env = process.env.FUSED_OPTIM_BINARY;
  if (env) return [resolve(env)];
  return [join(packageRoot, 'build', 'Release', 'fused_optim.node'), join(packageRoot, 'build', 'Debug', 'fused_optim.node')];
}

let cached: NativeAddon | undefined;
let cachedError: NativeAddonError | undefined;

function howToBuild(): string {
  return (
    'Build it with `npm rebuild fused-optim` (in an app), or `npm run build:native` ' +
    '(= `npx cmake-js compile`) in the package folder; `npx node-gyp rebuild` builds the CPU backend ' +
    'only. Building needs cmake >= 3.18 and a C++17 compiler (and nvcc for the CUDA backend).'
  );
}

/** Loads the addon (once) or throws a NativeAddonError saying what to run. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  const candidates = addonCandidates();
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    cachedError = new NativeAddonError(
      `fused-optim: the native addon is not built (looked for ${candidates.join(', ')}). ${howToBuild()}`,
    );
    throw cachedError;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(found) as NativeAddon;
    if (typeof addon.buildInfo !== 'function' || addon.HP_COUNT !== HP.count || addon.OUT_COUNT !== OUT.count) {
      throw new Error('the binary does not match this version of the JavaScript code');
    }
    addon.setErrorClasses(CudaError);
    cached = addon;
    return addon;
  } catch (err) {
    cachedError = new NativeAddonError(
      `fused-optim: the native addon at ${found} failed to load (${(err as Error).message}). ` +
        `It may be built for another Node.js or platform, or be stale. Rebuild it: ${howToBuild()}`,
      { cause: err },
    );
    throw cachedError;
  }
}

/** Whether the addon loads, without throwing. */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}
