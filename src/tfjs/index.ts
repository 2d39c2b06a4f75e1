/**
 * `fused-optim/tfjs`: TensorFlow.js integration.
 *
 * - {@link FusedTfOptimizer}: a `tf.Optimizer` that runs fused-optim steps (AdamW, Adam,
 *   SGD) with fused-optim schedules and norm traces. Use it in `model.compile({ optimizer })`,
 *   `model.fit`, or `optimizer.minimize(f)`.
 * - {@link LearningRateScheduler}: a `tf.Callback` that drives the learning rate of
 *   TensorFlow.js's own optimizers (or of a {@link FusedTfOptimizer}) from a fused-optim
 *   schedule, once per batch.
 *
 * `@tensorflow/tfjs` is an optional peer dependency: only this module imports it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { linearDecay } from 'fused-optim';
 * import { FusedTfOptimizer } from 'fused-optim/tfjs';
 *
 * const optimizer = new FusedTfOptimizer({ optimizer: 'adamw', lr: linearDecay({ peak: 1e-3, steps: 1000 }) });
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { epochs: 5, batchSize: 32 });
 * optimizer.fused?.trace.refine({ peak: 1e-3 }); // the refined schedule for the next run
 * ```
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { OPTIMIZER_KINDS, RULES, ScheduleFreeAdamW, createOptimizer, type FusedOptimizer, type LearningRate, type OptimizerKind, type StepInfo } from '../optim/index.js';
import { GRADIENT_KEYS } from '../optim/options.js';
import { checkComm, type Communicator } from '../distributed/mpi.js';
import type { Schedule } from '../schedules/types.js';
import type { NormTrace } from '../trace.js';
import * as v from '../validate.js';

/** The update rules a {@link FusedTfOptimizer} can run: every rule of the registry. */
export type FusedRule = OptimizerKind;

/**
 * A parameter group of {@link FusedTfOptimizer}: the variables whose name `match` accepts
 * (the first group that matches takes a variable; the others stay in the default group), and
 * the hyperparameters that differ for them, e.g. `{ match: /bias|norm/, weightDecay: 0 }`.
 */
export interface FusedTfParamGroup {
  /** A RegExp tested against the variable's name, or a predicate of it. */
  match: RegExp | ((name: string) => boolean);
  /** A number or a schedule; default: the optimizer's. */
  lr?: LearningRate;
  /** Any hyperparameter of the rule (beta1, weightDecay, momentum, ...). */
  [hyperparameter: string]: unknown;
}

/** Options of {@link FusedTfOptimizer}: the rule, the learning rate, the rule's hyperparameters. */
export interface FusedTfOptimizerConfig {
  /** Default `'adamw'`. */
  optimizer?: FusedRule;
  /** A number or a fused-optim schedule of the 0-based step. Default: the rule's (1e-3 for Adam(W) and SGD). */
  lr?: LearningRate;
  /** Adam(W): defaults 0.9, 0.999, 1e-8 (note: TensorFlow.js's own Adam uses eps 1e-7). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 (Adam, SGD) or decoupled (AdamW, default 0.01) weight decay. */
  weightDecay?: number;
  /** SGD: momentum (torch semantics; with dampening 0 equal to `tf.train.momentum`). */
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Clip the global L2 norm of the gradient (over every variable together). */
  maxGradNorm?: number | null;
  gradScale?: number;
  skipNonFinite?: boolean;
  /** Threads of the native step. Default: the global setting. */
  threads?: number;
  /** Native trace ring size (0 disables the trace). Default 4096. */
  traceCapacity?: number;
  /**
   * Parameter groups by variable name, e.g. no weight decay for biases:
   * `[{ match: /bias/, weightDecay: 0 }]`. Variables no group matches form the first group,
   * with the options above. Groups that match no variable are dropped.
   */
  paramGroups?: FusedTfParamGroup[];
  /**
   * Data parallelism (`fused-optim/distributed`): a communicator from `init()`. Each rank
   * computes the gradient of its shard of the batch (the same model, the same number of
   * `applyGradients`/`minimize` calls and equal-size shards on every rank); each step averages
   * the gradients over the ranks (one all-reduce of the arena) before the fused step, so the
   * parameters stay identical on every rank, and the tfjs variables are updated from the fused
   * parameters on every rank. Clipping and skipping see the averaged gradient. The arena must
   * be on the CPU. Not saved by `getConfig()` (pass it again).
   */
  comm?: Communicator;
  /**
   * ZeRO-1, with `comm`: each rank keeps the rule's state only for its 1/size slice of the
   * arena. `getWeights()` and `setWeights()` are then collective (every rank calls them, in
   * the same order, with the same values): `getWeights()` returns the whole (consolidated)
   * state, the same on every rank, and `setWeights()` takes it whole. Not for `'lamb'` or
   * `'schedulefree-adamw'`. Default false. Not saved by `getConfig()`.
   */
  shard?: boolean;
  /** Any other hyperparameter of the chosen rule. */
  [hyperparameter: string]: unknown;
}

