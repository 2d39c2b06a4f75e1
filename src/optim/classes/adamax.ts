/** `Adamax`: the optimizer class of the Adamax rule (`../rules/adamax.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of Adamax (per group, except the gradient options). */
export interface AdamaxHyperparameters extends GradientOptions {
  /** Learning rate. Default 2e-3. */
  lr?: number;
  /** Exponential decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the infinity norm, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to |g| inside the max, >= 0. Default 1e-8. */
  eps?: number;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
}

/** Options of the Adamax constructor: hyperparameter defaults, gradient and common options. */
export interface AdamaxOptions extends Omit<AdamaxHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `Adamax` reports. */
export type AdamaxResolved = Required<Omit<AdamaxHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Adamax (the infinity-norm variant of Adam), `torch.optim.Adamax` semantics. For applied
 * step t (1-based) and each element:
 *
 *     g  = grad · gradScale · clipCoef + weightDecay · p
 *     m  = β1·m + (1 − β1)·g
 *     u  = max(β2·u, |g| + eps)
 *     p −= lr / (1 − β1^t) · m / u
 *
 * State: `expAvg` (m) and `expInf` (u), 8 bytes per parameter; a step moves 28 bytes per
 * parameter. Defaults: lr 2e-3, beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.
 *
 * @example
 * ```ts
 * const opt = new Adamax([new Float32Array([1, 1])]);
 * opt.grads[0].set([0.5, -0.25]);
 * opt.step(); // the first step moves every weight by lr·sign(g): m/(1 − β1) = g and u = |g|
 * Array.from(opt.params[0]); // ≈ [0.998, 1.002]
 * Array.from(opt.stateDict().state.expInf[0]); // ≈ [0.5, 0.25]
 * opt.dispose();
 * ```
 */
export class Adamax extends FusedOptimizer<AdamaxResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, beta1?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<AdamaxHyperparameters>[], options: AdamaxOptions = {}) {
    super('adamax', params, options);
  }
}
