/**
 * Schedules by name, as the demo and the paper experiments (bench/experiments) compare them:
 * every one peaks at `peak` and runs `steps` steps.
 */
import { budgetedMultiStep, constant, cosineDecay, linearDecay, oneCycle, rewarm, rex, type Schedule } from '../schedules/index.js';
import { scheduleFromValues } from '../refine/index.js';

export type NamedSchedule = 'linear' | 'cosine' | 'rex' | 'step' | 'onecycle' | 'constant' | 'rewarm' | 'refined';

export interface NamedScheduleExtra {
  /** 'refined': the per-step values of a refined schedule. */
  values?: ArrayLike<number>;
  /** 'rewarm': warm-up steps (default 1% of `steps`). */
  warmup?: number;
}

export function namedSchedule(name: NamedSchedule, peak: number, steps: number, extra: NamedScheduleExtra = {}): Schedule {
  switch (name) {
    case 'linear':
      return linearDecay({ peak, steps });
    case 'cosine':
      return cosineDecay({ peak, steps });
    case 'rex':
      return rex({ peak, steps });
    case 'step':
      return budgetedMultiStep({ peak, steps });
    case 'onecycle':
      return oneCycle({ peak, steps });
    case 'constant':
      return constant(peak);
    case 'rewarm':
      return rewarm({ peak, steps, ...(extra.warmup === undefined ? {} : { warmup: extra.warmup }) });
    case 'refined':
      if (!extra.values) throw new TypeError("Expected extra.values for the 'refined' schedule but received undefined");
      return scheduleFromValues(extra.values);
    default:
      throw new RangeError(`Expected a schedule name for name but received '${String(name)}'`);
  }
}
