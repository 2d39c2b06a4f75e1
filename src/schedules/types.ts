/**
 * A learning-rate schedule: a plain function of the 0-based iteration `step` (the value used
 * by the `(step + 1)`-th optimizer update). See `index.ts` for the step conventions every
 * schedule in this folder follows.
 */
export type Schedule = (step: number) => number;
