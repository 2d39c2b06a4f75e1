/** `ScheduleFreeAdamW`: the optimizer class of the schedule-free AdamW rule (`../rules/schedulefree-adamw.ts`). */
import { SLOT } from '../../native.js';
import { FusedOptimizer, type OptimizerCommonOptions, type ParamGroup, type ParamInit } from '../optimizer.js';
import type { GradientOptions } from '../options.js';

/** Hyperparameters of schedule-free AdamW (per group, except the gradient options). */
export interface ScheduleFreeAdamWHyperparameters extends GradientOptions {
  /** Learning rate (after warm-up). Default 0.0025. */
  lr?: number;
  /** Interpolation between z and x for the gradient point y, in (0, 1). Default 0.9. */
  beta1?: number;
  /** Exponential decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator, >= 0. Default 1e-8. */
  eps?: number;
  /** Weight decay computed at y, >= 0. Default 0. */
  weightDecay?: number;
  /** Linear warm-up of the learning rate over this many applied steps (an integer >= 0). Default 0. */
  warmupSteps?: number;
  /** Polynomial weighting of the average: step k weighs (k+1)^r, >= 0. Default 0. */
  r?: number;
  /** The average weighs each step by lrMax^weightLrPower, >= 0. Default 2. */
  weightLrPower?: number;
}

/** Options of the ScheduleFreeAdamW constructor: hyperparameter defaults, gradient and common options. */
export interface ScheduleFreeAdamWOptions extends Omit<ScheduleFreeAdamWHyperparameters, 'lr'>, OptimizerCommonOptions {}

/** The resolved hyperparameters `ScheduleFreeAdamW` reports. */
export type ScheduleFreeAdamWResolved = Required<Omit<ScheduleFreeAdamWHyperparameters, 'maxGradNorm'>> & { maxGradNorm: number | null };

/**
 * Schedule-free AdamW (Defazio et al. 2024, "The Road Less Scheduled"): no learning-rate
 * schedule; the iterate that is evaluated is an average, and gradients are taken at an
 * interpolation between it and the base sequence. Semantics of `AdamWScheduleFree` of
 * facebookresearch/schedule_free, `schedulefree/adamw_schedulefree.py` as of release 1.3
 * (bias correction inside the denominator, lr_max from the warmed-up lr; the older
 * `AdamWScheduleFreePaper` form scales lr by √(1 − β2^t) instead), in its memory-lean form:
 * the parameters hold y while training, the state is `z` and `expAvgSq` (v), 8 bytes per
 * parameter; a step moves 28 bytes per parameter, as Adam.
 *
 * For applied step t (1-based, k = t − 1; skipped steps do not count) and each group:
 *
 *     lr_t   = lr · min(1, (k + 1) / warmupSteps)        (1 when warmupSteps is 0)
 *     lrMax  = max(lrMax, lr_t)                           (host state, −1 at first)
 *     w_t    = (k + 1)^r · lrMax^weightLrPower ;  W += w_t (host state)
 *     c      = w_t / W                                    (0 when W is 0)
 *
 * and each element, with g the gradient · gradScale · clip coefficient:
 *
 *     v  = β2·v + (1 − β2)·g²
 *     gn = g / (√(v / (1 − β2^t)) + eps) + weightDecay · y
 *     y  = y + c·(z − y) ;  y += lr_t·(β1·(1 − c) − 1)·gn ;  z −= lr_t·gn
 *
 * z starts as a copy of the parameters at the first applied step (as the reference's lazy
 * state). The evaluation point is x = y + (1 − 1/β1)·(z − y): `eval()` moves the parameters to
 * x and `train()` back to y (y = x + (1 − β1)·(z − x)), each a lerp towards z with the
 * group's β1; before the first applied step both only set the mode. `step()` in eval mode
 * throws. Checkpoints record the mode and the host state (lrMax, weightSum); the step index
 * is the applied-step count. A trace of this rule cannot be refined (no schedule).
 * The round trip eval → train is exact in real arithmetic and within fp32 rounding here, as in
 * the reference. Defaults: lr 0.0025, beta1 0.9, beta2 0.999, eps 1e-8, weightDecay 0,
 * warmupSteps 0, r 0, weightLrPower 2.
 *
 * @example
 * ```ts
 * const opt = new ScheduleFreeAdamW([new Float32Array([1])], { lr: 0.1 });
 * opt.grads[0][0] = 0.5;
 * opt.step();
 * opt.step();                 // z = 1 − 0.1 − 0.1; y leans towards the average of z
 * opt.params[0][0]; // ≈ 0.845
 * opt.eval();                 // parameters → x, the average of z after each step
 * opt.params[0][0]; // ≈ 0.85
 * opt.train();
 * opt.params[0][0]; // ≈ 0.845
 * opt.dispose();
 * ```
 */
export class ScheduleFreeAdamW extends FusedOptimizer<ScheduleFreeAdamWResolved> {
  /**
   * @param params - the tensors (Float32Array initial values, copied, or lengths), or
   *   parameter groups `{ params, lr?, beta1?, warmupSteps?, ... }` with per-group overrides.
   * @param options - the defaults of every group, and the global options.
   */
  constructor(params: readonly ParamInit[] | readonly ParamGroup<ScheduleFreeAdamWHyperparameters>[], options: ScheduleFreeAdamWOptions = {}) {
    super('schedulefree-adamw', params, options);
  }

  /** `'train'` (the parameters hold y, where gradients are taken) or `'eval'` (they hold x). */
  get mode(): 'train' | 'eval' {
    this.live();
    return this.pointMode;
  }

  /**
   * Moves the parameters to the evaluation point x = y + (1 − 1/β1)·(z − y) (each group with
   * its β1). A no-op in eval mode. Call it where you call `model.eval()` (and before saving a
   * model for inference).
   */
  eval(): void {
    this.#switch('eval', (beta1) => 1 - 1 / beta1);
  }

  /** Moves the parameters back to y = x + (1 − β1)·(z − x). A no-op in train mode. */
  train(): void {
    this.#switch('train', (beta1) => 1 - beta1);
  }

  #switch(to: 'train' | 'eval', weight: (beta1: number) => number): void {
    this.live();
    if (this.pointMode === to) return;
    // z exists from the first applied step on; before it the parameters are both points.
    if (this.appliedSteps > 0) {
      this.lerpSlots(SLOT.params, SLOT.firstState, this.groups.map((g) => weight(g.hyperparameters.beta1 as number)));
    }
    this.pointMode = to;
  }
}
