/**
 * Schedule refinement (paper 1 of docs/papers.md): a fast sliding median, the authors'
 * closed-form refinement, and the bound-minimising variant. Pure TypeScript: no native
 * code, loads anywhere.
 * @module
 */
// `Schedule` is not re-exported: `fused-optim/schedules` exports the same type.
export type { RefineMethod } from './types.js';
export { REFINE_METHODS } from './types.js';
export {
  medianFilter,
  naiveMedianFilter,
  MEDIAN_BOUNDARIES,
  MAX_MEDIAN_WIDTH,
  type MedianBoundary,
  type MedianFilterOptions,
} from './median.js';
export {
  refineSchedule,
  refineScheduleDetailed,
  refinedSchedule,
  refinementWidth,
  scheduleFromValues,
  type RefineOptions,
  type RefinementResult,
  type RefinedScheduleOptions,
  type ScheduleFromValuesOptions,
} from './closed-form.js';
export {
  lastIterateBound,
  refineByBound,
  refineByBoundDetailed,
  type BoundOptions,
  type BoundValue,
  type RefineByBoundOptions,
  type RefineByBoundResult,
} from './bound.js';
