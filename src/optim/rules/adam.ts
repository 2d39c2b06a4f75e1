/**
 * Adam and AdamW: one native rule (`native/core/rules/adam.h`), two specs that differ in their
 * defaults (AdamW: decoupled weight decay 0.01).
 */
import * as v from '../../validate.js';
import { check, type RuleSpec } from './spec.js';

/** Resolved Adam / AdamW hyperparameters (besides lr). */
export interface AdamHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

const checks = {
  beta1: check.beta,
  beta2: check.beta,
  eps: check.nonNegative,
  weightDecay: check.nonNegative,
  decoupled: check.boolean,
};

const common = {
  native: { name: 'adam', code: 1 },
  defaultLr: 1e-3,
  checks,
  fields: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled'],
  stateNames: ['expAvg', 'expAvgSq'],
  refineNorm: 'l1',
} as const;

/** `torch.optim.Adam`: L2 weight decay added to the gradient. */
export const ADAM: RuleSpec<AdamHyper> = Object.freeze({
  ...common,
  kind: 'adam',
  className: 'Adam',
  checkpointCode: 1,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }),
});

/** `torch.optim.AdamW`: decoupled weight decay, always. */
export const ADAMW: RuleSpec<AdamHyper> = Object.freeze({
  ...common,
  kind: 'adamw',
  className: 'AdamW',
  checkpointCode: 2,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, decoupled: true }),
  crossCheck(r: AdamHyper, prefix: string): void {
    if (!r.decoupled) throw v.rangeError(`${prefix}.decoupled`, 'true (AdamW always decouples weight decay; use Adam)', r.decoupled);
  },
});
