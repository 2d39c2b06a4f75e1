export { adamStep, sgdStep, type AdamStepOptions, type SgdStepOptions, type StepIndexOptions } from './functional.js';
export type { AdamHyperparameters, SgdHyperparameters, GradientOptions, StepResult } from './options.js';
export {
  Adam,
  AdamW,
  SGD,
  FusedOptimizer,
  type AdamOptions,
  type SgdOptions,
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
  type CheckpointTrace,
  type OptimizerStateDict,
} from './checkpoint.js';
