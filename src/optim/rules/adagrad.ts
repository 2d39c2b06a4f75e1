/** Adagrad (`native/core/rules/adagrad.h`). */
import { check, type RuleSpec } from './spec.js';

/** Resolved Adagrad hyperparameters (besides lr). */
export interface AdagradHyper extends Record<string, number | boolean> {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

/** `torch.optim.Adagrad`. */
export const ADAGRAD: RuleSpec<AdagradHyper> = Object.freeze({
  kind: 'adagrad',
  className: 'Adagrad',
  native: { name: 'adagrad', code: 2 },
  checkpointCode: 3,
  defaultLr: 1e-2,
  defaults: Object.freeze({ lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 }),
  checks: {
    lrDecay: check.nonNegative,
    weightDecay: check.nonNegative,
    initialAccumulatorValue: check.nonNegative,
    eps: check.nonNegative,
  },
  // initialAccumulatorValue is not packed: it only fills the `sum` slot when the optimizer is built.
  fields: ['lr', 'lrDecay', 'weightDecay', 'eps'],
  stateNames: ['sum'],
  stateInit: (r: AdagradHyper): readonly number[] => [r.initialAccumulatorValue],
  refineNorm: 'l1',
});
