/**
 * The registry of update rules, read by the optimizer classes, checkpoints, the trace, the
 * tfjs adapter, the CLI and the demo. Adding a rule: docs/design.md, "Adding a rule".
 */
import { ADADELTA } from './adadelta.js';
import { ADAGRAD } from './adagrad.js';
import { ADAM, ADAMW } from './adam.js';
import { ADAMAX } from './adamax.js';
import { LAMB } from './lamb.js';
import { LION } from './lion.js';
import { NADAM } from './nadam.js';
import { RADAM } from './radam.js';
import { RMSPROP } from './rmsprop.js';
import { SCHEDULEFREE_ADAMW } from './schedulefree-adamw.js';
import { SGD_RULE } from './sgd.js';
import type { RuleSpec } from './spec.js';

export { ADADELTA, type AdadeltaHyper } from './adadelta.js';
export { ADAGRAD, type AdagradHyper } from './adagrad.js';
export { ADAM, ADAMW, type AdamHyper } from './adam.js';
export { ADAMAX, type AdamaxHyper } from './adamax.js';
export { LAMB, type LambHyper } from './lamb.js';
export { LION, type LionHyper } from './lion.js';
export { NADAM, type NAdamHyper } from './nadam.js';
export { RADAM, type RAdamHyper } from './radam.js';
export { RMSPROP, type RmspropHyper } from './rmsprop.js';
export { SCHEDULEFREE_ADAMW, type ScheduleFreeAdamWHyper } from './schedulefree-adamw.js';
export { SGD_RULE, type SgdHyper } from './sgd.js';
export { check, groupKeys, packGroup, resolveHyper, type FieldCheck, type HostState, type HyperValue, type RuleSpec } from './spec.js';

/** Every rule spec by its kind. */
export const RULES = Object.freeze({
  sgd: SGD_RULE,
  adam: ADAM,
  adamw: ADAMW,
  adagrad: ADAGRAD,
  rmsprop: RMSPROP,
  adamax: ADAMAX,
  adadelta: ADADELTA,
  nadam: NADAM,
  radam: RADAM,
  lion: LION,
  lamb: LAMB,
  'schedulefree-adamw': SCHEDULEFREE_ADAMW,
} as const satisfies Record<string, RuleSpec>);

/** The optimizer a trace or checkpoint comes from: a key of the rule registry. */
export type OptimizerKind = keyof typeof RULES;

/** The kinds of the registry, in registry order. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = Object.freeze(Object.keys(RULES) as OptimizerKind[]);

/** The spec of `kind` (which the caller has validated). */
export function ruleSpec(kind: OptimizerKind): RuleSpec {
  return RULES[kind] as unknown as RuleSpec;
}
