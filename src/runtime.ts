/**
 * Process-wide settings and facts of the native backends.
 */
import { loadNative, loadedAddon, type AddonSource, type NativeBuildInfo } from './native.js';
import * as v from './validate.js';

/** What {@link buildInfo} returns: the addon's own report, plus which binary loaded and the device `'auto'` picks. */
export interface BuildInfo extends NativeBuildInfo {
  /** Path of the loaded addon. */
  addon: string;
  /** Where it came from: `FUSED_OPTIM_BINARY` ('env'), a build in the package folder ('local') or the shipped prebuild ('prebuild'). */
  addonSource: AddonSource;
  /** What `device: 'auto'` picks now. */
  autoDevice: 'cpu' | 'cuda:0';
}

/**
 * What the addon was built with and what it can use here: the SIMD level in use and those this
 * CPU supports, the default thread count, and whether CUDA was compiled in and is usable
 * (with the reason when not).
 */
export function buildInfo(): BuildInfo {
  const info = loadNative().buildInfo();
  const which = loadedAddon();
  return { ...info, addon: which.path, addonSource: which.source, autoDevice: info.cuda.available ? 'cuda:0' : 'cpu' };
}

/** Sets the default thread count of CPU steps (1–256). `FUSED_OPTIM_THREADS` sets it at load. */
export function setThreads(threads: number): void {
  loadNative().setThreads(v.integer('threads', threads, 1, 256));
}

/** The default thread count of CPU steps. */
export function getThreads(): number {
  return loadNative().getThreads();
}

/** The SIMD levels of the CPU kernels, fastest first. */
export type SimdLevel = 'avx512' | 'avx2' | 'baseline';

/**
 * Forces a SIMD level for CPU steps (for tests and benchmarks; every level computes the same
 * bits). `FUSED_OPTIM_SIMD` sets it at load. Throws a RangeError when this CPU lacks it.
 */
export function setSimd(level: SimdLevel): void {
  v.oneOf('level', level, ['avx512', 'avx2', 'baseline'] as const);
  if (!loadNative().setSimd(level)) {
    throw new RangeError(`Expected a SIMD level this CPU supports (${loadNative().buildInfo().simdSupported.join(', ')}) for level but received '${level}'`);
  }
}
