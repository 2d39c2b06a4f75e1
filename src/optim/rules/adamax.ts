/** Adamax (`native/core/rules/adamax.h`). */
import { check, type RuleSpec } from './spec.js';

/** Resolved Adamax hyperparameters (besides lr). */
export interface AdamaxHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** `torch.optim.Adamax`. */
export const ADAMAX: RuleSpec<AdamaxHyper> = Object.freeze({
  kind: 'adamax',
  className: 'Adamax',
  native: { name: 'adamax', code: 4 },
  checkpointCode: 5,
  defaultLr: 2e-3,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }),
  checks: { beta1: check.beta, beta2: check.beta, eps: check.nonNegative, weightDecay: check.nonNegative },
  fields: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  stateNames: ['expAvg', 'expInf'],
  refineNorm: 'l1',
});
