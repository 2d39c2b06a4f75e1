/**
 * The registry of update rules, read by the optimizer classes, checkpoints, the trace, the
 * tfjs adapter, the CLI and the demo. Adding a rule: docs/design.md, "Adding a rule".
 */
import { ADAM, ADAMW } from './adam.js';
import { SCHEDULEFREE_ADAMW } from './schedulefree-adamw.js';
import { SGD_RULE } from './sgd.js';
import type { RuleSpec } from './spec.js';

export { ADAM, ADAMW, type AdamHyper } from './adam.js';
export { SCHEDULEFREE_ADAMW, type ScheduleFreeAdamWHyper } from './schedulefree-adamw.js';
export { SGD_RULE, type SgdHyper } from './sgd.js';
export { check, groupKeys, packGroup, resolveHyper, type FieldCheck, type HostState, type HyperValue, type RuleSpec } from './spec.js';

/** Every rule spec by its kind. */
export const RULES = Object.freeze({
  sgd: SGD_RULE,
  adam: ADAM,
  adamw: ADAMW,
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
