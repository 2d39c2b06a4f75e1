/**
 * Hyperparameters of SGD and Adam(W): defaults, validation (one place, used by the functional
 * steps and the optimizer classes) and packing into the Float64Array the addon reads.
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

/** Options shared by every optimizer: gradient handling around the update rule. */
export interface GradientOptions {
  /** Clip the global L2 norm of the (unscaled) gradient to this value. Default: no clipping. */
  maxGradNorm?: number | null;
  /** Multiplies the raw gradient before everything else (loss-scale unscaling: pass 1/scale). Default 1. */
  gradScale?: number;
  /** Skip the whole step when the gradient holds NaN/Inf, leaving params and state bitwise intact. Default false. */
  skipNonFinite?: boolean;
}

export interface AdamHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Exponential decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Exponential decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, >= 0. Default 1e-8. */
  eps?: number;
  /** Weight decay, >= 0. L2 (added to the gradient) for Adam, decoupled for AdamW. */
  weightDecay?: number;
  /** Decoupled weight decay (AdamW): p *= 1 - lr * weightDecay. Default false for Adam, true for AdamW. */
  decoupled?: boolean;
}

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

export interface ResolvedGradient {
  maxGradNorm: number | null;
  gradScale: number;
  skipNonFinite: boolean;
}

export interface ResolvedAdam extends ResolvedGradient {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

export interface ResolvedSgd extends ResolvedGradient {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

const GRADIENT_KEYS = ['maxGradNorm', 'gradScale', 'skipNonFinite'];
export const ADAM_KEYS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled', ...GRADIENT_KEYS];
export const SGD_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', ...GRADIENT_KEYS];

/** Throws a TypeError for an option name that is not one of `allowed` (a likely typo). */
export function rejectUnknown(opts: object, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `Unknown option ${prefix}.${key}; expected one of ${allowed.map((k) => `'${k}'`).join(', ')}`,
      );
    }
  }
}

export function learningRate(name: string, value: unknown): number {
  return v.float32Finite(name, v.nonNegative(name, value));
}

/** Every numeric hyperparameter of `r` must be one the float32 kernels can hold. */
function float32Fields<R extends object>(r: R, prefix: string): R {
  for (const [key, value] of Object.entries(r)) {
    if (typeof value === 'number') v.float32Finite(`${prefix}.${key}`, value);
  }
  return r;
}

function resolveGradient(o: Record<string, unknown>, prefix: string, base?: ResolvedGradient): ResolvedGradient {
  let maxGradNorm = base ? base.maxGradNorm : null;
  if (o.maxGradNorm === null) maxGradNorm = null;
  else if (o.maxGradNorm !== undefined) {
    const m = o.maxGradNorm;
    if (m === Infinity) maxGradNorm = null;
    else maxGradNorm = v.positive(`${prefix}.maxGradNorm`, m);
  }
  return {
    maxGradNorm,
    gradScale: v.opt(o, 'gradScale', base ? base.gradScale : 1, v.positive, prefix),
    skipNonFinite: v.opt(o, 'skipNonFinite', base ? base.skipNonFinite : false, v.boolean, prefix),
  };
}

function beta(name: string, value: unknown): number {
  return v.inInterval(name, value, 0, 1, { hiOpen: true });
}

/**
 * Validates Adam hyperparameters. `base` supplies values not given (defaults or the current
 * settings when updating). `lr` may be absent when the caller resolves it (schedules).
 */
export function resolveAdam(
  options: unknown,
  prefix: string,
  base: ResolvedAdam,
  extraKeys: readonly string[] = [],
): ResolvedAdam {
  const o = v.options<Record<string, unknown>>(prefix, options) as Record<string, unknown>;
  rejectUnknown(o, [...ADAM_KEYS, ...extraKeys], prefix);
  return float32Fields({
    lr: extraKeys.includes('lr') ? base.lr : v.opt(o, 'lr', base.lr, learningRate, prefix),
    beta1: v.opt(o, 'beta1', base.beta1, beta, prefix),
    beta2: v.opt(o, 'beta2', base.beta2, beta, prefix),
    eps: v.opt(o, 'eps', base.eps, v.nonNegative, prefix),
    weightDecay: v.opt(o, 'weightDecay', base.weightDecay, v.nonNegative, prefix),
    decoupled: v.opt(o, 'decoupled', base.decoupled, v.boolean, prefix),
    ...resolveGradient(o, prefix, base),
  }, prefix);
}

export function resolveSgd(
  options: unknown,
  prefix: string,
  base: ResolvedSgd,
  extraKeys: readonly string[] = [],
): ResolvedSgd {
  const o = v.options<Record<string, unknown>>(prefix, options) as Record<string, unknown>;
  rejectUnknown(o, [...SGD_KEYS, ...extraKeys], prefix);
  const r: ResolvedSgd = {
    lr: extraKeys.includes('lr') ? base.lr : v.opt(o, 'lr', base.lr, learningRate, prefix),
    momentum: v.opt(o, 'momentum', base.momentum, v.nonNegative, prefix),
    dampening: v.opt(o, 'dampening', base.dampening, (n, x) => v.inInterval(n, x, 0, 1), prefix),
    nesterov: v.opt(o, 'nesterov', base.nesterov, v.boolean, prefix),
    weightDecay: v.opt(o, 'weightDecay', base.weightDecay, v.nonNegative, prefix),
    ...resolveGradient(o, prefix, base),
  };
  float32Fields(r, prefix);
  if (r.nesterov && (r.momentum <= 0 || r.dampening !== 0)) {
    throw new RangeError(
      `Expected momentum > 0 and dampening 0 for ${prefix}.nesterov = true but received momentum ${r.momentum} and dampening ${r.dampening}`,
    );
  }
  return r;
}

export const ADAM_DEFAULTS: ResolvedAdam = Object.freeze({
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  decoupled: false,
  maxGradNorm: null,
  gradScale: 1,
  skipNonFinite: false,
});

export const ADAMW_DEFAULTS: ResolvedAdam = Object.freeze({ ...ADAM_DEFAULTS, weightDecay: 1e-2, decoupled: true });

export const SGD_DEFAULTS: ResolvedSgd = Object.freeze({
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  weightDecay: 0,
  maxGradNorm: null,
  gradScale: 1,
  skipNonFinite: false,
});

function packGradient(hp: Float64Array, g: ResolvedGradient): number {
  hp[HP.maxGradNorm] = g.maxGradNorm ?? 0;
  hp[HP.gradScale] = g.gradScale;
  return g.skipNonFinite ? FLAG.skipNonFinite : 0;
}

export function packAdam(hp: Float64Array, a: ResolvedAdam, lr: number, step: number): void {
  hp[HP.lr] = lr;
  hp[HP.beta1] = a.beta1;
  hp[HP.beta2] = a.beta2;
  hp[HP.eps] = a.eps;
  hp[HP.weightDecay] = a.weightDecay;
  hp[HP.flags] = packGradient(hp, a) | (a.decoupled ? FLAG.decoupled : 0);
  hp[HP.step] = step;
}

export function packSgd(hp: Float64Array, s: ResolvedSgd, lr: number, step: number): void {
  hp[HP.lr] = lr;
  hp[HP.beta1] = s.momentum;
  hp[HP.beta2] = s.dampening;
  hp[HP.eps] = 0;
  hp[HP.weightDecay] = s.weightDecay;
  hp[HP.flags] = packGradient(hp, s) | (s.nesterov ? FLAG.nesterov : 0);
  hp[HP.step] = step;
}
