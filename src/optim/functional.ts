/**
 * One fused step on caller-owned Float32Arrays: `adamStep` and `sgdStep`.
 *
 * The arrays are updated in place in one pass over memory (two with clipping or
 * `skipNonFinite`), on the CPU, multi-threaded. The gradient array is only read. Both go
 * through the same backend interface and engine as the optimizer classes (a CPU arena that
 * borrows the caller's arrays).
 */
import { HP, OUT, hpLength, loadNative } from '../native.js';
import * as v from '../validate.js';
import {
  GRADIENT_KEYS,
  type AdamHyperparameters,
  type SgdHyperparameters,
  type StepResult,
  packHeader,
  rejectUnknown,
  resolveGradient,
} from './options.js';
import { ADAM, SGD_RULE, groupKeys, packGroup, resolveHyper, type HyperValue, type RuleSpec } from './rules/index.js';

/** Options of the functional steps besides the hyperparameters. */
export interface StepIndexOptions {
  /** 1-based index of this step: drives bias correction (Adam) and the first momentum step (SGD). */
  step: number;
  /** Threads for this call (1–256). Default: the global setting (`setThreads`, `FUSED_OPTIM_THREADS`). */
  threads?: number;
}

/** Options of {@link adamStep}: Adam's hyperparameters and the step options. */
export type AdamStepOptions = AdamHyperparameters & StepIndexOptions;
/** Options of {@link sgdStep}: SGD's hyperparameters and the step options. */
export type SgdStepOptions = SgdHyperparameters & StepIndexOptions;

const hp = new Float64Array(hpLength(1));
const out = new Float64Array(OUT.count);

/** Validates a functional step's options for `spec` and packs them into `hp`. */
function packOne(spec: RuleSpec, o: Record<string, unknown>): { threads: number; values: Record<string, HyperValue> } {
  rejectUnknown(o, [...groupKeys(spec), ...GRADIENT_KEYS, 'step', 'threads'], 'options');
  const r = resolveHyper(spec, o, 'options', spec.defaults);
  const lr = o.lr === undefined ? spec.defaultLr : v.float32Finite('options.lr', v.nonNegative('options.lr', o.lr));
  const { step, threads } = stepIndex(o);
  packHeader(hp, resolveGradient(o, 'options'), 1, step);
  packGroup(spec, r, lr, hp, HP.header);
  return { threads, values: r };
}

/** Builds a StepResult from the native outcome array. */
export function readOutcome(o: Float64Array): StepResult {
  return {
    gradNormL2: o[OUT.l2],
    gradNormL1: o[OUT.l1],
    clipCoef: o[OUT.clipCoef],
    skipped: o[OUT.skipped] !== 0,
    nonFinite: o[OUT.nonFinite] !== 0,
  };
}

interface Named {
  name: string;
  value: Float32Array;
}

/** Same length, attached, and no two arrays sharing memory. */
function checkArrays(arrays: Named[]): void {
  const n = arrays[0].value.length;
  for (const a of arrays.slice(1)) {
    if (a.value.length !== n) {
      throw v.rangeError(a.name, `a Float32Array of length ${n} (the length of ${arrays[0].name})`, a.value);
    }
  }
  for (let i = 0; i < arrays.length; i++) {
    for (let j = i + 1; j < arrays.length; j++) {
      const a = arrays[i].value;
      const b = arrays[j].value;
      if (a.buffer !== b.buffer || a.byteLength === 0) continue;
      if (a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) {
        throw new RangeError(
          `Expected ${arrays[i].name} and ${arrays[j].name} to be separate memory but they overlap in one ArrayBuffer`,
        );
      }
    }
  }
}

function stepIndex(options: Record<string, unknown>): { step: number; threads: number } {
  if (options.step === undefined) {
    throw new TypeError('Expected an integer >= 1 for options.step but received undefined (the 1-based index of this step, for bias correction)');
  }
  const step = v.integer('options.step', options.step, 1);
  const threads = options.threads === undefined ? 0 : v.integer('options.threads', options.threads, 1, 256);
  return { step, threads };
}

