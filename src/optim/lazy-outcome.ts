/**
 * Step outcomes of a device optimizer, fetched on first access.
 *
 * A CUDA step is only enqueued: its norms, clip coefficient and skip flag are computed on the
 * device and copied into a small host ring there, and nothing waits for them. The StepInfo a
 * CUDA `step()` returns has getters for those fields that wait for the device on first access
 * (and keep the value). `iteration` and `lr` are plain values.
 */
import { OUT, type NativeOptimizer } from '../native.js';
import { readOutcome } from './functional.js';
import type { StepResult } from './options.js';

/** How many recent steps' outcomes a device optimizer keeps (native/cuda/optimizer.cc kOutcomeRing). */
export const OUTCOME_RING = 1024;

const LAZY_KEYS = ['gradNormL2', 'gradNormL1', 'clipCoef', 'skipped', 'nonFinite'] as const;

/**
 * A StepInfo-shaped object whose StepResult fields read `native.readOutcome` on first access.
 * Accessing them throws when the optimizer was disposed, while a `stepAsync()` is in flight,
 * when more than OUTCOME_RING steps were taken since (the trace keeps every step's norms), or
 * when `current()` says the optimizer's counters were set since (loadStateDict, load): the
 * outcome ring is keyed by iteration, and after a rewind that number names another step.
 */
export function lazyStepInfo<T extends StepResult & { iteration: number; lr: number }>(
  native: NativeOptimizer,
  name: string,
  iteration: number,
  lr: number,
  current: () => boolean = () => true,
): T {
  let outcome: StepResult | undefined;
  const fetch = (): StepResult => {
    if (outcome === undefined) {
      if (!current()) {
        throw new Error(
          `fused-optim: the outcome of step ${iteration} of this ${name} optimizer is no longer held: ` +
            `its counters were set since (loadStateDict / load), so step ${iteration} now names another step`,
        );
      }
      const buf = new Float64Array(OUT.count);
      if (!native.readOutcome(buf, iteration)) {
        throw new Error(
          `fused-optim: the outcome of step ${iteration} of this ${name} optimizer is no longer held ` +
            `(a device optimizer keeps the last ${OUTCOME_RING}); its norms are in the optimizer's trace`,
        );
      }
      outcome = readOutcome(buf);
    }
    return outcome;
  };
  const info = {} as T;
  for (const key of LAZY_KEYS) {
    Object.defineProperty(info, key, { enumerable: true, configurable: true, get: () => fetch()[key] });
  }
  info.iteration = iteration;
  info.lr = lr;
  return info;
}
