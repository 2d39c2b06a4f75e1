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
import { Adam, AdamW, SGD, type FusedOptimizer, type LearningRate, type StepInfo } from '../optim/index.js';
import type { Schedule } from '../schedules/types.js';
import type { NormTrace } from '../trace.js';
import * as v from '../validate.js';

/** The update rules a {@link FusedTfOptimizer} can run. */
export type FusedRule = 'adamw' | 'adam' | 'sgd';

const RULES: readonly FusedRule[] = ['adamw', 'adam', 'sgd'];

/** Options of {@link FusedTfOptimizer}: the rule, the learning rate, the rule's hyperparameters. */
export interface FusedTfOptimizerConfig {
  /** Default `'adamw'`. */
  optimizer?: FusedRule;
  /** A number or a fused-optim schedule of the 0-based step. Default 1e-3. */
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
}

const HYPER_KEYS = ['beta1', 'beta2', 'eps', 'weightDecay', 'momentum', 'dampening', 'nesterov', 'maxGradNorm', 'gradScale', 'skipNonFinite'] as const;
const ADAM_ONLY = ['beta1', 'beta2', 'eps'];
const SGD_ONLY = ['momentum', 'dampening', 'nesterov'];
const CONFIG_KEYS = ['optimizer', 'lr', 'threads', 'traceCapacity', ...HYPER_KEYS];

type Fused = FusedOptimizer<object>;

/** A tfjs weight: a name and a tensor (`NamedTensor`, not re-exported by `@tensorflow/tfjs`). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** getWeights names of the state arrays of `stateDict()`: `<variable>/<suffix>`. */
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
 */
export class FusedTfOptimizer extends tf.Optimizer {
  /** The name TensorFlow.js's serialization registry knows this class by. */
  static className = 'FusedOptim';

  readonly #rule: FusedRule;
  readonly #hyper: Record<string, unknown>;
  #lr: LearningRate;
  readonly #threads: number | undefined;
  readonly #traceCapacity: number | undefined;
  #fused: Fused | null = null;
  #names: string[] = [];
  #variables: tf.Variable[] = [];
  #dataIds: unknown[] = [];
  #pending: NamedTensor[] | null = null;
  #disposed = false;

  constructor(config: FusedTfOptimizerConfig = {}) {
    super();
    const o = v.options<FusedTfOptimizerConfig>('config', config) as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!CONFIG_KEYS.includes(key)) {
        throw new TypeError(`Unknown option config.${key}; expected one of ${CONFIG_KEYS.map((k) => `'${k}'`).join(', ')}`);
      }
    }
    this.#rule = o.optimizer === undefined ? 'adamw' : v.oneOf('config.optimizer', o.optimizer, RULES);
    const hyper: Record<string, unknown> = {};
    for (const key of HYPER_KEYS) {
      if (o[key] === undefined) continue;
      if (this.#rule === 'sgd' ? ADAM_ONLY.includes(key) : SGD_ONLY.includes(key)) {
        throw new TypeError(`Unknown option config.${key} for optimizer '${this.#rule}'`);
      }
      hyper[key] = o[key];
    }
    this.#hyper = hyper;
    this.#lr = o.lr === undefined ? 1e-3 : (o.lr as LearningRate);
    if (typeof this.#lr !== 'function') v.nonNegative('config.lr', this.#lr);
    this.#threads = o.threads as number | undefined;
    this.#traceCapacity = o.traceCapacity as number | undefined;
    // Validate the hyperparameters now (a bad value should fail at construction, not at the
    // first step): build a throw-away optimizer of one element.
    this.#make([new Float32Array(1)]).dispose();
  }

  #make(params: Float32Array[]): Fused {
    const opts: Record<string, unknown> = { ...this.#hyper, lr: this.#lr };
    if (this.#threads !== undefined) opts.threads = this.#threads;
    if (this.#traceCapacity !== undefined) opts.traceCapacity = this.#traceCapacity;
    if (this.#rule === 'sgd') return new SGD(params, opts);
    if (this.#rule === 'adam') return new Adam(params, opts);
    return new AdamW(params, opts);
  }

  #live(): void {
    if (this.#disposed) throw new Error('fused-optim: this FusedTfOptimizer has been disposed');
  }

  /** `'adamw'`, `'adam'` or `'sgd'`. */
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
    this.#names = entries.map((e) => e.name);
    this.#variables = this.#names.map((name) => {
      const variable = registered[name];
      if (variable === undefined) throw new Error(`fused-optim: no variable named '${name}' is registered with TensorFlow.js`);
      if (variable.dtype !== 'float32') throw new TypeError(`Expected a float32 variable for '${name}' but received dtype ${variable.dtype}`);
      return variable;
    });
    const values = this.#variables.map((variable) => Float32Array.from(variable.dataSync() as Float32Array));
    this.#fused = this.#make(values);
    this.#dataIds = this.#variables.map((variable) => variable.dataId);
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
    if (!info.skipped) {
      for (let i = 0; i < this.#names.length; i++) {
        const variable = this.#variables[i];
        const values = params ? params[i].slice() : fused.readParams(i);
        const t = tf.tensor(values, variable.shape, 'float32');
        variable.assign(t);
        t.dispose(); // the variable keeps the data (assign shares it and holds a reference)
        this.#dataIds[i] = variable.dataId;
      }
    }
    this.incrementIterations();
  }

  /** The rule and hyperparameters (see the class notes on schedules). */
  getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { optimizer: this.#rule };
    for (const [k, val] of Object.entries(this.#hyper)) config[k] = val as tf.serialization.ConfigDictValue;
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
    return new cls(c);
  }

  /** The state arrays saved by getWeights: SGD without momentum has none worth saving. */
  #stateKeys(state: Record<string, Float32Array[]>): string[] {
    const momentum = (this.#hyper.momentum as number | undefined) ?? 0;
    return Object.keys(state).filter((k) => !(k === 'momentumBuffer' && momentum === 0));
  }

  /**
   * `[iter, applied, ...state]`: the step counter, the count of applied (not skipped) steps
   * that drives bias correction, and the optimizer state of each variable in arena order
   * (`<name>/m`, `<name>/v` for Adam(W); `<name>/momentum` for SGD with momentum).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.#live();
    const out: NamedTensor[] = [await this.saveIterations()];
    const fused = this.#fused;
    out.push({ name: 'applied', tensor: tf.scalar(fused ? fused.appliedSteps : 0, 'int32') });
    if (fused === null) return out;
    const sd = fused.stateDict();
    for (const key of this.#stateKeys(sd.state)) {
      sd.state[key].forEach((a, i) => out.push({ name: `${this.#names[i]}/${STATE_SUFFIX[key] ?? key}`, tensor: tf.tensor(a, this.#variables[i].shape) }));
    }
    return out;
  }

  /**
   * Restores what {@link FusedTfOptimizer.getWeights} returned. Before the first step (as when
   * a saved model is loaded), the values are kept and applied when the arena is built.
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
    const o = v.options<LearningRateSchedulerOptions>('options', options) as Record<string, unknown>;
    this.schedule = schedule;
    this.step = v.opt(o, 'initialStep', 0, (n, x) => v.integer(n, x, 0));
    this.#logLr = v.opt(o, 'logLr', true, v.boolean);
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
