/**
 * Options every optimizer shares (gradient handling around the update rule), the public
 * hyperparameter types of the rules, and the packing of a step's header. Per-rule validation
 * and packing live in the rule specs (`./rules/`).
 */
import { FLAG, HP } from '../native.js';
import * as v from '../validate.js';

/** What one step reports. Norms are of the unscaled, unclipped gradient. */
export interface StepResult {
  /** Global L2 norm of the gradient after `gradScale`, before clipping. */
  gradNormL2: number;
  /** Global L1 norm of the same gradient. */
  gradNormL1: number;
  /** Multiplier applied to the gradient by clipping: min(1, maxGradNorm / (norm + 1e-6)); 1 when not clipping. */
  clipCoef: number;
  /** True when the step was skipped (non-finite gradient with `skipNonFinite`): params and state untouched. */
  skipped: boolean;
  /** True when the gradient held NaN or ±Infinity (whether or not the step was skipped). */
  nonFinite: boolean;
}

/**
 * Options shared by every optimizer: gradient handling around the update rule. They are
 * global: clipping and skipping look at the gradient of all groups together, as
 * `torch.nn.utils.clip_grad_norm_` over all parameters.
 */
export interface GradientOptions {
  /** Clip the global L2 norm of the (unscaled) gradient to this value. Default: no clipping. */
  maxGradNorm?: number | null;
  /** Multiplies the raw gradient before everything else (loss-scale unscaling: pass 1/scale). Default 1. */
  gradScale?: number;
  /** Skip the whole step when the gradient holds NaN/Inf, leaving params and state bitwise intact. Default false. */
  skipNonFinite?: boolean;
}

/** Hyperparameters of Adam and AdamW (per group, except the gradient options). */
export interface AdamHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Exponential decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Exponential decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, >= 0. Default 1e-8. */
  eps?: number;
  /** Weight decay, >= 0. L2 (added to the gradient) for Adam, decoupled for AdamW. Default 0 (Adam), 0.01 (AdamW). */
  weightDecay?: number;
  /** Decoupled weight decay (AdamW): p *= 1 - lr * weightDecay. Default false for Adam, true for AdamW. */
  decoupled?: boolean;
}

/** Hyperparameters of SGD (per group, except the gradient options). */
export interface SgdHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Momentum factor, >= 0. Default 0 (no momentum buffer is read or written). */
  momentum?: number;
  /** Dampening of the momentum, in [0, 1]. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
}

/** The gradient options, resolved. */
export interface ResolvedGradient {
  maxGradNorm: number | null;
  gradScale: number;
  skipNonFinite: boolean;
}

/** The keys of {@link GradientOptions}. */
export const GRADIENT_KEYS: readonly string[] = Object.freeze(['maxGradNorm', 'gradScale', 'skipNonFinite']);

/** The gradient options' defaults. */
export const GRADIENT_DEFAULTS: ResolvedGradient = Object.freeze({ maxGradNorm: null, gradScale: 1, skipNonFinite: false });

/** Throws a TypeError for an option name that is not one of `allowed` (a likely typo). */
export function rejectUnknown(opts: object, allowed: readonly string[], prefix: string): void {
  v.rejectUnknownKeys(opts, allowed, prefix);
}

/** A learning rate given as a number. */
export function learningRate(name: string, value: unknown): number {
  return v.nonNegative(name, value);
}

/** Resolves the gradient options present in `o`; absent ones come from `base`. */
export function resolveGradient(o: Readonly<Record<string, unknown>>, prefix: string, base: ResolvedGradient = GRADIENT_DEFAULTS): ResolvedGradient {
  let maxGradNorm = base.maxGradNorm;
  const m = o.maxGradNorm;
  if (m === null || m === Infinity) maxGradNorm = null;
  else if (m !== undefined) maxGradNorm = v.positive(`${prefix}.maxGradNorm`, m);
  return {
    maxGradNorm,
    gradScale: v.opt(o, 'gradScale', base.gradScale, v.positive, prefix),
    skipNonFinite: v.opt(o, 'skipNonFinite', base.skipNonFinite, v.boolean, prefix),
  };
}

/** Writes the step header (everything but the groups) into `hp`. */
export function packHeader(hp: Float64Array, g: ResolvedGradient, groups: number, step: number): void {
  hp[HP.maxGradNorm] = g.maxGradNorm ?? 0;
  hp[HP.gradScale] = g.gradScale;
  hp[HP.flags] = g.skipNonFinite ? FLAG.skipNonFinite : 0;
  hp[HP.step] = step;
  hp[HP.groups] = groups;
}
