/**
 * One training run: mini-batch training of a {@link Model} with a fused-optim optimizer
 * (SGD, Adam or AdamW) and a learning-rate schedule, recording the per-step loss, the norm
 * trace, and evaluations along the way.
 * @module
 */
import { ScheduleFreeAdamW, createOptimizer, type FusedOptimizer, type LearningRate, type OptimizerKind, type StepInfo } from '../optim/index.js';
import type { NormTrace } from '../trace.js';
import type { Dataset } from './data.js';
import type { Evaluation, Model } from './models.js';
import { Rng } from '../random.js';

/** The optimizers a run can use: any rule of the registry. */
export type OptimizerName = OptimizerKind;

/** Options of {@link train}. */
export interface TrainOptions {
  model: Model;
  train: Dataset;
  /** Sets evaluated every `evalEvery` steps and at the end, by name (e.g. `{ test }`). */
  evalSets?: Record<string, Dataset>;
  optimizer: OptimizerName;
  /** Hyperparameters of the fused optimizer besides `lr` (e.g. `{ weightDecay: 0.1, maxGradNorm: 1 }`). */
  hyper?: Record<string, unknown>;
  /** A number or a schedule of the 0-based step. */
  lr: LearningRate;
  /** Number of steps. */
  steps: number;
  batchSize: number;
  /** Seed of the initialisation (unless `init`) and of the batch order. */
  seed: number;
  /** Start from these parameters (copied) instead of `model.init`. */
  init?: readonly Float32Array[];
  /** Evaluate `evalSets` every this many steps (0: only at the end). Default 0. */
  evalEvery?: number;
  /** Called after every step. */
  onStep?: (info: StepInfo, loss: number) => void;
}

/** What a run produced. */
export interface TrainResult {
  /** Final parameters (copies; schedule-free AdamW: the evaluation point x). */
  params: Float32Array[];
  /** Mini-batch loss of every step. */
  loss: Float32Array;
  /** Learning rate of every step. */
  lr: Float32Array;
  /** Evaluations: the step they were taken after (0 = before training) and one result per set. */
  evals: { step: number; sets: Record<string, Evaluation> }[];
  /** The last evaluation of each set. */
  final: Record<string, Evaluation>;
  /** The optimizer's norm trace (one entry per step). */
  trace: NormTrace;
  /** Wall time of the run, seconds (evaluations included). */
  seconds: number;
  /** True when a step produced a non-finite loss (the run diverged and was stopped). */
  diverged: boolean;
}

/** Number of steps for `epochs` passes over `n` rows in batches of `batchSize` (last batch partial). */
export function stepsFor(n: number, batchSize: number, epochs: number): number {
  return Math.max(1, Math.round(epochs * Math.ceil(n / batchSize)));
}

function makeOptimizer(name: OptimizerName, params: Float32Array[], lr: LearningRate, hyper: Record<string, unknown>): FusedOptimizer<object> {
  return createOptimizer(name, params, { ...hyper, lr });
}

/** Trains `model` on `train` for `steps` steps and returns curves, trace and final evaluations. */
export function train(o: TrainOptions): TrainResult {
  const t0 = performance.now();
  const rng = new Rng(o.seed);
  const init = o.init ? o.init.map((p) => p.slice()) : o.model.init(rng);
  const opt = makeOptimizer(o.optimizer, init, o.lr, o.hyper ?? {});
  const batchRng = new Rng(o.seed * 31 + 7);
  try {
    const params = opt.params;
    const grads = opt.grads;
    const loss = new Float32Array(o.steps);
    const lrs = new Float32Array(o.steps);
    const evals: TrainResult['evals'] = [];
    const sets = o.evalSets ?? {};
    // schedule-free AdamW: evaluate at x (eval mode), train at y; the run ends at x
    const twoPoints = opt instanceof ScheduleFreeAdamW ? opt : null;
    const evaluate = (step: number, last = false): void => {
      twoPoints?.eval();
      const r: Record<string, Evaluation> = {};
      for (const [name, d] of Object.entries(sets)) r[name] = o.model.evaluate(params, d);
      evals.push({ step, sets: r });
      if (!last) twoPoints?.train();
    };
    const every = o.evalEvery ?? 0;
    if (every > 0) evaluate(0);
    const n = o.train.n;
    let perm = batchRng.permutation(n);
    let at = 0;
    let diverged = false;
    let steps = 0;
    for (let s = 0; s < o.steps; s++) {
      if (at >= n) {
        perm = batchRng.permutation(n);
        at = 0;
      }
      const end = Math.min(n, at + o.batchSize);
      const l = o.model.lossAndGrad(params, grads, o.train, perm, at, end);
      at = end;
      const info = opt.step();
      loss[s] = l;
      lrs[s] = info.lr;
      steps = s + 1;
      o.onStep?.(info, l);
      if (!Number.isFinite(l)) {
        diverged = true;
        break;
      }
      if (every > 0 && (s + 1) % every === 0 && s + 1 < o.steps) evaluate(s + 1);
    }
    evaluate(steps, true);
    return {
      params: params.map((p) => p.slice()),
      loss: diverged ? loss.subarray(0, steps) : loss,
      lr: diverged ? lrs.subarray(0, steps) : lrs,
      evals,
      final: evals[evals.length - 1].sets,
      trace: opt.trace,
      seconds: (performance.now() - t0) / 1000,
      diverged,
    };
  } finally {
    opt.dispose();
  }
}

/** Mean of `a` over consecutive windows of `width` (the last window may be shorter). */
export function windowMeans(a: ArrayLike<number>, width: number): { x: Float64Array; y: Float64Array } {
  const k = Math.ceil(a.length / width);
  const x = new Float64Array(k);
  const y = new Float64Array(k);
  for (let w = 0; w < k; w++) {
    let s = 0;
    const lo = w * width;
    const hi = Math.min(a.length, lo + width);
    for (let i = lo; i < hi; i++) s += a[i];
    x[w] = hi - 1;
    y[w] = s / (hi - lo);
  }
  return { x, y };
}
