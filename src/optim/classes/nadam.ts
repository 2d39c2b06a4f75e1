/** `NAdam`: the optimizer class of the NAdam rule (`../rules/nadam.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of NAdam (per group, except the gradient options). */
export interface NAdamHyperparameters extends GradientOptions {
  /** Learning rate. Default 2e-3. */
  lr?: number;
  /** Exponential decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Exponential decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, >= 0. Default 1e-8. */
  eps?: number;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** ψ of the momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)), >= 0. Default 4e-3. */
  momentumDecay?: number;
}

/** Options of the NAdam constructor: hyperparameter defaults, gradient and common options. */
export interface NAdamOptions extends Omit<NAdamHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `NAdam` reports. */
export type NAdamResolved = Required<Omit<NAdamHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Adam with Nesterov momentum (Dozat 2016), `torch.optim.NAdam` semantics of PyTorch 2.x
 * (L2 weight decay; PyTorch 1.x multiplied μ_t into the product twice, 2.x and this class do
 * not). For applied step t (1-based) and each element:
 *
 *     g = grad · gradScale · clipCoef + weightDecay · p
 *     μ_t = β1 · (1 − ½ · 0.96^(t · momentumDecay)),   Π_t = μ_1 · … · μ_t
 *     m = β1·m + (1 − β1)·g
 *     v = β2·v + (1 − β2)·g²
 *     d = √(v / (1 − β2^t)) + eps
 *     p −= lr·(1 − μ_t)/(1 − Π_t) · g/d + lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d
 *
 * The product Π_t is kept per group on the host (in double) and saved in checkpoints; a
 * skipped step does not advance it. State: `expAvg` (m) and `expAvgSq` (v), 8 bytes per
 * parameter; a step moves 28 bytes per parameter. Defaults: lr 2e-3, beta1 0.9, beta2 0.999,
 * eps 1e-8, weightDecay 0, momentumDecay 4e-3.
 *
 * @example
 * ```ts
 * const opt = new NAdam([new Float32Array([1, 1])]);
 * opt.grads[0].set([0.1, -0.1]);
 * opt.step();
 * // step 1: lr·(g + μ_2/(1 − μ_1·μ_2)·(1 − β1)·g)/|g| = 0.002·(1 + 0.0565)
 * 1 - opt.params[0][0]; // ≈ 0.002113
 * opt.params[0][1] - 1; // ≈ 0.002113
 * opt.dispose();
 * ```
 */
export class NAdam extends FusedOptimizer<NAdamResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, beta1?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<NAdamHyperparameters>[], options: NAdamOptions = {}) {
    super('nadam', params, options);
  }
}
