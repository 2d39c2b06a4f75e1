/**
 * Types shared by the refine module.
 * @module
 */

/**
 * A learning-rate schedule: the learning rate at a step. Same shape as the schedules of
 * `fused-optim/schedules` (defined here too so that refine stands alone).
 */
export type Schedule = (step: number) => number;

/**
 * Which optimizer family the norms come from, which decides the weights of refinement:
 * `'sgd'` (L2 norms, weights ĝ⁻²) or `'adam'` (L1 norms, weights ĝ⁻¹; Adam and AdamW).
 */
export type RefineMethod = 'sgd' | 'adam';

/** The methods accepted by refinement. */
export const REFINE_METHODS: readonly RefineMethod[] = ['sgd', 'adam'];
