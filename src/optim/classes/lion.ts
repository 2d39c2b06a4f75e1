/** `Lion`: the optimizer class of the Lion rule (`../rules/lion.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of Lion (per group, except the gradient options). */
export interface LionHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-4 (Lion wants 3–10× less than AdamW). */
  lr?: number;
  /** Interpolation between momentum and gradient for the update's sign, in [0, 1]. Default 0.9. */
  beta1?: number;
  /** Exponential decay of the momentum, in [0, 1]. Default 0.99. */
  beta2?: number;
  /** Decoupled weight decay, p *= 1 − lr · weightDecay, >= 0. Default 0. */
  weightDecay?: number;
}

/** Options of the Lion constructor: hyperparameter defaults, gradient and common options. */
export interface LionOptions extends Omit<LionHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `Lion` reports. */
export type LionResolved = Required<Omit<LionHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization
 * Algorithms", Program 1); the reference is `optax.lion` (there is no torch class). Per element:
 *
 *     g = grad · gradScale · clipCoef
 *     c = β1·m + (1 − β1)·g
 *     p = p·(1 − lr·weightDecay) − lr·sign(c)        sign(0) = 0
 *     m = β2·m + (1 − β2)·g
 *
 * Every element moves by exactly lr (plus decay), whatever the gradient's scale. State:
 * `expAvg` (m), 4 bytes per parameter, half of Adam's; a step moves 20 bytes per parameter.
 * Defaults: lr 1e-4, beta1 0.9, beta2 0.99, weightDecay 0.
 *
 * @example
 * ```ts
 * const opt = new Lion([new Float32Array([1, -1, 0.5])], { lr: 0.01, weightDecay: 0.1 });
 * opt.grads[0].set([0.3, -2e-6, 0]);
 * opt.step();
 * Array.from(opt.params[0]); // ≈ [0.989, -0.989, 0.4995]
 * opt.dispose();
 * ```
 */
export class Lion extends FusedOptimizer<LionResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, beta1?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<LionHyperparameters>[], options: LionOptions = {}) {
    super('lion', params, options);
  }
}
