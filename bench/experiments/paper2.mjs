// Paper 2 (Gupta, Thérien, Ibrahim, Richter, Anthony, Belilovsky, Rish, Lesort 2023,
// "Continual Pre-Training of Large Language Models: How to (re)warm your model?") at toy
// scale, domain-incremental: pre-train an MLP on MNIST digits (the "upstream" data), then
// continue training on other digits whose pixels go through one fixed random permutation
// (the "downstream" data: same labels, new input distribution) for a longer run (800 steps), with the
// re-warm schedule (linear warm-up over 0, 0.5, 1, 2, 5 or 10% of the continued run to MaxLR,
// cosine to 0.1·MaxLR at 81%, constant after) and MaxLR = ×0.5, ×1, ×2 the pre-training peak.
// Baselines: a constant learning rate equal to the pre-training's MinLR (0.1·peak), and
// training from scratch on the new data (random init, re-warm schedule, ×1, 1% warm-up).
// AdamW as in the paper: β = (0.9, 0.95), weight decay 0.1, clip 1.0; fresh optimizer state
// at the switch. Adaptation = new-task test loss (at the end, and at 10% of the run);
// forgetting = old-task test loss at the end minus right after pre-training.
//   node bench/experiments/paper2.mjs            (npm run experiments:paper2)
// Environment: SEEDS=0,1,2,3,4 (default), QUICK=1 (smoke test, not a result).
import { QUICK, SEEDS, log, loadSplit, mlp, saveJson, schedule, train } from './common.mjs';
import { Rng } from '../../dist/random.js';

const P0 = 3e-3;
const WARMUPS = [0, 0.005, 0.01, 0.02, 0.05, 0.1];
const FACTORS = [0.5, 1, 2];
const hyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 };
const batchSize = 16;
const hidden = 32;
const nOld = QUICK ? 500 : 2000;
const nNew = QUICK ? 500 : 2000;
const nTest = 300;
const preSteps = QUICK ? 100 : 400;
const steps = QUICK ? 200 : 800;
const evalEvery = QUICK ? 10 : 80;

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

/** The old and new tasks of a seed: disjoint images; the new ones permuted. */
function tasks(seed) {
  const all = loadSplit({ nTrain: nOld + nNew, nTest: 2 * nTest, seed });
  const perm = new Rng(seed + 424242).permutation(all.train.dim);
  return {
    old: { train: rows(all.train, 0, nOld), test: rows(all.test, 0, nTest) },
    neu: { train: rows(all.train, nOld, nNew, perm), test: rows(all.test, nTest, nTest, perm) },
  };
}

log(`paper 2: seeds ${SEEDS.join(',')}; pre-training ${preSteps} steps, continued run ${steps} steps of batch ${batchSize}`);
const t0 = Date.now();
const out = { experiment: 'paper2', variant: 'permuted', seeds: SEEDS, batchSize, model: `mlp 784-${hidden}-10`, nOld, nNew, nTest, preSteps, steps, p0: P0, warmups: WARMUPS, factors: FACTORS, minLr: P0 / 10, hyper, started: new Date().toISOString(), runs: [] };
for (const seed of SEEDS) {
  const { old, neu } = tasks(seed);
  const evalSets = { old: old.test, new: neu.test };
  const pre = train({ model: mlp(hidden), train: old.train, evalSets, optimizer: 'adamw', hyper, lr: schedule('rewarm', P0, preSteps), steps: preSteps, batchSize, seed });
  log(`seed ${seed} pre-trained: old loss ${pre.final.old.loss.toFixed(4)} acc ${pre.final.old.accuracy.toFixed(4)}; new loss ${pre.final.new.loss.toFixed(4)}`);
  const configs = [];
  for (const f of FACTORS) for (const w of WARMUPS) configs.push({ kind: 'rewarm', factor: f, peak: f * P0, warmupFrac: w, lr: schedule('rewarm', f * P0, steps, { warmup: Math.round(w * steps) }), init: pre.params });
  configs.push({ kind: 'constant', factor: 0.1, peak: P0 / 10, warmupFrac: 0, lr: P0 / 10, init: pre.params });
  configs.push({ kind: 'scratch', factor: 1, peak: P0, warmupFrac: 0.01, lr: schedule('rewarm', P0, steps, { warmup: Math.round(0.01 * steps) }), init: undefined });
  for (const c of configs) {
    const r = train({ model: mlp(hidden), train: neu.train, evalSets, optimizer: 'adamw', hyper, lr: c.lr, steps, batchSize, seed: seed + 1000, init: c.init, evalEvery });
    const at = (frac) => r.evals.reduce((best, e) => (Math.abs(e.step - frac * steps) < Math.abs(best.step - frac * steps) ? e : best));
    const row = {
      seed,
      kind: c.kind,
      factor: c.factor,
      peak: c.peak,
      warmupFrac: c.warmupFrac,
      warmupSteps: Math.round(c.warmupFrac * steps),
      oldBefore: pre.final.old.loss,
      newBefore: pre.final.new.loss,
      newEnd: r.final.new.loss,
      newAccEnd: r.final.new.accuracy,
      oldEnd: r.final.old.loss,
      oldAccEnd: r.final.old.accuracy,
      forgetting: r.final.old.loss - pre.final.old.loss,
      new10: at(0.1).sets.new.loss,
      new25: at(0.25).sets.new.loss,
      old10: at(0.1).sets.old.loss,
      curve: { step: r.evals.map((e) => e.step), old: r.evals.map((e) => +e.sets.old.loss.toPrecision(5)), new: r.evals.map((e) => +e.sets.new.loss.toPrecision(5)) },
      seconds: +r.seconds.toFixed(2),
    };
    out.runs.push(row);
    log(`seed ${seed}`, c.kind.padEnd(8), `max ×${c.factor}`, `warmup ${c.warmupFrac}`, `new ${row.newEnd.toFixed(4)}`, `old ${row.oldEnd.toFixed(4)} (forgetting ${row.forgetting.toFixed(3)})`, `${row.seconds}s`);
  }
  saveJson(QUICK ? 'paper2.quick' : 'paper2', out);
}
out.seconds = (Date.now() - t0) / 1000;
saveJson(QUICK ? 'paper2.quick' : 'paper2', out);
log(`done in ${out.seconds.toFixed(0)} s`);
