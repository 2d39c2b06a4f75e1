/** `Adagrad`: the optimizer class of the Adagrad rule (`../rules/adagrad.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of Adagrad (per group, except the gradient options). */
export interface AdagradHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-2. */
  lr?: number;
  /** Learning-rate decay, >= 0: step t uses lr / (1 + (t − 1)·lrDecay). Default 0. */
  lrDecay?: number;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** The value the accumulator `sum` starts from, >= 0 (used when the optimizer is built). Default 0. */
  initialAccumulatorValue?: number;
  /** Added to √sum, >= 0. Default 1e-10. */
  eps?: number;
}

/** Options of the Adagrad constructor: hyperparameter defaults, gradient and common options. */
export interface AdagradOptions extends Omit<AdagradHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `Adagrad` reports. */
export type AdagradResolved = Required<Omit<AdagradHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Adagrad, `torch.optim.Adagrad` semantics. For applied step t (1-based) and each element:
 *
 *     g    = grad · gradScale · clipCoef + weightDecay · p
 *     clr  = lr / (1 + (t − 1) · lrDecay)
 *     sum += g²
 *     p   −= clr · g / (√sum + eps)
 *
 * State: `sum`, 4 bytes per parameter, starting at `initialAccumulatorValue`; a step moves 20
 * bytes per parameter. Defaults: lr 1e-2, lrDecay 0, weightDecay 0, initialAccumulatorValue 0,
 * eps 1e-10. TensorFlow.js's `tf.train.adagrad(lr)` is `initialAccumulatorValue: 0.1 + 1e-7,
 * eps: 0` here (docs/tfjs-mapping.md).
 *
 * @example
 * ```ts
 * const opt = new Adagrad([new Float32Array([1, -2])], { lr: 0.1 });
 * opt.grads[0].set([0.5, 0.5]);
 * opt.step(); // sum = 0.25: each weight moves by lr · 0.5 / √0.25 = 0.1
 * Array.from(opt.params[0]); // ≈ [0.9, -2.1]
 * opt.stateDict().state.sum[0][0]; // → 0.25
 * opt.dispose();
 * ```
 */
export class Adagrad extends FusedOptimizer<AdagradResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, lrDecay?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<AdagradHyperparameters>[], options: AdagradOptions = {}) {
    super('adagrad', params, options);
  }
}