/**
 * One fused Adam / AdamW step in place, `torch.optim.Adam(W)` semantics:
 *
 *     g = grad · gradScale · clipCoef
 *     Adam:  g += weightDecay · p          AdamW (decoupled): p *= 1 − lr · weightDecay
 *     m = β1·m + (1 − β1)·g
 *     v = β2·v + (1 − β2)·g²
 *     p −= lr / (1 − β1^step) · m / (√v / √(1 − β2^step) + eps)
 *
 * @example
 * const p = new Float32Array([1, 2]), g = new Float32Array([0.5, -0.5]);
 * const m = new Float32Array(2), v = new Float32Array(2);
 * adamStep(p, g, m, v, { lr: 0.1, step: 1 });
 * // p ≈ [0.9, 2.1]  (the first Adam step moves each weight by lr·sign(g))
 * // → { gradNormL2: 0.7071…, gradNormL1: 1, clipCoef: 1, skipped: false, nonFinite: false }
 */
export function adamStep(
  params: Float32Array,
  grads: Float32Array,
  expAvg: Float32Array,
  expAvgSq: Float32Array,
  options: AdamStepOptions,
): StepResult {
  const arrays: Named[] = [
    { name: 'params', value: v.float32Array('params', params) },
    { name: 'grads', value: v.float32Array('grads', grads) },
    { name: 'expAvg', value: v.float32Array('expAvg', expAvg) },
    { name: 'expAvgSq', value: v.float32Array('expAvgSq', expAvgSq) },
  ];
  if (options === undefined) throw v.typeError('options', 'an options object with step', options);
  const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
  // Adam's defaults (weightDecay 0); `decoupled: true` gives AdamW's update.
  const { threads } = packOne(ADAM, o);
  checkArrays(arrays);
  loadNative().functionalStep(ADAM.native.code, params, grads, [expAvg, expAvgSq], hp, out, threads);
  return readOutcome(out);
}

/**
 * One fused SGD step in place, `torch.optim.SGD` semantics:
 *
 *     g = grad · gradScale · clipCoef + weightDecay · p
 *     with momentum: buf = g on step 1, else buf = momentum·buf + (1 − dampening)·g
 *                    g = nesterov ? g + momentum·buf : buf
 *     p −= lr · g
 *
 * `momentumBuffer` may be null when momentum is 0.
 *
 * @example
 * const p = new Float32Array([1]), g = new Float32Array([2]);
 * sgdStep(p, g, null, { lr: 0.1, step: 1 }); // p = [0.8]
 */
export function sgdStep(
  params: Float32Array,
  grads: Float32Array,
  momentumBuffer: Float32Array | null,
  options: SgdStepOptions,
): StepResult {
  const arrays: Named[] = [
    { name: 'params', value: v.float32Array('params', params) },
    { name: 'grads', value: v.float32Array('grads', grads) },
  ];
  if (momentumBuffer !== null && momentumBuffer !== undefined) {
    arrays.push({ name: 'momentumBuffer', value: v.float32Array('momentumBuffer', momentumBuffer) });
  }
  if (options === undefined) throw v.typeError('options', 'an options object with step', options);
  const o = v.options<Record<string, unknown>>('options', options) as Record<string, unknown>;
  const { threads, values } = packOne(SGD_RULE, o);
  if (values.momentum !== 0 && arrays.length < 3) {
    throw v.typeError('momentumBuffer', `a Float32Array when options.momentum is ${values.momentum}`, momentumBuffer);
  }
  checkArrays(arrays);
  // note: empty arrays have no data pointer, which the addon takes for a missing momentum
  // buffer; an empty step has nothing to update and a known outcome.
  if (params.length === 0) return { gradNormL2: 0, gradNormL1: 0, clipCoef: 1, skipped: false, nonFinite: false };
  loadNative().functionalStep(SGD_RULE.native.code, params, grads, [arrays.length > 2 ? arrays[2].value : null], hp, out, threads);
  return readOutcome(out);
}
