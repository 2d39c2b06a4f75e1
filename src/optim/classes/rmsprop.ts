/** `RMSprop`: the optimizer class of the RMSprop rule (`../rules/rmsprop.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of RMSprop (per group, except the gradient options). */
export interface RmspropHyperparameters extends GradientOptions {
  /** Learning rate. Default 1e-2. */
  lr?: number;
  /** Decay of the running average of g², in [0, 1]. Default 0.99. */
  alpha?: number;
  /** Added to the root mean square, >= 0. Default 1e-8. */
  eps?: number;
  /** L2 weight decay added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** Momentum factor, >= 0. Default 0 (the momentum buffer is neither read nor written). */
  momentum?: number;
  /** Divide by the centered second moment (g² average minus the squared g average). Default false. */
  centered?: boolean;
}

/** Options of the RMSprop constructor: hyperparameter defaults, gradient and common options. */
export interface RmspropOptions extends Omit<RmspropHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `RMSprop` reports. */
export type RmspropResolved = Required<Omit<RmspropHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * RMSprop, `torch.optim.RMSprop` semantics. Per element:
 *
 *     g   = grad · gradScale · clipCoef + weightDecay · p
 *     sq  = α·sq + (1 − α)·g²
 *     centered:  ga = α·ga + (1 − α)·g ;  avg = √(sq − ga²) + eps
 *     otherwise: avg = √sq + eps
 *     momentum > 0:  buf = momentum·buf + g / avg ;  p −= lr·buf
 *     otherwise:     p −= lr · g / avg
 *
 * State: `squareAvg`, `momentumBuffer` and `gradAvg`, 12 bytes per parameter allocated; a
 * group reads and writes `momentumBuffer` only with momentum and `gradAvg` only when centered,
 * so a step moves 20 bytes per parameter (plain), 28 (momentum or centered) or 36 (both).
 * Defaults: lr 1e-2, alpha 0.99, eps 1e-8, weightDecay 0, momentum 0, centered false.
 *
 * @example
 * ```ts
 * const opt = new RMSprop([{ params: [new Float32Array([1])] }, { params: [new Float32Array([1])], momentum: 0.9, centered: true }]);
 * opt.grads[0].set([0.1]);
 * opt.grads[1].set([0.1]);
 * opt.step(); // first step: sq = 0.01·g², so p moves by lr·g/√sq = 0.01·10
 * opt.params[0][0]; // ≈ 0.9
 * opt.params[1][0]; // ≈ 0.8995 (centered: √(sq − ga²) ≈ 0.00995, so p moves by 0.1005)
 * opt.stateDict().state.momentumBuffer[0][0]; // → 0
 * opt.dispose();
 * ```
 */
export class RMSprop extends FusedOptimizer<RmspropResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, alpha?, momentum?, centered?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<RmspropHyperparameters>[], options: RmspropOptions = {}) {
    super('rmsprop', params, options);
  }
}
