/** `RAdam`: the optimizer class of the RAdam rule (`../rules/radam.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of RAdam (per group, except the gradient options). */
export interface RAdamHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Exponential decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Exponential decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, >= 0. Default 1e-8. */
  eps?: number;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
}

/** Options of the RAdam constructor: hyperparameter defaults, gradient and common options. */
export interface RAdamOptions extends Omit<RAdamHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `RAdam` reports. */
export type RAdamResolved = Required<Omit<RAdamHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Rectified Adam (Liu et al. 2020), `torch.optim.RAdam` semantics of PyTorch 2.x (L2 weight
 * decay). For applied step t (1-based) and each element:
 *
 *     g = grad · gradScale · clipCoef + weightDecay · p
 *     m = β1·m + (1 − β1)·g
 *     v = β2·v + (1 − β2)·g²
 *     ρ∞ = 2/(1 − β2) − 1,   ρ_t = ρ∞ − 2t·β2^t/(1 − β2^t)
 *     ρ_t > 5:  r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
 *               p −= lr · r · √(1 − β2^t)/(1 − β1^t) · m/(√v + eps)
 *     else:     p −= lr/(1 − β1^t) · m           (momentum SGD while the variance is unreliable)
 *
 * With β2 = 0.999 the first 5 steps are unrectified. State: `expAvg` (m) and `expAvgSq` (v),
 * 8 bytes per parameter, both updated on every step; a step moves 28 bytes per parameter.
 * Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.
 *
 * @example
 * ```ts
 * const opt = new RAdam([new Float32Array([1])], { lr: 0.1 });
 * opt.grads[0][0] = 0.5;
 * opt.step(); // ρ_1 = 1: p −= lr·m/(1 − β1) = lr·g
 * opt.params[0][0]; // ≈ 0.95
 * for (let i = 0; i < 5; i++) opt.step(); // steps 2–5 as step 1; step 6: ρ_6 ≈ 5.99, r ≈ 0.0258
 * 0.95 - opt.params[0][0]; // ≈ 0.2026 (4 · 0.05 + lr · r)
 * opt.dispose();
 * ```
 */
export class RAdam extends FusedOptimizer<RAdamResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, beta1?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<RAdamHyperparameters>[], options: RAdamOptions = {}) {
    super('radam', params, options);
  }
}
