/** `SGD`: the optimizer class of the SGD rule (`../rules/sgd.ts`). */
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { SgdHyperparameters } from '../options.js';

/** Options of the SGD constructor: hyperparameter defaults, gradient and common options. */
export interface SgdOptions extends Omit<SgdHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `SGD` reports. */
export type SgdResolved = Required<Omit<SgdHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * SGD with momentum, dampening, Nesterov and weight decay, `torch.optim.SGD` semantics. Per
 * element:
 *
 *     g = grad · gradScale · clipCoef + weightDecay · p
 *     with momentum: buf = g on the first applied step, else buf = momentum·buf + (1 − dampening)·g
 *                    g = nesterov ? g + momentum·buf : buf
 *     p −= lr · g
 *
 * State: `momentumBuffer`, read and written only by groups with momentum. A step moves 12
 * bytes per parameter without momentum, 20 with. Defaults: lr 1e-3, no momentum.
 *
 * @example
 * ```ts
 * const opt = new SGD([{ params: [4096], momentum: 0.9, nesterov: true }, { params: [64] }], { lr: 0.1 });
 * opt.grads[0].fill(0.01);
 * opt.step();
 * opt.setOptions({ lr: 0.01 }, { group: 1 }); // fine-tune one group slower
 * opt.groups.map((g) => g.lr); // → [0.1, 0.01]
 * opt.dispose();
 * ```
 */
export class SGD extends FusedOptimizer<SgdResolved> {
  /**
   * @param params - the tensors, or parameter groups with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<SgdHyperparameters>[], options: SgdOptions = {}) {
    super('sgd', params, options);
  }
}
