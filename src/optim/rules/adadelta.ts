/** Adadelta (`native/core/rules/adadelta.h`). */
import { check, type RuleSpec } from './spec.js';

/** Resolved Adadelta hyperparameters (besides lr). */
export interface AdadeltaHyper extends Record<string, number | boolean> {
  rho: number;
  eps: number;
  weightDecay: number;
}

/** `torch.optim.Adadelta`. */
export const ADADELTA: RuleSpec<AdadeltaHyper> = Object.freeze({
  kind: 'adadelta',
  className: 'Adadelta',
  native: { name: 'adadelta', code: 5 },
  checkpointCode: 6,
  defaultLr: 1,
  defaults: Object.freeze({ rho: 0.9, eps: 1e-6, weightDecay: 0 }),
  checks: { rho: check.unit, eps: check.nonNegative, weightDecay: check.nonNegative },
  fields: ['lr', 'rho', 'eps', 'weightDecay'],
  stateNames: ['squareAvg', 'accDelta'],
  refineNorm: 'l1',
});
