/**
 * Types shared by the refine module.
 * @module
 */

/** A learning-rate schedule: the one type, defined with the schedules. */
export type { Schedule } from '../schedules/types.js';

/**
 * Which optimizer family the norms come from, which decides the weights of refinement:
 * `'sgd'` (L2 norms, weights ĝ⁻²) or `'adam'` (L1 norms, weights ĝ⁻¹; Adam and AdamW).
 */
export type RefineMethod = 'sgd' | 'adam';

/** The methods accepted by refinement. */
export const REFINE_METHODS: readonly RefineMethod[] = ['sgd', 'adam'];
