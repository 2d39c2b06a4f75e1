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
import { RULES, type RuleSpec } from './optim/rules/index.js';

/**
 * The step's hyperparameter array (native/core/step_args.h): a header of step-wide settings,
 * then `groups` blocks of `groupStride` doubles, one per parameter group, each packed in its
 * rule's field order (RuleSpec.fields).
 */
export const HP = {
  maxGradNorm: 0,
  gradScale: 1,
  flags: 2,
  step: 3, // functional steps only: the 1-based index of this step
  groups: 4,
  header: 5,
  groupStride: 12,
} as const;

/** Bits of `HP.flags` (native `HpFlags`). */
export const FLAG = { skipNonFinite: 1 } as const;

/** Indices into the step outcome Float64Array (native `OutIndex`). */
export const OUT = { l2: 0, l1: 1, clipCoef: 2, skipped: 3, nonFinite: 4, applied: 5, count: 6 } as const;

/** Arena slots (native `Slot`): params, grads, then the rule's state slots in order. */
export const SLOT = { params: 0, grads: 1, firstState: 2 } as const;

/** Doubles per trace record: l2, l1, lr (of group 0), skipped. */
export const TRACE_FIELDS = 4;

/** Length of the hyperparameter array of a step with `groups` groups. */
export function hpLength(groups: number): number {
  return HP.header + groups * HP.groupStride;
}

/** One native rule as the addon describes it (`rules`). */
export interface NativeRuleInfo {
  id: number;
  name: string;
  fields: string[];
  slots: string[];
}

/** The index tables the addon exports (`layout`), checked against the constants above at load. */
export interface NativeLayout {
  hp: Record<keyof typeof HP, number>;
  flag: Record<keyof typeof FLAG, number>;
  out: Record<keyof typeof OUT, number>;
  slot: Record<keyof typeof SLOT, number>;
  traceFields: number;
}

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
  /** `reduce`: first sum the gradient slot over MPI_COMM_WORLD in place (fused-optim/distributed). */
  /** With `iteration`, a distributed step: the rendezvous on the optimizer's channel, then the gradient all-reduce. */
  step(hp: Float64Array, out: Float64Array, iteration?: number): void;
  stepAsync(hp: Float64Array, out: Float64Array, iteration?: number): Promise<void>;
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
  /** For every tensor: slot dst = dst + weights[group]·(src − dst) (fp32). */
  lerpSlot(dst: number, src: number, weights: Float64Array): void;
  setCounters(iteration: number, applied: number): void;
  /** [iteration, applied, traceDropped] */
  counters(): Float64Array;
  setThreads(threads: number): void;
  /**
   * CUDA arenas: joins an NCCL communicator (ncclCommInitRank; collective, blocks until every
   * rank has called it). Steps with `reduce` then all-reduce the gradient over it on the device.
   */
  attachNccl(uniqueId: Uint8Array, rank: number, size: number): void;
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
  /**
   * One step of rule `rule` over caller-owned arrays (one state array or null per rule slot),
   * through a borrowed CPU arena; `hp` holds one group and `hp[HP.step]`.
   */
  functionalStep(rule: number, p: Float32Array, g: Float32Array, state: (Float32Array | null)[], hp: Float64Array, out: Float64Array, threads: number): void;
  /** `new Optimizer(rule, lengths, tensorGroup, groups, device, traceCapacity, threads, stream?, streamPriority?)`. */
  Optimizer: new (
    rule: number,
    lengths: Float64Array,
    tensorGroup: Float64Array,
    groups: number,
    device: string,
    traceCapacity: number,
    threads: number,
    stream?: 'shared' | 'own',
    streamPriority?: number,
    shard?: boolean,
    channel?: number,
  ) => NativeOptimizer;
  /** The native rule registry. */
  rules: NativeRuleInfo[];
  /** The binding's index tables. */
  layout: NativeLayout;
  /** Benchmark helpers: not part of the optimizer contract. */
  bench: NativeBench;
}

/** Benchmark helpers of the addon (bench/): kept apart from the optimizer contract. */
export interface NativeBench {
  /** The memory floor's loop (reads 4 arrays, writes 3) over the pool and chunking of a step. */
  streamFloor(a: Float32Array, b: Float32Array, c: Float32Array, d: Float32Array, scale: number, threads: number): void;
  /** Device time in ms of each of `iters` device-to-device copies of `bytes` (throws a CudaError without CUDA). */
  cudaCopyTimes(device: number, bytes: number, iters: number): Float64Array;
  /** Device time in ms of each of `iters` calls of fn, from CUDA events on the device's stream. */
  cudaTimeCalls(device: number, iters: number, fn: () => void): Float64Array;
  /** A bit of `HP.flags`, CUDA only: a one-pass step without reduction, finalize and trace. */
  FLAG_NO_REDUCE: number;
}

/**
 * Checks every index table and rule of the addon against this code; throws an Error naming
 * the first field that differs (the loader turns it into a NativeAddonError).
 */
export function checkAddonTables(addon: NativeAddon): void {
  const layout = addon.layout;
  if (typeof layout !== 'object' || layout === null || !Array.isArray(addon.rules)) {
    throw new Error('the binary exports no index tables (layout, rules): it is older than this JavaScript code');
  }
  const tables: [string, Record<string, number>, Record<string, number> | undefined][] = [
    ['layout.hp', HP, layout.hp],
    ['layout.flag', FLAG, layout.flag],
    ['layout.out', OUT, layout.out],
    ['layout.slot', SLOT, layout.slot],
  ];
  for (const [name, ours, theirs] of tables) {
    for (const [key, value] of Object.entries(ours)) {
      if (theirs?.[key] !== value) throw new Error(`${name}.${key} is ${theirs?.[key]} in the binary but ${value} here`);
    }
  }
  if (layout.traceFields !== TRACE_FIELDS) throw new Error(`layout.traceFields is ${layout.traceFields} in the binary but ${TRACE_FIELDS} here`);
  for (const spec of Object.values(RULES) as RuleSpec[]) {
    const r = addon.rules.find((x) => x.id === spec.native.code);
    const at = `rules[${spec.native.code}]`;
    if (!r || r.name !== spec.native.name) throw new Error(`${at}.name is ${r?.name} in the binary but '${spec.native.name}' here (rule ${spec.kind})`);
    if (r.fields.join(',') !== spec.fields.join(',')) {
      throw new Error(`${at}.fields are [${r.fields.join(', ')}] in the binary but [${spec.fields.join(', ')}] here (rule ${spec.kind})`);
    }
    if (r.fields.length > HP.groupStride) throw new Error(`${at}.fields has ${r.fields.length} entries, more than layout.hp.groupStride`);
    if (r.slots.length !== spec.stateNames.length) {
      throw new Error(`${at}.slots has ${r.slots.length} entries in the binary but ${spec.stateNames.length} here (rule ${spec.kind})`);
    }
  }
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
  if (typeof addon.buildInfo !== 'function') throw new Error('the binary does not match this version of the JavaScript code');
  checkAddonTables(addon);
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
