/**
 * Schedule-free AdamW (`native/core/rules/schedulefree_adamw.h`): `AdamWScheduleFree` of
 * facebookresearch/schedule_free, `schedulefree/adamw_schedulefree.py` as of release 1.3.
 *
 * The per-group constants that depend on the run's history live on the host
 * ({@link RuleSpec.host}): `lrMax`, the largest warmed-up learning rate so far (−1 before the
 * first step, as in the reference), and `weightSum`, the sum of the averaging weights. The
 * step index k of the reference is the optimizer's applied-step count (t − 1), so a skipped
 * step advances neither.
 */
import * as v from '../../validate.js';
import { check, type HostState, type RuleSpec } from './spec.js';

/** Resolved schedule-free AdamW hyperparameters (besides lr). */
export interface ScheduleFreeAdamWHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  warmupSteps: number;
  r: number;
  weightLrPower: number;
}

/** The averaging constants of applied step t (1-based) from a group's state before it. */
function weights(r: ScheduleFreeAdamWHyper, lr: number, t: number, state: Readonly<Record<string, number>>): { lrMax: number; weightSum: number; ckp1: number } {
  const k = t - 1;
  const sched = k < r.warmupSteps ? (k + 1) / r.warmupSteps : 1;
  const lrMax = Math.max(lr * sched, state.lrMax);
  const weight = (k + 1) ** r.r * lrMax ** r.weightLrPower;
  const weightSum = state.weightSum + weight;
  return { lrMax, weightSum, ckp1: weightSum === 0 ? 0 : weight / weightSum };
}

/** lrMax and weightSum per group; the packed field `ckp1` derived from them. */
const host: HostState<ScheduleFreeAdamWHyper> = {
  init: () => ({ lrMax: -1, weightSum: 0 }),
  derive: (r, lr, t, state) => ({ ckp1: weights(r, lr, t, state).ckp1 }),
  advance: (r, lr, t, state) => {
    const w = weights(r, lr, t, state);
    return { lrMax: w.lrMax, weightSum: w.weightSum };
  },
};

/** `AdamWScheduleFree` (facebookresearch/schedule_free 1.3). */
export const SCHEDULEFREE_ADAMW: RuleSpec<ScheduleFreeAdamWHyper> = Object.freeze({
  kind: 'schedulefree-adamw',
  className: 'ScheduleFreeAdamW',
  native: { name: 'schedulefree_adamw', code: 10 },
  checkpointCode: 11,
  defaultLr: 0.0025,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 }),
  checks: {
    // eval() moves the parameters by 1 − 1/β1: β1 = 0 has no x.
    beta1: (name: string, value: unknown): number => v.inInterval(name, value, 0, 1, { loOpen: true, hiOpen: true }),
    beta2: check.beta,
    eps: check.nonNegative,
    weightDecay: check.nonNegative,
    warmupSteps: (name: string, value: unknown): number => v.integer(name, value, 0, 2 ** 40),
    r: check.nonNegative,
    weightLrPower: check.nonNegative,
  },
  fields: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'warmupSteps', 'r', 'weightLrPower', 'ckp1'],
  stateNames: ['z', 'expAvgSq'],
  host,
  trainEvalModes: true,
  refinable: false,
  refineNorm: 'l1',
});
