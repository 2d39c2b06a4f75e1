/**
 * The TypeScript half of an update rule: everything the optimizer classes, checkpoints, the
 * trace, the tfjs adapter, the CLI and the demo need to know about it, in one object. The
 * native half is `native/core/rules/<rule>.h`; `src/native.ts` checks at load that the two
 * agree (rule code, name, packed fields, state slots).
 */
import * as v from '../../validate.js';

/** A resolved hyperparameter value. */
export type HyperValue = number | boolean;

/** Validates one option value; `name` is the option's full name for messages. */
export type FieldCheck = (name: string, value: unknown) => HyperValue;

/**
 * Per-group state a rule keeps on the host across steps, for constants that depend on the
 * history of the run rather than on the step count alone (NAdam's μ product, schedule-free
 * AdamW's weight sum). It is saved in checkpoints. `t` is the 1-based applied-step index.
 */
export interface HostState<R> {
  /** The state before the first step. */
  init(r: R): Record<string, number>;
  /** The packed fields that are neither `lr` nor hyperparameters, for applied step t. */
  derive(r: R, lr: number, t: number, state: Readonly<Record<string, number>>): Record<string, number>;
  /** The state after applied step t (not called for a skipped step). */
  advance(r: R, lr: number, t: number, state: Readonly<Record<string, number>>): Record<string, number>;
}

/** One update rule, as the optimizer classes see it. */
export interface RuleSpec<R extends Record<string, HyperValue> = Record<string, HyperValue>> {
  /** Name in traces, checkpoints and `FusedTfOptimizer` (`'adam'`, `'adamw'`, `'sgd'`, ...). */
  readonly kind: string;
  /** The class name, for messages. */
  readonly className: string;
  /** The native rule (`native/core/rules/registry.h`): its name and id. */
  readonly native: { readonly name: string; readonly code: number };
  /** The u32 optimizer kind stored in checkpoint files (never reused). */
  readonly checkpointCode: number;
  /** Every hyperparameter except `lr`, with its default. */
  readonly defaults: Readonly<R>;
  /** The default learning rate. */
  readonly defaultLr: number;
  /** One checker per hyperparameter key of `defaults`. */
  readonly checks: Readonly<Record<keyof R & string, FieldCheck>>;
  /** Checks across fields after resolution (e.g. Nesterov needs momentum); throws a RangeError. */
  crossCheck?(r: R, prefix: string): void;
  /**
   * The native packing order of one group: `'lr'` first, then hyperparameter keys; booleans
   * pack as 0/1. Must equal the native rule's `kFields`.
   */
  readonly fields: readonly string[];
  /** Names of the state arrays in checkpoints, one per native slot, in slot order. */
  readonly stateNames: readonly string[];
  /** The initial value of each state slot for a group (default: all 0), e.g. Adagrad's accumulator. */
  stateInit?(r: R): readonly number[];
  /** Host-side per-group state (see {@link HostState}); most rules have none. */
  readonly host?: HostState<R>;
  /** The gradient norm refinement weighs this rule's steps by (`'l2'` for SGD, `'l1'` for Adam-type). */
  readonly refineNorm: 'l1' | 'l2';
  /**
   * False for a rule whose run has no schedule to refine (schedule-free AdamW): refining its
   * trace throws. Default true.
   */
  readonly refinable?: boolean;
  /**
   * True for a rule whose parameters hold a different point in train and eval mode
   * (schedule-free AdamW: y and x). The optimizer then has a mode, saved in checkpoints, and
   * stepping in eval mode throws. Default false.
   */
  readonly trainEvalModes?: boolean;
}

/** The option keys of a rule's groups: `lr` and its hyperparameters. */
export function groupKeys(spec: RuleSpec): string[] {
  return ['lr', ...Object.keys(spec.defaults)];
}

/**
 * Resolves a rule's hyperparameters from an options object: keys present are validated with
 * the rule's checkers, absent ones come from `base`. Keys that are not the rule's are left to
 * the caller (who knows which other keys are allowed).
 */
export function resolveHyper<R extends Record<string, HyperValue>>(
  spec: RuleSpec<R>,
  o: Readonly<Record<string, unknown>>,
  prefix: string,
  base: Readonly<R>,
): R {
  const out: Record<string, HyperValue> = {};
  for (const key of Object.keys(spec.defaults)) {
    const value = o[key];
    if (value === undefined) {
      out[key] = base[key];
      continue;
    }
    const checked = spec.checks[key as keyof R & string](`${prefix}.${key}`, value);
    // The kernels compute in float32: a finite double beyond its range would become ±Infinity.
    out[key] = typeof checked === 'number' ? v.float32Finite(`${prefix}.${key}`, checked) : checked;
  }
  const r = out as R;
  spec.crossCheck?.(r, prefix);
  return r;
}

/**
 * Writes one group's fields at `dst[at...]` in the native order: `lr`, hyperparameters, and
 * the fields `derived` from host state.
 */
export function packGroup<R extends Record<string, HyperValue>>(
  spec: RuleSpec<R>,
  r: Readonly<R>,
  lr: number,
  dst: Float64Array,
  at: number,
  derived: Readonly<Record<string, number>> = {},
): void {
  const f = spec.fields;
  for (let i = 0; i < f.length; i++) {
    const key = f[i];
    const value = key === 'lr' ? lr : key in r ? r[key] : derived[key];
    if (value === undefined) throw new Error(`fused-optim: rule ${spec.kind} packs field '${key}' but neither its hyperparameters nor its host state give it`);
    dst[at + i] = typeof value === 'boolean' ? (value ? 1 : 0) : (value as number);
  }
}

/** Checkers shared by the rules. */
export const check = {
  /** A finite number in [0, 1). */
  beta: (name: string, value: unknown): number => v.inInterval(name, value, 0, 1, { hiOpen: true }),
  /** A finite number in [0, 1]. */
  unit: (name: string, value: unknown): number => v.inInterval(name, value, 0, 1),
  nonNegative: (name: string, value: unknown): number => v.nonNegative(name, value),
  positive: (name: string, value: unknown): number => v.positive(name, value),
  boolean: (name: string, value: unknown): boolean => v.boolean(name, value),
} as const;
