/** `Adam` and `AdamW`: the optimizer classes of the Adam rule (`../rules/adam.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { AdamHyperparameters } from '../options.js';

/** Options of the Adam and AdamW constructors: hyperparameter defaults, gradient and common options. */
export interface AdamOptions extends Omit<AdamHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `Adam`/`AdamW` report. */
export type AdamResolved = Required<Omit<AdamHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Adam with L2 weight decay added to the gradient, `torch.optim.Adam` semantics (with
 * `decoupled: true`, AdamW's update). For step t (applied steps, 1-based) and each element:
 *
 *     g = grad · gradScale · clipCoef + weightDecay · p
 *     m = β1·m + (1 − β1)·g
 *     v = β2·v + (1 − β2)·g²
 *     p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 *
 * State: `expAvg` (m) and `expAvgSq` (v), 8 bytes per parameter; a step moves 28 bytes per
 * parameter. Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.
 *
 * @example
 * ```ts
 * const opt = new Adam([new Float32Array([1, 2, 3]), 1000], { lr: linearDecay({ peak: 1e-3, steps: 100 }) });
 * opt.grads[0].set([0.1, -0.2, 0.3]); // write gradients straight into the arena
 * const info = opt.step();            // { gradNormL2, gradNormL1, clipCoef, skipped, lr, ... }
 * info.gradNormL1; // ≈ 0.6
 * info.lr; // → 0.001
 * opt.dispose();
 * ```
 */
export class Adam extends FusedOptimizer<AdamResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, beta1?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<AdamHyperparameters>[], options: AdamOptions = {}) {
    super('adam', params, options);
  }
}

/**
 * Adam with decoupled weight decay, `torch.optim.AdamW` semantics. Per element, for applied
 * step t (1-based):
 *
 *     g = grad · gradScale · clipCoef
 *     p *= 1 − lr · weightDecay
 *     m = β1·m + (1 − β1)·g ;  v = β2·v + (1 − β2)·g²
 *     p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 *
 * Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0.01. The usual recipe puts
 * no weight decay on biases and normalisation weights: give those a group of their own.
 *
 * @example
 * ```ts
 * const weights = new Float32Array(784 * 128), bias = new Float32Array(128);
 * const opt = new AdamW([{ params: [weights] }, { params: [bias], weightDecay: 0 }], { lr: 3e-4, weightDecay: 0.05 });
 * opt.groups[1].hyperparameters.weightDecay; // → 0
 * opt.groups[1].tensors; // → [1]
 * opt.step();
 * opt.dispose();
 * ```
 */
export class AdamW extends FusedOptimizer<AdamResolved> {
  /**
   * @param params - the tensors, or parameter groups with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<Omit<AdamHyperparameters, 'decoupled'>>[], options: Omit<AdamOptions, 'decoupled'> = {}) {
    super('adamw', params, options);
  }
}
