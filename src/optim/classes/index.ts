/**
 * The optimizer class of every rule, and `createOptimizer` to construct one by its kind.
 * Adding a rule adds its class file here and one line to CLASSES.
 */
import * as v from '../../validate.js';
import type { FusedOptimizer, ParamGroup, ParamInit } from '../optimizer.js';
import type { OptimizerKind } from '../rules/index.js';
import { Adam, AdamW } from './adam.js';
import { ScheduleFreeAdamW } from './schedulefree-adamw.js';
import { SGD } from './sgd.js';

export { Adam, AdamW, type AdamOptions, type AdamResolved } from './adam.js';
export { ScheduleFreeAdamW, type ScheduleFreeAdamWHyperparameters, type ScheduleFreeAdamWOptions, type ScheduleFreeAdamWResolved } from './schedulefree-adamw.js';
export { SGD, type SgdOptions, type SgdResolved } from './sgd.js';

/** The optimizer class of each rule kind. */
export const CLASSES: Readonly<Record<OptimizerKind, new (params: readonly ParamInit[] | readonly ParamGroup[], options?: Record<string, unknown>) => FusedOptimizer<object>>> = {
  sgd: SGD,
  adam: Adam,
  adamw: AdamW,
  'schedulefree-adamw': ScheduleFreeAdamW,
} as never;

/**
 * Constructs the optimizer of rule `kind` (`'sgd'`, `'adam'`, `'adamw'`, ...): what the tfjs
 * adapter, the CLI and the demo use to pick a rule by name.
 *
 * @example
 * ```ts
 * const opt = createOptimizer('adamw', [10], { lr: 1e-3 });
 * opt.kind; // → 'adamw'
 * opt.dispose();
 * ```
 */
export function createOptimizer(kind: OptimizerKind, params: readonly ParamInit[] | readonly ParamGroup[], options: Record<string, unknown> = {}): FusedOptimizer<object> {
  const Ctor = CLASSES[v.oneOf('kind', kind, Object.keys(CLASSES) as OptimizerKind[])];
  return new Ctor(params, options);
}
