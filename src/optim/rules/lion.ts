/**
 * Lion (`native/core/rules/lion.h`): `optax.lion`, the update of Chen et al. 2023 ("Symbolic
 * Discovery of Optimization Algorithms", Program 1). One state slot, no step-count dependence.
 */
import { check, type RuleSpec } from './spec.js';

/** Resolved Lion hyperparameters (besides lr). */
export interface LionHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  weightDecay: number;
}

/** `optax.lion` with decoupled weight decay p ← p·(1 − lr·wd). */
export const LION: RuleSpec<LionHyper> = Object.freeze({
  kind: 'lion',
  className: 'Lion',
  native: { name: 'lion', code: 8 },
  checkpointCode: 9,
  defaultLr: 1e-4,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.99, weightDecay: 0 }),
  checks: { beta1: check.unit, beta2: check.unit, weightDecay: check.nonNegative },
  fields: ['lr', 'beta1', 'beta2', 'weightDecay'],
  stateNames: ['expAvg'],
  refineNorm: 'l1',
});