const BASE_KEYS = ['optimizer', 'lr', 'threads', 'traceCapacity', 'paramGroups', 'comm', 'shard'];

type Fused = FusedOptimizer<object>;

/** A tfjs weight: a name and a tensor (`NamedTensor`, not re-exported by `@tensorflow/tfjs`). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** getWeights names of a rule's host state (`<prefix><group>/<key>`) and of the schedule-free mode. */
const HOST_PREFIX = 'fused-optim/host/';
const MODE_WEIGHT = 'fused-optim/mode';

/** getWeights names of the state arrays of `stateDict()`: `<variable>/<suffix>` (other rules: the state name). */
const STATE_SUFFIX: Record<string, string> = { expAvg: 'm', expAvgSq: 'v', momentumBuffer: 'momentum' };

/**
 * A TensorFlow.js optimizer whose steps are fused-optim's (one native pass over one flat
 * arena for every variable), with fused-optim learning-rate schedules and norm traces.
 *
 * On the first `applyGradients` it builds the fused optimizer ({@link FusedTfOptimizer.fused})
 * over the variables it is given, in a stable order (sorted by variable name), starting from
 * their current values. Each step then copies every gradient into the arena
 * (`dataSync` into the zero-copy `grads[i]` view), takes one fused step, and writes the
 * parameters back (`variable.assign`), disposing every temporary tensor. A variable changed
 * from outside between steps (`model.setWeights`, a `variable.assign` of your own) is read
 * back into the arena before the next step.
 *
 * Differences from TensorFlow.js's own optimizers, on purpose:
 * - a variable whose gradient is missing from a call gets a zero gradient (its Adam moments
 *   still decay; TensorFlow.js's skips it);
 * - `maxGradNorm` clips the global norm over every variable together;
 * - the set of variables is fixed by the first call: a call with a variable it has not seen
 *   throws (make a new optimizer for a new model).
 *
 * Serialization: `getConfig()` holds the rule and its hyperparameters; a schedule is a
 * function and cannot be saved, so `lr` is saved as the learning rate of the next step
 * (and `lrSchedule: true` says that it was a schedule). `getWeights()` returns
 * `[iter, applied, <name>/m, <name>/v ...]` (Adam(W)) or `[iter, applied, <name>/momentum
 * ...]` (SGD with momentum), which `setWeights` restores (before or after the first step).
 *
 * Data parallel (`comm`, see {@link FusedTfOptimizerConfig.comm}): run the same script on
 * every rank (`mpirun -np N node train.js`), each rank feeding its shard of every global batch;
 * the step averages the gradients over the ranks, so every rank's variables hold the same
 * values after each step, equal (up to the order fp32 sums are taken in) to one process
 * trained on the whole batch. Whatever changes the variables or the optimizer from outside
 * (`model.setWeights`, `setWeights`, the learning rate) must change them the same way on every
 * rank. With `shard: true` the state is split across the ranks and `getWeights`/`setWeights`
 * are collective.
 */
export class FusedTfOptimizer extends tf.Optimizer {
  /** The name TensorFlow.js's serialization registry knows this class by. */
  static className = 'FusedOptim';

  readonly #rule: FusedRule;
  readonly #hyper: Record<string, unknown>;
  readonly #groups: (Record<string, unknown> & { match: RegExp | ((name: string) => boolean) })[];
  #lr: LearningRate;
  readonly #threads: number | undefined;
  readonly #traceCapacity: number | undefined;
  readonly #comm: Communicator | undefined;
  readonly #shard: boolean;
  #fused: Fused | null = null;
  #names: string[] = [];
  #variables: tf.Variable[] = [];
  #dataIds: unknown[] = [];
  #pending: NamedTensor[] | null = null;
  /** eval() called before the first step built the arena (schedule-free rules). */
  #pendingEval = false;
  #disposed = false;

