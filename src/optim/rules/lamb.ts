/** LAMB (`native/core/rules/lamb.h`): Adam's direction with a per-tensor trust ratio, optax.lamb semantics. */
import { check, type RuleSpec } from './spec.js';

/** Resolved LAMB hyperparameters (besides lr). */
export interface LambHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** `optax.lamb` (eps_root 0, no mask). */
export const LAMB: RuleSpec<LambHyper> = Object.freeze({
  kind: 'lamb',
  className: 'Lamb',
  native: { name: 'lamb', code: 9 },
  checkpointCode: 10,
  defaultLr: 1e-3,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0 }),
  checks: { beta1: check.beta, beta2: check.beta, eps: check.nonNegative, weightDecay: check.nonNegative },
  fields: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  stateNames: ['expAvg', 'expAvgSq'],
  refineNorm: 'l1',
});
