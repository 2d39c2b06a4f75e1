/** SGD with momentum, dampening, Nesterov and weight decay (`native/core/rules/sgd.h`). */
import { check, type RuleSpec } from './spec.js';

/** Resolved SGD hyperparameters (besides lr). */
export interface SgdHyper extends Record<string, number | boolean> {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** `torch.optim.SGD`. */
export const SGD_RULE: RuleSpec<SgdHyper> = Object.freeze({
  kind: 'sgd',
  className: 'SGD',
  native: { name: 'sgd', code: 0 },
  checkpointCode: 0,
  defaultLr: 1e-3,
  defaults: Object.freeze({ momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }),
  checks: { momentum: check.nonNegative, dampening: check.unit, nesterov: check.boolean, weightDecay: check.nonNegative },
  crossCheck(r: SgdHyper, prefix: string): void {
    if (r.nesterov && (r.momentum <= 0 || r.dampening !== 0)) {
      throw new RangeError(
        `Expected momentum > 0 and dampening 0 for ${prefix}.nesterov = true but received momentum ${r.momentum} and dampening ${r.dampening}`,
      );
    }
  },
  fields: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'],
  stateNames: ['momentumBuffer'],
  refineNorm: 'l2',
});
