/**
 * RAdam (`native/core/rules/radam.h`): `torch.optim.RAdam` of PyTorch 2.x. Every constant,
 * and whether the step is rectified, derives from the applied-step count natively.
 */
import { check, type RuleSpec } from './spec.js';

/** Resolved RAdam hyperparameters (besides lr). */
export interface RAdamHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** `torch.optim.RAdam` (PyTorch 2.x; L2 weight decay added to the gradient). */
export const RADAM: RuleSpec<RAdamHyper> = Object.freeze({
  kind: 'radam',
  className: 'RAdam',
  native: { name: 'radam', code: 7 },
  checkpointCode: 8,
  defaultLr: 1e-3,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }),
  checks: { beta1: check.beta, beta2: check.beta, eps: check.nonNegative, weightDecay: check.nonNegative },
  fields: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  stateNames: ['expAvg', 'expAvgSq'],
  refineNorm: 'l1',
});
