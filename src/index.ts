/**
 * fused-optim: fused optimizer steps (SGD, Adam, AdamW) in C++ and CUDA, learning-rate
 * schedules, and schedule refinement from recorded gradient norms.
 *
 * Importing this module does not load the native addon; the first native-backed call does.
 * `fused-optim/schedules` and `fused-optim/refine` never load it.
 */
export * from './schedules/index.js';
export * from './refine/index.js';
export * from './optim/index.js';
export * from './trace.js';
export { writeFileAtomic, writeFileAtomicSync, type AtomicContent } from './fs-atomic.js';
export { buildInfo, setThreads, getThreads, setSimd, type BuildInfo, type SimdLevel } from './runtime.js';
export { CudaError, NativeAddonError } from './errors.js';
export type { AddonSource, NativeBuildInfo, NativeCudaInfo } from './native.js';
// types that public signatures (RuleSpec, RULES, GroupInfo) refer to, so that they can be named
export type {
  AdadeltaHyper,
  AdagradHyper,
  AdamHyper,
  AdamaxHyper,
  LambHyper,
  LionHyper,
  NAdamHyper,
  RAdamHyper,
  RmspropHyper,
  ScheduleFreeAdamWHyper,
  SgdHyper,
} from './optim/rules/index.js';
export type { CudaStreamOption } from './optim/optimizer.js';
export type { FieldCheck, HostState, HyperValue } from './optim/rules/spec.js';
