/**
 * The optimizer class of every rule, and `createOptimizer` to construct one by its kind.
 * Adding a rule adds its class file here and one line to CLASSES.
 */
import * as v from '../../validate.js';
import type { FusedOptimizer, ParamGroup, ParamInit } from '../optimizer.js';
import type { OptimizerKind } from '../rules/index.js';
import { Adadelta } from './adadelta.js';
import { Adagrad } from './adagrad.js';
import { Adam, AdamW } from './adam.js';
import { Adamax } from './adamax.js';
import { Lamb } from './lamb.js';
import { Lion } from './lion.js';
import { NAdam } from './nadam.js';
import { RAdam } from './radam.js';
import { RMSprop } from './rmsprop.js';
import { ScheduleFreeAdamW } from './schedulefree-adamw.js';
import { SGD } from './sgd.js';

export { Adadelta, type AdadeltaHyperparameters, type AdadeltaOptions, type AdadeltaResolved } from './adadelta.js';
export { Adagrad, type AdagradHyperparameters, type AdagradOptions, type AdagradResolved } from './adagrad.js';
export { Adam, AdamW, type AdamOptions, type AdamResolved } from './adam.js';
export { Adamax, type AdamaxHyperparameters, type AdamaxOptions, type AdamaxResolved } from './adamax.js';
export { Lamb, type LambHyperparameters, type LambOptions, type LambResolved } from './lamb.js';
export { Lion, type LionHyperparameters, type LionOptions, type LionResolved } from './lion.js';
export { NAdam, type NAdamHyperparameters, type NAdamOptions, type NAdamResolved } from './nadam.js';
export { RAdam, type RAdamHyperparameters, type RAdamOptions, type RAdamResolved } from './radam.js';
export { RMSprop, type RmspropHyperparameters, type RmspropOptions, type RmspropResolved } from './rmsprop.js';
export { ScheduleFreeAdamW, type ScheduleFreeAdamWHyperparameters, type ScheduleFreeAdamWOptions, type ScheduleFreeAdamWResolved } from './schedulefree-adamw.js';
export { SGD, type SgdOptions, type SgdResolved } from './sgd.js';

/** The optimizer class of each rule kind. */
export const CLASSES: Readonly<Record<OptimizerKind, new (params: readonly ParamInit[] | readonly ParamGroup[], options?: Record<string, unknown>) => FusedOptimizer<object>>> = {
  sgd: SGD,
  adam: Adam,
  adamw: AdamW,
  adagrad: Adagrad,
  rmsprop: RMSprop,
  adamax: Adamax,
  adadelta: Adadelta,
  nadam: NAdam,
  radam: RAdam,
  lion: Lion,
  lamb: Lamb,
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
