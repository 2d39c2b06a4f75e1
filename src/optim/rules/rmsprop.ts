/** RMSprop (`native/core/rules/rmsprop.h`). */
import { check, type RuleSpec } from './spec.js';

/** Resolved RMSprop hyperparameters (besides lr). */
export interface RmspropHyper extends Record<string, number | boolean> {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/** `torch.optim.RMSprop`. */
export const RMSPROP: RuleSpec<RmspropHyper> = Object.freeze({
  kind: 'rmsprop',
  className: 'RMSprop',
  native: { name: 'rmsprop', code: 3 },
  checkpointCode: 4,
  defaultLr: 1e-2,
  defaults: Object.freeze({ alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }),
  checks: {
    alpha: check.unit,
    eps: check.nonNegative,
    weightDecay: check.nonNegative,
    momentum: check.nonNegative,
    centered: check.boolean,
  },
  fields: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered'],
  // in torch's order; a group reads and writes momentumBuffer only with momentum > 0 and
  // gradAvg only when centered
  stateNames: ['squareAvg', 'momentumBuffer', 'gradAvg'],
  refineNorm: 'l1',
});