  constructor(config: FusedTfOptimizerConfig = {}) {
    super();
    const known = [...new Set([...BASE_KEYS, ...GRADIENT_KEYS, ...OPTIMIZER_KINDS.flatMap((k) => Object.keys(RULES[k].defaults))])];
    const o = v.readOptions('config', config, known) as Record<string, unknown>;
    this.#rule = o.optimizer === undefined ? 'adamw' : v.oneOf('config.optimizer', o.optimizer, OPTIMIZER_KINDS);
    const spec = RULES[this.#rule];
    const ruleKeys = Object.keys(spec.defaults);
    const allowed = [...BASE_KEYS, ...ruleKeys, ...GRADIENT_KEYS];
    for (const key of Object.keys(o)) {
      if (allowed.includes(key)) continue;
      const other = OPTIMIZER_KINDS.filter((k) => Object.keys(RULES[k].defaults).includes(key));
      throw new TypeError(`Unknown option config.${key} for optimizer '${this.#rule}' (it is an option of ${other.map((k) => `'${k}'`).join(', ')}); expected one of ${allowed.map((k) => `'${k}'`).join(', ')}`);
    }
    const hyper: Record<string, unknown> = {};
    for (const key of [...ruleKeys, ...GRADIENT_KEYS]) if (o[key] !== undefined) hyper[key] = o[key];
    this.#hyper = hyper;
    this.#groups = [];
    if (o.paramGroups !== undefined) {
      if (!Array.isArray(o.paramGroups)) throw v.typeError('config.paramGroups', 'an array of { match, ...hyperparameters }', o.paramGroups);
      this.#groups = (o.paramGroups as unknown[]).map((g, i) => {
        const at = `config.paramGroups[${i}]`;
        const group = { ...v.options<Record<string, unknown>>(at, g) } as Record<string, unknown>;
        if (!(group.match instanceof RegExp) && typeof group.match !== 'function') {
          throw v.typeError(`${at}.match`, 'a RegExp or a predicate (name) => boolean', group.match);
        }
        return group as Record<string, unknown> & { match: RegExp | ((name: string) => boolean) };
      });
    }
    this.#lr = o.lr === undefined ? spec.defaultLr : (o.lr as LearningRate);
    if (typeof this.#lr !== 'function') v.nonNegative('config.lr', this.#lr);
    this.#threads = o.threads as number | undefined;
    this.#traceCapacity = o.traceCapacity as number | undefined;
    this.#comm = o.comm === undefined ? undefined : checkComm('config.comm', o.comm);
    this.#shard = o.shard === undefined ? false : v.boolean('config.shard', o.shard);
    if (this.#shard) {
      if (this.#comm === undefined) throw v.rangeError('config.shard', 'false without config.comm (sharding splits the state across the ranks of a communicator)', true);
      if (this.#rule === 'lamb' || spec.trainEvalModes) {
        throw v.rangeError('config.shard', `false for '${this.#rule}' (${this.#rule === 'lamb' ? 'its per-tensor trust ratios need whole tensors' : 'its train/eval switch needs the whole state'})`, true);
      }
    }
    // Validate the hyperparameters now (a bad value should fail at construction, not at the
    // first step): build a throw-away optimizer of one element per group (without comm: its
    // layout check would be a collective).
    this.#make([new Float32Array(1)], this.#groups.map(() => 1), [], false).dispose();
  }

  /** The group of a variable: 0 for the default one, 1 + i for paramGroups[i]. */
  #groupOf(name: string): number {
    const i = this.#groups.findIndex((g) => (g.match instanceof RegExp ? new RegExp(g.match.source, g.match.flags.replace('g', '')).test(name) : g.match(name)));
    return i + 1;
  }

