export { adamStep, sgdStep, type AdamStepOptions, type SgdStepOptions, type StepIndexOptions } from './functional.js';
export type { AdamHyperparameters, SgdHyperparameters, GradientOptions, StepResult } from './options.js';
export { ScheduleFreeAdamW, type ScheduleFreeAdamWHyperparameters, type ScheduleFreeAdamWOptions, type ScheduleFreeAdamWResolved } from './classes/index.js';
export { Adam, AdamW, SGD, CLASSES, createOptimizer, type AdamOptions, type AdamResolved, type SgdOptions, type SgdResolved } from './classes/index.js';
export { Lamb, type LambHyperparameters, type LambOptions, type LambResolved } from './classes/index.js';
export { NAdam, RAdam, Lion, type NAdamHyperparameters, type NAdamOptions, type NAdamResolved, type RAdamHyperparameters, type RAdamOptions, type RAdamResolved, type LionHyperparameters, type LionOptions, type LionResolved } from './classes/index.js';
export { Adagrad, RMSprop, Adamax, Adadelta } from './classes/index.js';
export type { AdagradHyperparameters, AdagradOptions, AdagradResolved, RmspropHyperparameters, RmspropOptions, RmspropResolved, AdamaxHyperparameters, AdamaxOptions, AdamaxResolved, AdadeltaHyperparameters, AdadeltaOptions, AdadeltaResolved } from './classes/index.js';
export {
  FusedOptimizer,
  type GroupInfo,
  type ParamGroup,
  type DeviceSpec,
  type LearningRate,
  type OptimizerCommonOptions,
  type ParamInit,
  type StepInfo,
} from './optimizer.js';
export {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  STATE_DICT_FORMAT,
  STATE_NAMES,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  readCheckpointSync,
  type CheckpointErrorCode,
  type CheckpointGroup,
  type CheckpointTrace,
  type OptimizerStateDict,
} from './checkpoint.js';
export { RULES, OPTIMIZER_KINDS, type OptimizerKind, type RuleSpec } from './rules/index.js';
