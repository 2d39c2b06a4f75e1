/**
 * The one typed contract of the native addon, and its loader. Nothing else imports the
 * `.node` file. Loading is lazy: `import 'fused-optim'` never touches the addon; the first
 * native-backed call does.
 */
import { existsSync, readdirSync } from 'node:fs';
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

/** The CUDA part of {@link NativeBuildInfo}: compiled in, usable here (and why not), versions and devices. */
export interface NativeCudaInfo {
  compiled: boolean;
  available: boolean;
  reason: string | null;
  runtimeVersion: string | null;
  driverVersion: string | null;
  devices: string[];
}

/** What the native addon reports about itself: version, Node-API level, SIMD levels, threads, CUDA, compiler. */
export interface NativeBuildInfo {
  version: string;
  napiVersion: number;
  simd: string;
  simdSupported: string[];
  threads: number;
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

/** Where a candidate binary comes from: `FUSED_OPTIM_BINARY`, a build in the package folder, or a shipped prebuild. */
export type AddonSource = 'env' | 'local' | 'prebuild';

/** One place the loader looks. */
export interface AddonCandidate {
  path: string;
  source: AddonSource;
}

/** The binary that loaded, and the candidates tried before it that did not load. */
export interface LoadedAddon extends AddonCandidate {
  /** Candidates that exist but failed to load, in the order tried, with the reason. */
  rejected: { path: string; source: AddonSource; reason: string }[];
}

/** The folder of the prebuilt binaries for this platform (the prebuildify / node-gyp-build layout). */
export function prebuildDir(root: string = packageRoot): string {
  return join(root, 'prebuilds', `${process.platform}-${process.arch}`);
}

/** 'glibc' or 'musl' on Linux (from process.report, as detect-libc does), undefined elsewhere. */
function runtimeLibc(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/**
 * The prebuilt binaries of `dir` that may serve this process, best first. Names follow
 * node-gyp-build: `<name>.<tag>...node`, e.g. `fused-optim.napi.glibc.node`; a binary must
 * carry the `napi` tag, and a libc tag, when present, must match this process's C library.
 */
function prebuildsIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const libc = runtimeLibc();
  return names
    .filter((n) => n.endsWith('.node'))
    .map((n) => ({ n, tags: n.slice(0, -'.node'.length).split('.').slice(1) }))
    .filter(({ tags }) => tags.includes('napi') && !tags.some((t) => (t === 'glibc' || t === 'musl') && t !== libc))
    .sort((a, b) => b.tags.length - a.tags.length || a.n.localeCompare(b.n))
    .map(({ n }) => join(dir, n));
}

/**
 * Where the loader looks, in order: `FUSED_OPTIM_BINARY` alone when it is set; otherwise a
 * build in the package folder (`build/Release`, `build/Debug`: a source build or a developer's
 * clone), then the prebuilt binary shipped in `prebuilds/<platform>-<arch>/`. Only
 * candidates that exist are tried, except `FUSED_OPTIM_BINARY`, which is always reported.
 */
export function addonCandidates(root: string = packageRoot): AddonCandidate[] {
  const env = process.env.FUSED_OPTIM_BINARY;
  if (env) return [{ path: resolve(env), source: 'env' }];
  return [
    ...['Release', 'Debug'].map((b) => ({ path: join(root, 'build', b, 'fused_optim.node'), source: 'local' as const })),
    ...prebuildsIn(prebuildDir(root)).map((path) => ({ path, source: 'prebuild' as const })),
  ];
}

let cached: NativeAddon | undefined;
let cachedWhich: LoadedAddon | undefined;
let cachedError: NativeAddonError | undefined;

/** What to run to get a working addon; used in every NativeAddonError. */
export function howToBuild(): string {
  return (
    'fused-optim ships a prebuilt binary for linux-x64 (glibc >= 2.34) only; elsewhere it builds from source ' +
    'when installed. To build: `FUSED_OPTIM_BUILD_FROM_SOURCE=1 npm rebuild fused-optim` (in an app), ' +
    'or `npm run build:native` in a clone. Building needs cmake >= 3.18 and a C++17 compiler ' +
    '(and nvcc for the CUDA backend); `npx fused-optim info` says which binary loads.'
  );
}

function tryRequire(path: string): NativeAddon {
  const require = createRequire(import.meta.url);
  const addon = require(path) as NativeAddon;
  if (typeof addon.buildInfo !== 'function' || addon.HP_COUNT !== HP.count || addon.OUT_COUNT !== OUT.count) {
    throw new Error('the binary does not match this version of the JavaScript code');
  }
  return addon;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Loads the addon (once) or throws a NativeAddonError saying what to run. The candidates of
 * {@link addonCandidates} are tried in order and the first that loads is used; see
 * {@link loadedAddon} for which one it was.
 */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  const candidates = addonCandidates();
  const rejected: LoadedAddon['rejected'] = [];
  let lastErr: unknown;
  for (const c of candidates) {
    if (!existsSync(c.path)) {
      if (c.source === 'env') rejected.push({ ...c, reason: 'no such file' });
      continue;
    }
    try {
      const addon = tryRequire(c.path);
      addon.setErrorClasses(CudaError);
      cached = addon;
      cachedWhich = { ...c, rejected };
      return addon;
    } catch (err) {
      lastErr = err;
      rejected.push({ ...c, reason: oneLine((err as Error).message) });
    }
  }
  const looked = candidates.length > 0 ? candidates.map((c) => c.path).join(', ') : `${join(packageRoot, 'build', 'Release')}, ${prebuildDir()}`;
  const env = candidates[0]?.source === 'env' ? candidates[0] : undefined;
  cachedError = env && !existsSync(env.path)
    ? new NativeAddonError(`fused-optim: the native addon is not built (FUSED_OPTIM_BINARY is set to ${env.path}, which does not exist; unset it to use the package's own binary). ${howToBuild()}`)
    : rejected.some((r) => r.reason !== 'no such file')
    ? new NativeAddonError(
        `fused-optim: the native addon failed to load (${rejected.map((r) => `${r.path}: ${r.reason}`).join('; ')}). ` +
          `It may be built for another platform or C library, or be stale. ${howToBuild()}`,
        { cause: lastErr },
      )
    : new NativeAddonError(`fused-optim: the native addon is not built (looked for ${looked}). ${howToBuild()}`);
  throw cachedError;
}

/**
 * Which binary {@link loadNative} loaded: its path, whether it came from `FUSED_OPTIM_BINARY`,
 * a local build or the shipped prebuild, and the candidates that failed before it. Loads the
 * addon if needed (and throws its NativeAddonError when none loads).
 */
export function loadedAddon(): LoadedAddon {
  loadNative();
  return cachedWhich as LoadedAddon;
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