  /**
   * The fused optimizer over `params` (in arena order); `counts[k]` tensors of params belong
   * to paramGroups[k] after the default group's (the first params.length − Σcounts).
   */
  #make(defaults: Float32Array[], counts: number[], rest: Float32Array[] = [], distributed = true): Fused {
    const opts: Record<string, unknown> = { ...this.#hyper, lr: this.#lr };
    if (this.#threads !== undefined) opts.threads = this.#threads;
    if (this.#traceCapacity !== undefined) opts.traceCapacity = this.#traceCapacity;
    if (distributed && this.#comm !== undefined) {
      opts.comm = this.#comm;
      if (this.#shard) opts.shard = true;
    }
    if (this.#groups.length === 0) return createOptimizer(this.#rule, defaults, opts);
    const groups: { params: Float32Array[]; [k: string]: unknown }[] = [];
    if (defaults.length > 0) groups.push({ params: defaults });
    let at = 0;
    counts.forEach((n, k) => {
      const params = rest.length > 0 ? rest.slice(at, at + n) : Array.from({ length: n }, () => new Float32Array(1));
      at += n;
      if (n === 0) return;
      const { match: _match, ...overrides } = this.#groups[k];
      const group: { params: Float32Array[]; [k: string]: unknown } = { params };
      for (const [key, value] of Object.entries(overrides)) if (value !== undefined) group[key] = value;
      groups.push(group);
    });
    try {
      return createOptimizer(this.#rule, groups, opts);
    } catch (e) {
      const err = e as Error;
      const Ctor = err instanceof TypeError ? TypeError : err instanceof RangeError ? RangeError : Error;
      throw new Ctor(`${err.message} (FusedTfOptimizer: params[k] is the k-th non-empty group: the default group first, then config.paramGroups in order)`, { cause: e });
    }
  }

  #live(): void {
    if (this.#disposed) throw new Error('fused-optim: this FusedTfOptimizer has been disposed');
  }

  /** The rule: `'adamw'`, `'adam'`, `'sgd'`, ... */
  get rule(): FusedRule {
    return this.#rule;
  }

  /**
   * The fused optimizer under this one (built on the first step; null before): its `trace`,
   * `lastStep`, `currentLr`, `iteration`, `params`...
   */
  get fused(): FusedOptimizer<object> | null {
    return this.#fused;
  }

  /** The variables' names in arena order (empty before the first step). */
  get variableNames(): readonly string[] {
    return this.#names;
  }

  /** The last step's outcome ({gradNormL2, gradNormL1, clipCoef, skipped, lr, iteration}), or null. */
  get lastStep(): StepInfo | null {
    return this.#fused?.lastStep ?? null;
  }

  /** The norm trace of every step so far (null before the first step). */
  get trace(): NormTrace | null {
    return this.#fused?.trace ?? null;
  }

  /** The learning rate: a number or a schedule. Setting it takes effect at the next step. */
  get learningRate(): LearningRate {
    return this.#lr;
  }

  /** Sets the learning rate (a number or a schedule) for the following steps. */
  set learningRate(lr: LearningRate) {
    this.setLearningRate(lr);
  }

  /** Sets the learning rate (a number or a schedule) for the following steps. */
  setLearningRate(lr: LearningRate): void {
    this.#live();
    if (typeof lr !== 'function') v.nonNegative('lr', lr);
    this.#lr = lr;
    if (this.#fused) this.#fused.lr = lr;
  }

  /** The learning rate the next step will use. */
  get currentLr(): number {
    if (this.#fused) return this.#fused.currentLr;
    return typeof this.#lr === 'number' ? this.#lr : (this.#lr as Schedule)(this.iterations);
  }

  #build(entries: { name: string; tensor: tf.Tensor | null }[]): void {
    const registered = tf.engine().registeredVariables;
    // Arena order: group by group (the default group first), by name within a group.
    const group = new Map(entries.map((e) => [e.name, this.#groupOf(e.name)]));
    this.#names = entries.map((e) => e.name).sort((a, b) => (group.get(a) as number) - (group.get(b) as number) || (a < b ? -1 : a > b ? 1 : 0));
    this.#variables = this.#names.map((name) => {
      const variable = registered[name];
      if (variable === undefined) throw new Error(`fused-optim: no variable named '${name}' is registered with TensorFlow.js`);
      if (variable.dtype !== 'float32') throw new TypeError(`Expected a float32 variable for '${name}' but received dtype ${variable.dtype}`);
      return variable;
    });
    const values = this.#variables.map((variable) => Float32Array.from(variable.dataSync() as Float32Array));
    const counts = this.#groups.map((_, k) => this.#names.filter((n) => group.get(n) === k + 1).length);
    const nDefault = this.#names.filter((n) => group.get(n) === 0).length;
    this.#fused = this.#make(values.slice(0, nDefault), counts, values.slice(nDefault));
    this.#dataIds = this.#variables.map((variable) => variable.dataId);
    if (this.#pendingEval) (this.#fused as ScheduleFreeAdamW).eval(); // no step yet: only the mode
    if (this.#pending) {
      const pending = this.#pending;
      this.#pending = null;
      try {
        this.#restore(pending);
      } finally {
        for (const w of pending) w.tensor.dispose(); // our clones
      }
    }
  }

  /**
   * One fused step with the given gradients (a map or a list of `{ name, tensor }`; `name`
   * is a variable's name). Called by `minimize` and by `model.fit`.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.#live();
    const entries: { name: string; tensor: tf.Tensor | null }[] = Array.isArray(variableGradients)
      ? variableGradients.map((e) => ({ name: e.name, tensor: e.tensor ?? null }))
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] ?? null }));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (this.#fused === null) this.#build(entries);
    const fused = this.#fused as Fused;
    const byName = new Map(entries.map((e) => [e.name, e.tensor]));
    for (const name of byName.keys()) {
      if (!this.#names.includes(name)) {
        throw new Error(
          `fused-optim: FusedTfOptimizer was built for the variables [${this.#names.join(', ')}] and cannot take a gradient for '${name}'; use a new optimizer for a different set of variables`,
        );
      }
    }
    const cpu = fused.device === 'cpu';
    const grads = cpu ? fused.grads : null;
    const params = cpu ? fused.params : null;
    for (let i = 0; i < this.#names.length; i++) {
      const variable = this.#variables[i];
      if (variable.isDisposed) throw new Error(`fused-optim: the variable '${this.#names[i]}' has been disposed`);
      // a variable assigned from outside since our last write: take its new value
      if (variable.dataId !== this.#dataIds[i]) {
        const value = variable.dataSync() as Float32Array;
        if (params) params[i].set(value);
        else fused.setParams(i, Float32Array.from(value));
      }
      const g = byName.get(this.#names[i]) ?? null;
      if (g !== null && g.size !== fused.lengths[i]) {
        throw new RangeError(`Expected a gradient of ${fused.lengths[i]} elements for '${this.#names[i]}' but received shape [${g.shape.join(', ')}]`);
      }
      const data = g === null ? null : (g.dataSync() as Float32Array);
      if (grads) {
        if (data === null) grads[i].fill(0);
        else grads[i].set(data);
      } else {
        fused.setGrads(i, data === null ? new Float32Array(fused.lengths[i]) : Float32Array.from(data));
      }
    }
    const info = fused.step();
    if (!info.skipped) this.#writeBack();
    this.incrementIterations();
  }

  /** Writes the arena's parameters to the variables. */
  #writeBack(): void {
    const fused = this.#fused as Fused;
    const params = fused.device === 'cpu' ? fused.params : null;
    for (let i = 0; i < this.#names.length; i++) {
      const variable = this.#variables[i];
      const values = params ? params[i].slice() : fused.readParams(i);
      const t = tf.tensor(values, variable.shape, 'float32');
      variable.assign(t);
      t.dispose(); // the variable keeps the data (assign shares it and holds a reference)
      this.#dataIds[i] = variable.dataId;
    }
  }

  /**
   * Schedule-free AdamW (`'schedulefree-adamw'`): moves the parameters to the evaluation point
   * x ({@link ScheduleFreeAdamW.eval}) and writes them to the variables. Call it before
   * evaluating, predicting or saving the model, and {@link FusedTfOptimizer.train} before
   * training again (a step in eval mode throws). A no-op in eval mode. Other rules have one
   * point and throw.
   */
  eval(): void {
    this.#switchMode('eval');
  }

  /** Schedule-free AdamW: moves the parameters back to the training point y (see {@link FusedTfOptimizer.eval}). */
  train(): void {
    this.#switchMode('train');
  }

  /** `'train'` or `'eval'` for schedule-free AdamW; always `'train'` for the other rules. */
  get mode(): 'train' | 'eval' {
    if (this.#fused instanceof ScheduleFreeAdamW) return this.#fused.mode;
    return this.#pendingEval ? 'eval' : 'train';
  }

  #switchMode(to: 'train' | 'eval'): void {
    this.#live();
    if (!RULES[this.#rule].trainEvalModes) {
      throw new Error(`fused-optim: FusedTfOptimizer.${to}() switches the parameters of a rule with an evaluation point ('schedulefree-adamw'); '${this.#rule}' has one point`);
    }
    const fused = this.#fused;
    if (!(fused instanceof ScheduleFreeAdamW)) {
      this.#pendingEval = to === 'eval'; // before the first step there is nothing to move
      return;
    }
    if (fused.mode === to) return;
    // a variable assigned from outside since our last write: take its new value first
    for (let i = 0; i < this.#names.length; i++) {
      const variable = this.#variables[i];
      if (variable.isDisposed) throw new Error(`fused-optim: the variable '${this.#names[i]}' has been disposed`);
      if (variable.dataId !== this.#dataIds[i]) fused.setParams(i, Float32Array.from(variable.dataSync() as Float32Array));
    }
    if (to === 'eval') fused.eval();
    else fused.train();
    this.#writeBack();
  }

  /** The rule and hyperparameters (see the class notes on schedules). */
  getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { optimizer: this.#rule };
    for (const [k, val] of Object.entries(this.#hyper)) config[k] = val as tf.serialization.ConfigDictValue;
    if (this.#groups.length > 0) {
      // A RegExp is saved as its source and flags; a predicate function cannot be saved (null).
      config.paramGroups = this.#groups.map((g) => {
        const { match, ...rest } = g;
        const out: tf.serialization.ConfigDict = {};
        for (const [k, val] of Object.entries(rest)) if (typeof val !== 'function') out[k] = val as tf.serialization.ConfigDictValue;
        out.match = match instanceof RegExp ? { source: match.source, flags: match.flags } : null;
        return out;
      });
    }
    if (typeof this.#lr === 'function') {
      config.lr = this.#disposed ? null : this.currentLr;
      config.lrSchedule = true;
    } else {
      config.lr = this.#lr;
    }
    if (this.#threads !== undefined) config.threads = this.#threads;
    if (this.#traceCapacity !== undefined) config.traceCapacity = this.#traceCapacity;
    return config;
  }

  /** Builds an optimizer from {@link FusedTfOptimizer.getConfig}'s output. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const c: Record<string, unknown> = { ...config };
    delete c.lrSchedule;
    if (c.lr === null) delete c.lr;
    if (Array.isArray(c.paramGroups)) {
      c.paramGroups = (c.paramGroups as Record<string, unknown>[]).map((g, i) => {
        const m = g.match as { source?: string; flags?: string } | null;
        if (m === null || typeof m?.source !== 'string') {
          throw new TypeError(`Cannot restore config.paramGroups[${i}].match: it was a predicate function, which is not serialised; pass the optimizer's config with its paramGroups again`);
        }
        return { ...g, match: new RegExp(m.source, m.flags ?? '') };
      });
    }
    return new cls(c);
  }

  /** The state arrays saved by getWeights: SGD without momentum (in every group) has none worth saving. */
  #stateKeys(state: Record<string, Float32Array[]>): string[] {
    const momentum = this.#fused ? this.#fused.groups.some((g) => g.hyperparameters.momentum !== 0 && g.hyperparameters.momentum !== undefined) : ((this.#hyper.momentum as number | undefined) ?? 0) !== 0;
    return Object.keys(state).filter((k) => !(k === 'momentumBuffer' && !momentum));
  }

  /**
   * `[iter, applied, ...state]`: the step counter, the count of applied (not skipped) steps
   * that drives bias correction, and the optimizer state of each variable in arena order
   * (`<name>/m`, `<name>/v` for Adam(W); `<name>/momentum` for SGD with momentum; the state
   * name for the other rules), then a rule's host state (`fused-optim/host/<group>/<key>`, a
   * float64 as two int32 words: NAdam's μ product, schedule-free AdamW's weight sum) and
   * schedule-free AdamW's mode (`fused-optim/mode`, 1 for eval). The state is read when called
   * (before the first `await`). With `shard: true` it is a collective: every rank calls it, and
   * each gets the whole (consolidated) state.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.#live();
    // Read the state before the first await: the snapshot is of the call's moment even if the
    // caller steps before awaiting, and with shard the collective stateDict() runs in program
    // order on every rank.
    const fused = this.#fused;
    const applied = fused ? fused.appliedSteps : 0;
    const sd = fused?.stateDict() ?? null;
    const out: NamedTensor[] = [await this.saveIterations()];
    out.push({ name: 'applied', tensor: tf.scalar(applied, 'int32') });
    if (fused === null || sd === null) return out;
    for (const key of this.#stateKeys(sd.state)) {
      sd.state[key].forEach((a, i) => out.push({ name: `${this.#names[i]}/${STATE_SUFFIX[key] ?? key}`, tensor: tf.tensor(a, this.#variables[i].shape) }));
    }
    // A rule's host state (NAdam's μ product, schedule-free AdamW's weight sum): doubles, kept
    // exactly as the two 32-bit words of each value (tfjs has no float64 tensors).
    (sd.groups ?? []).forEach((g, gi) => {
      for (const [key, value] of Object.entries(g.hostState ?? {})) {
        out.push({ name: `${HOST_PREFIX}${gi}/${key}`, tensor: tf.tensor1d(new Int32Array(Float64Array.of(value).buffer), 'int32') });
      }
    });
    if (sd.mode !== undefined) out.push({ name: MODE_WEIGHT, tensor: tf.scalar(sd.mode === 'eval' ? 1 : 0, 'int32') });
    return out;
  }

  /**
   * Restores what {@link FusedTfOptimizer.getWeights} returned. Before the first step (as when
   * a saved model is loaded), the values are kept and applied when the arena is built. With
   * `shard: true` it is a collective (every rank calls it with the same weights; before the first
   * step, the restore happens in every rank's first `applyGradients`). Weights are matched by
   * variable name; those of unknown names are ignored.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.#live();
    const rest = await this.extractIterations(weightValues);
    if (this.#fused === null) {
      // keep copies until the first step builds the arena: the caller may dispose its tensors
      if (this.#pending) for (const w of this.#pending) w.tensor.dispose();
      this.#pending = rest.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
      return;
    }
    this.#restore(rest);
  }

  #restore(rest: NamedTensor[]): void {
    const fused = this.#fused as Fused;
    const byName = new Map(rest.map((w) => [w.name, w.tensor]));
    const sd = fused.stateDict();
    const applied = byName.get('applied');
    sd.iteration = this.iterations;
    sd.appliedSteps = applied === undefined ? this.iterations : Math.round(applied.dataSync()[0]);
    for (const key of this.#stateKeys(sd.state)) {
      sd.state[key].forEach((a, i) => {
        const t = byName.get(`${this.#names[i]}/${STATE_SUFFIX[key] ?? key}`);
        if (t === undefined) return;
        if (t.size !== a.length) throw new RangeError(`Expected ${a.length} values for the optimizer weight '${this.#names[i]}/${STATE_SUFFIX[key] ?? key}' but received shape [${t.shape.join(', ')}]`);
        a.set(t.dataSync() as Float32Array);
      });
    }
    (sd.groups ?? []).forEach((g, gi) => {
      if (!g.hostState) return;
      for (const key of Object.keys(g.hostState)) {
        const t = byName.get(`${HOST_PREFIX}${gi}/${key}`);
        if (t === undefined) continue;
        if (t.size !== 2 || t.dtype !== 'int32') throw new RangeError(`Expected the optimizer weight '${HOST_PREFIX}${gi}/${key}' to be 2 int32 words (a float64) but received ${t.dtype} of shape [${t.shape.join(', ')}]`);
        g.hostState[key] = new Float64Array(Int32Array.from(t.dataSync() as Int32Array).buffer)[0];
      }
    });
    const mode = byName.get(MODE_WEIGHT);
    if (mode !== undefined && sd.mode !== undefined) sd.mode = mode.dataSync()[0] === 1 ? 'eval' : 'train';
    fused.loadStateDict(sd);
  }

  /** Frees the native arena and the optimizer's tensors. Safe to call twice. */
  override dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#fused?.dispose();
    this.#fused = null;
    if (this.#pending) for (const w of this.#pending) w.tensor.dispose();
    this.#pending = null;
    super.dispose();
  }

  /** True once `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposed;
  }
}

tf.serialization.registerClass(FusedTfOptimizer);

/**
 * Data parallelism: sets every rank's model weights (trainable and not, e.g. batch-norm
 * statistics) to those of rank `root`, in one `MPI_Bcast` of all of them packed, as PyTorch's
 * DistributedDataParallel does when it wraps a model and Horovod's `broadcast_variables`. Call
 * it on every rank after building the model and before training, so that ranks that drew
 * different initial weights train one model. Float32 weights only (tfjs layers' default).
 *
 * ```js
 * const comm = init();
 * const model = buildModel();
 * broadcastWeights(comm, model); // every rank now has rank 0's weights
 * model.compile({ optimizer: new FusedTfOptimizer({ optimizer: 'adamw', lr: 1e-3, comm }), loss });
 * ```
 */
export function broadcastWeights(comm: Communicator, model: Pick<tf.LayersModel, 'getWeights' | 'setWeights'>, root = 0): void {
  const c = checkComm('comm', comm);
  if (typeof model !== 'object' || model === null || typeof model.getWeights !== 'function' || typeof model.setWeights !== 'function') {
    throw v.typeError('model', 'a tfjs model (with getWeights and setWeights)', model);
  }
  const r = v.integer('root', root, 0, c.size - 1);
  const weights = model.getWeights();
  for (const [i, w] of weights.entries()) {
    if (w.dtype !== 'float32') throw v.rangeError(`model.getWeights()[${i}].dtype`, "'float32'", w.dtype);
  }
  const total = weights.reduce((a, w) => a + w.size, 0);
  const packed = new Float32Array(total);
  let at = 0;
  for (const w of weights) {
    packed.set(w.dataSync() as Float32Array, at);
    at += w.size;
  }
  c.broadcast(packed, r);
  at = 0;
  const fresh = weights.map((w) => {
    const t = tf.tensor(packed.subarray(at, at + w.size), w.shape, 'float32');
    at += w.size;
    return t;
  });
  try {
    model.setWeights(fresh);
  } finally {
    tf.dispose(fresh);
  }
}

/** Options of {@link LearningRateScheduler}. */
export interface LearningRateSchedulerOptions {
  /** The step the schedule is read at for the first batch (to resume a run). Default 0. */
  initialStep?: number;
  /** Also put the learning rate into each batch's logs as `lr`. Default true. */
  logLr?: boolean;
}

/** Anything with a settable learning rate: TensorFlow.js optimizers and {@link FusedTfOptimizer}. */
interface LrTarget {
  learningRate?: unknown;
  setLearningRate?: (lr: number) => void;
}

/**
 * Sets the learning rate of a TensorFlow.js optimizer (or a {@link FusedTfOptimizer}).
 * `tf.train.sgd`/`momentum` cache `-lr` in a tensor, so their `setLearningRate` is called;
 * Adam, RMSProp, Adagrad, Adadelta and Adamax read the `learningRate` field at every step.
 */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as LrTarget;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else if ('learningRate' in o) o.learningRate = lr;
  else throw new TypeError(`Expected an optimizer with a learningRate for the schedule but received ${optimizer.getClassName?.() ?? typeof optimizer}`);
}

/**
 * A `tf.Callback` that sets the learning rate of the model's optimizer from a fused-optim
 * schedule before every batch: batch k of the run (counted across epochs, from
 * `initialStep`) uses `schedule(k)`.
 *
 * @example
 * ```ts
 * const steps = epochs * Math.ceil(n / batchSize);
 * model.compile({ optimizer: tf.train.adam(), loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { epochs, batchSize, callbacks: [new LearningRateScheduler(cosineDecay({ peak: 1e-3, steps }))] });
 * ```
 */
export class LearningRateScheduler extends tf.Callback {
  readonly schedule: Schedule;
  /** The step the next batch reads the schedule at. */
  step: number;
  /** The learning rate set for each batch so far. */
  readonly history: number[] = [];
  readonly #logLr: boolean;
  #current = NaN;

  constructor(schedule: Schedule, options: LearningRateSchedulerOptions = {}) {
    super();
    if (typeof schedule !== 'function') throw v.typeError('schedule', 'a schedule function (step) => lr', schedule);
    const o = v.readOptions('options', options, ['initialStep', 'logLr']);
    this.schedule = schedule;
    this.step = v.optional(o, 'initialStep', 0, v.nonNegativeInteger);
    this.#logLr = v.optional(o, 'logLr', true, v.boolean);
  }

  /** Sets the optimizer's learning rate for the coming batch from the schedule (and records it in `history`). */
  override async onBatchBegin(_batch: number, _logs?: tf.Logs): Promise<void> {
    const lr = this.schedule(this.step);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw v.rangeError(`the value of the schedule at step ${this.step}`, 'a finite number >= 0', lr);
    }
    setOptimizerLearningRate(this.model.optimizer, lr);
    this.#current = lr;
    this.history.push(lr);
  }

  /** Advances the schedule by one step after each batch; adds `lr` to the batch logs unless `logLr` is false. */
  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    this.step++;
    if (this.#logLr && logs) logs.lr = this.#current;
  }
}
