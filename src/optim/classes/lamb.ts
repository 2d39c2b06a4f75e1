/** `Lamb`: the optimizer class of the LAMB rule (`../rules/lamb.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of LAMB (per group, except the gradient options). */
export interface LambHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, >= 0. Default 1e-6. */
  eps?: number;
  /** Decoupled weight decay added to the update before the trust ratio, >= 0. Default 0. */
  weightDecay?: number;
}

/** Options of the Lamb constructor: hyperparameter defaults, gradient and common options. */
export interface LambOptions extends Omit<LambHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `Lamb` reports. */
export type LambResolved = Required<Omit<LambHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
 * minutes"), `optax.lamb` semantics: Adam's bias-corrected direction plus weight decay, scaled
 * per tensor by the trust ratio. For applied step t (1-based), per tensor:
 *
 *     g = grad · gradScale · clipCoef
 *     m = β1·m + (1 − β1)·g ;  v = β2·v + (1 − β2)·g²
 *     u = (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + eps) + weightDecay · p
 *     p −= lr · (‖p‖ / ‖u‖) · u        (the ratio is 1 when either norm is 0)
 *
 * The ratio needs both norms over the whole tensor before any element moves, so a step is
 * three passes over memory (reduce g; update the moments and sum p², u²; move p): 44 bytes
 * per parameter, against Adam's 28. Norms, clipping and skipping work as for every rule.
 * Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-6, weightDecay 0.
 *
 * @example
 * ```ts
 * const opt = new Lamb([new Float32Array([3, 4])], { lr: 0.1 });
 * opt.grads[0].set([1, 1]);
 * opt.step();
 * // the first step's direction is sign(g) (|u| = 1 per element): ‖u‖ = √2, ‖p‖ = 5,
 * // so each weight moves by 0.1 · 5/√2 ≈ 0.354
 * opt.readParams(0)[0]; // ≈ 2.646
 * opt.dispose();
 * ```
 */
export class Lamb extends FusedOptimizer<LambResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, weightDecay?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<LambHyperparameters>[], options: LambOptions = {}) {
    super('lamb', params, options);
  }
}
