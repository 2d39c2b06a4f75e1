/** `Adadelta`: the optimizer class of the Adadelta rule (`../rules/adadelta.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of Adadelta (per group, except the gradient options). */
export interface AdadeltaHyperparameters extends GradientOptions {
  /** Scales the update. Default 1. */
  lr?: number;
  /** Decay of both running averages, in [0, 1]. Default 0.9. */
  rho?: number;
  /** Added inside both square roots, >= 0. Default 1e-6. */
  eps?: number;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
}

/** Options of the Adadelta constructor: hyperparameter defaults, gradient and common options. */
export interface AdadeltaOptions extends Omit<AdadeltaHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `Adadelta` reports. */
export type AdadeltaResolved = Required<Omit<AdadeltaHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Adadelta, `torch.optim.Adadelta` semantics. Per element:
 *
 *     g     = grad · gradScale · clipCoef + weightDecay · p
 *     sq    = ρ·sq + (1 − ρ)·g²
 *     delta = √(acc + eps) / √(sq + eps) · g
 *     acc   = ρ·acc + (1 − ρ)·delta²
 *     p    −= lr · delta
 *
 * State: `squareAvg` (sq) and `accDelta` (acc), 8 bytes per parameter; a step moves 28 bytes
 * per parameter. Defaults: lr 1, rho 0.9, eps 1e-6, weightDecay 0.
 *
 * @example
 * ```ts
 * const opt = new Adadelta([new Float32Array([1])]);
 * opt.grads[0].set([0.5]);
 * opt.step(); // delta = √1e-6 / √(0.1·0.25 + 1e-6) · 0.5
 * opt.params[0][0]; // ≈ 0.99684
 * opt.stateDict().state.squareAvg[0][0]; // ≈ 0.025
 * opt.dispose();
 * ```
 */
export class Adadelta extends FusedOptimizer<AdadeltaResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, rho?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<AdadeltaHyperparameters>[], options: AdadeltaOptions = {}) {
    super('adadelta', params, options);
  }
}
