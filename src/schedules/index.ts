/**
 * Learning-rate schedules: plain functions of the step, built by validating factories and
 * combined by {@link join}, {@link warmup}, {@link sampled} (optax style).
 *
 * ## Conventions (every schedule here)
 *
 * - A schedule is `(step: number) => number`; `step` is the 0-based iteration: `schedule(t)`
 *   is the value used by the (t + 1)-th optimizer update.
 * - `steps` is the total length T, warm-up included. `warmup` = W steps of linear warm-up
 *   from `warmupFrom` (default 0): `warmupFrom + (peak − warmupFrom)·t/W` for t < W, and
 *   `peak` at t = W.
 * - Decay progress `z = (t − W)/(T − W)`, clamped to [0, 1]: from step T on, the value stays
 *   at `end` (default 0). With W = T the value drops from the warm-up straight to `end` at T.
 * - Factories validate every argument eagerly and throw `TypeError` (wrong type, unknown
 *   option) or `RangeError` (out of range) with the message
 *   "Expected <what> for <name> but received <value>", naming e.g. `options.peak`.
 *
 * ## Steps that are not non-negative integers (decided once, for every schedule)
 *
 * - Negative steps (and `-Infinity`) are clamped to 0: the value at step 0.
 * - Fractional steps are allowed: continuous profiles (linear, cosine, REX, polynomial,
 *   warm-ups, exponential, inverse sqrt, OneCycle, cosine restarts) are evaluated at the real
 *   t; step-wise ones (multi-step, staircase exponential, {@link fromArray}, {@link sampled})
 *   use the step below.
 * - `NaN` returns `NaN`, from every schedule, so that a bad step reaches the optimizer's own
 *   check instead of being hidden. Schedules never throw when called: a per-call check costs
 *   one comparison, a throw site in the hot path is not worth it.
 * - `+Infinity` gives the limit where there is one (`end`, 0 for inverse sqrt and decaying
 *   exponentials, the last value of OneCycle / `fromArray`), and `NaN` for cosine restarts.
 * - Calling a schedule creates no objects or arrays: tables (milestones, values, phases) are
 *   built once by the factory, and the closures only do arithmetic on captured numbers.
 *
 * @packageDocumentation
 */
export type { Schedule } from './types.js';
export type { WarmupDecayOptions } from './shared-options.js';
export {
  constant,
  linear,
  linearDecay,
  cosineDecay,
  rex,
  polynomialDecay,
  warmupStableDecay,
  rewarm,
  type RexOptions,
  type PolynomialDecayOptions,
  type WarmupStableDecayOptions,
  type RewarmOptions,
} from './decay.js';
export {
  multiStep,
  budgetedMultiStep,
  exponentialDecay,
  type MultiStepOptions,
  type BudgetedMultiStepOptions,
  type ExponentialDecayOptions,
} from './step.js';
export {
  oneCycle,
  cosineRestarts,
  inverseSqrt,
  type OneCycleOptions,
  type CosineRestartsOptions,
  type InverseSqrtOptions,
} from './cyclic.js';
export {
  join,
  warmup,
  sampled,
  scale,
  fromArray,
  materialize,
  type WarmupOptions,
  type FromArrayOptions,
} from './combinators.js';
export { ReduceOnPlateau, type ReduceOnPlateauOptions } from './plateau.js';
