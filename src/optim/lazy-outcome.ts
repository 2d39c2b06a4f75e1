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
 * The lazy StepInfo. Its StepResult fields are own, enumerable accessors (spreading and JSON see
 * the values), defined from one shared descriptor map: a step creates this object and nothing
 * else (defining five fresh closures per step cost about 2.5x as much CPU, ~3.6 µs against
 * ~1.3 µs on the build machine: the largest host cost of a CUDA step; bench/gpu/host-path.mjs).
 */
class LazyStepInfo {
  static readonly #descriptors: PropertyDescriptorMap = {};
  static {
    for (const key of LAZY_KEYS) {
      LazyStepInfo.#descriptors[key] = {
        enumerable: true,
        configurable: true,
        get(this: LazyStepInfo) {
          return this.#fetch()[key];
        },
      };
    }
  }

  readonly #native: NativeOptimizer;
  readonly #name: string;
  readonly #step: number;
  readonly #current: () => boolean;
  #outcome: StepResult | undefined = undefined;
  declare iteration: number;
  declare lr: number;

  constructor(native: NativeOptimizer, name: string, iteration: number, lr: number, current: () => boolean) {
    this.#native = native;
    this.#name = name;
    this.#step = iteration;
    this.#current = current;
    Object.defineProperties(this, LazyStepInfo.#descriptors);
    this.iteration = iteration;
    this.lr = lr;
  }

  #fetch(): StepResult {
    if (this.#outcome === undefined) {
      const iteration = this.#step;
      if (!this.#current()) {
        throw new Error(
          `fused-optim: the outcome of step ${iteration} of this ${this.#name} optimizer is no longer held: ` +
            `its counters were set since (loadStateDict / load), so step ${iteration} now names another step`,
        );
      }
      const buf = new Float64Array(OUT.count);
      if (!this.#native.readOutcome(buf, iteration)) {
        throw new Error(
          `fused-optim: the outcome of step ${iteration} of this ${this.#name} optimizer is no longer held ` +
            `(a device optimizer keeps the last ${OUTCOME_RING}); its norms are in the optimizer's trace`,
        );
      }
      this.#outcome = readOutcome(buf);
    }
    return this.#outcome;
  }
}

const always = (): boolean => true;

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
  current: () => boolean = always,
): T {
  return new LazyStepInfo(native, name, iteration, lr, current) as unknown as T;
}
