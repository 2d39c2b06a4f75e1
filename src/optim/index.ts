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
