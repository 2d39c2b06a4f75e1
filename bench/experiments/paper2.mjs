// Paper 2 (Gupta et al. 2023), continual training: pre-train on digits 0-4, then continue on
// digits 5-9 from the pre-trained weights with the re-warm schedule (linear warm-up over 0,
// 0.5, 1 or 2% of the steps to MaxLR, cosine to 0.1·MaxLR at 81%, constant after) for three
// MaxLR (half, equal to and twice the pre-training peak). Baselines: a constant lr (the
// pre-training's MinLR, and its MaxLR) and training from scratch on 5-9. AdamW as in the
// paper: β = (0.9, 0.95), weight decay 0.1, clip 1.0, fresh optimizer state at the switch.
// Reported: new-task (5-9) and old-task (0-4) test loss along the run; forgetting = old-task
// loss at the end minus old-task loss right after pre-training.
//   node bench/experiments/paper2.mjs     (SEEDS=0,1,2 by default; QUICK=1 for a smoke test)
// VARIANT=permuted: a domain-incremental version closer to the paper's setting (same label
// space, new input distribution): the old task is digits 0-9, the new task is other digits
// 0-9 whose pixels go through one fixed random permutation ("permuted MNIST").
import { QUICK, SEEDS, log, loadSplit, mlp, saveJson, schedule, stepsFor, thin, train } from './common.mjs';
import { Rng } from '../../dist/random.js';

const VARIANT = process.env.VARIANT ?? 'split';

/** Rows [from, from + n) of a data set, pixels permuted by `perm` when given. */
function rows(d, from, n, perm) {
  const x = new Float32Array(n * d.dim);
  for (let i = 0; i < n; i++) {
    const src = d.x.subarray((from + i) * d.dim, (from + i + 1) * d.dim);
    const dst = x.subarray(i * d.dim, (i + 1) * d.dim);
    if (perm) for (let k = 0; k < d.dim; k++) dst[k] = src[perm[k]];
    else dst.set(src);
  }
  return { x, y: d.y.slice(from, from + n), n, dim: d.dim, classes: d.classes };
}

/** Old and new tasks of a seed. */
function tasks(seed) {
  if (VARIANT === 'split') {
    const old = loadSplit({ nTrain: nOld, nTest: 1000, seed, classes: [0, 1, 2, 3, 4] });
    const neu = loadSplit({ nTrain: nNew, nTest: 1000, seed, classes: [5, 6, 7, 8, 9] });
    return { old, neu };
  }
  const all = loadSplit({ nTrain: nOld + nNew, nTest: 2000, seed });
  const perm = new Rng(seed + 424242).permutation(all.train.dim);
  return {
    old: { train: rows(all.train, 0, nOld), test: rows(all.test, 0, 1000) },
    neu: { train: rows(all.train, nOld, nNew, perm), test: rows(all.test, 1000, 1000, perm) },
  };
}

const P0 = 3e-3; // pre-training MaxLR
const WARMUPS = [0, 0.005, 0.01, 0.02];
const MAXLRS = [P0 / 2, P0, 2 * P0];
const CONSTANTS = [P0 / 10, P0];
const hyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 };
const batchSize = 64;
const epochs = QUICK ? 2 : 10;
const nOld = QUICK ? 1000 : 4000;
const nNew = QUICK ? 1000 : 3800;
const evalPoints = 20;

const out = { experiment: 'paper2', variant: VARIANT, seeds: SEEDS, batchSize, epochs, p0: P0, warmups: WARMUPS, maxLrs: MAXLRS, constants: CONSTANTS, hyper, runs: [] };
for (const seed of SEEDS) {
  const { old, neu } = tasks(seed);
  const evalSets = { old: old.test, new: neu.test };
  const preSteps = stepsFor(nOld, batchSize, epochs);
  const pre = train({ model: mlp(64), train: old.train, evalSets, optimizer: 'adamw', hyper, lr: schedule('rewarm', P0, preSteps), steps: preSteps, batchSize, seed });
  log(`seed ${seed} pre-trained on the old task: old loss ${pre.final.old.loss.toFixed(4)} acc ${pre.final.old.accuracy.toFixed(4)}`);
  const steps = stepsFor(nNew, batchSize, epochs);
  const every = Math.max(1, Math.round(steps / evalPoints));
  const configs = [];
  for (const peak of MAXLRS) for (const w of WARMUPS) configs.push({ kind: 'rewarm', peak, warmupFrac: w, lr: schedule('rewarm', peak, steps, { warmup: Math.round(w * steps) }), init: pre.params });
  for (const c of CONSTANTS) configs.push({ kind: 'constant', peak: c, warmupFrac: 0, lr: c, init: pre.params });
  configs.push({ kind: 'scratch', peak: P0, warmupFrac: 0.01, lr: schedule('rewarm', P0, steps, { warmup: Math.round(0.01 * steps) }), init: undefined });
  for (const c of configs) {
    const r = train({ model: mlp(64), train: neu.train, evalSets, optimizer: 'adamw', hyper, lr: c.lr, steps, batchSize, seed: seed + 1000, init: c.init, evalEvery: every });
    const at = (frac) => r.evals.reduce((best, e) => (Math.abs(e.step - frac * steps) < Math.abs(best.step - frac * steps) ? e : best));
    const early = r.evals.filter((e) => e.step > 0 && e.step <= 0.1 * steps);
    const row = {
      seed,
      kind: c.kind,
      peak: c.peak,
      warmupFrac: c.warmupFrac,
      steps,
      oldBefore: pre.final.old.loss,
      oldAccBefore: pre.final.old.accuracy,
      newEnd: r.final.new.loss,
      newAccEnd: r.final.new.accuracy,
      oldEnd: r.final.old.loss,
      oldAccEnd: r.final.old.accuracy,
      forgetting: r.final.old.loss - pre.final.old.loss,
      new10: at(0.1).sets.new.loss,
      new25: at(0.25).sets.new.loss,
      oldMaxEarly: Math.max(...early.map((e) => e.sets.old.loss)),
      newMaxEarly: Math.max(...early.map((e) => e.sets.new.loss)),
      curve: { step: r.evals.map((e) => e.step), old: r.evals.map((e) => +e.sets.old.loss.toPrecision(5)), new: r.evals.map((e) => +e.sets.new.loss.toPrecision(5)) },
      lr: thin(r.lr, 41),
      seconds: +r.seconds.toFixed(2),
    };
    out.runs.push(row);
    log(`seed ${seed}`, c.kind.padEnd(8), `peak ${c.peak}`, `warmup ${c.warmupFrac}`, `new ${row.newEnd.toFixed(4)}`, `old ${row.oldEnd.toFixed(4)} (forgetting ${row.forgetting.toFixed(3)})`, `${row.seconds}s`);
  }
  saveJson(`paper2${VARIANT === 'split' ? '' : `-${VARIANT}`}${QUICK ? '.quick' : ''}`, out);
}
log('done');
