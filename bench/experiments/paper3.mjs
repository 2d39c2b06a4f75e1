// Paper 3 (Chen, Wolfe, Kyrillidis 2022, "REX: Revisiting Budgeted Training with an Improved
// Schedule"): REX vs linear vs cosine vs step 30-60-90 at budgets of 10%, 25%, 50% and 100%
// of a full run, on an MLP with SGD + momentum 0.9. Every schedule is laid over its budget
// and gets its own peak, swept on a ×√2 grid (≥ 7 points, extended until the best peak is
// interior) at every budget; 5 seeds, paired. The peak is chosen by the final training loss;
// test accuracy is reported at that peak.
// Sampling: REX read every iteration (the default everywhere) vs REX read once per epoch
// (`sampled(rex, stepsPerEpoch)`), the latter with its own peak sweep too.
//   node bench/experiments/paper3.mjs            (npm run experiments:paper3)
// Environment: SEEDS=0,1,2,3,4 (default), EPOCHS (of the full run), OUT (result file name),
// QUICK=1 (smoke test, not a result).
import { QUICK, SEEDS, log, loadSplit, mlp, saveJson, schedule, stepsFor, sweepPeak, train } from './common.mjs';
import { sampled } from '../../dist/schedules/index.js';

const SCHEDULES = ['linear', 'rex', 'cosine', 'step', 'rex-per-epoch'];
const BUDGETS = [0.1, 0.25, 0.5, 1];
const batchSize = 32;
const hidden = 32;
const nTrain = QUICK ? 320 : 640;
const nTest = 500;
const fullEpochs = QUICK ? 2 : Number(process.env.EPOCHS ?? 20);
const optimizer = 'sgd';
const hyper = { momentum: 0.9 };
const center = 0.1;
const OUT = process.env.OUT ?? (QUICK ? 'paper3.quick' : 'paper3');
const stepsPerEpoch = stepsFor(nTrain, batchSize, 1);
const full = stepsFor(nTrain, batchSize, fullEpochs);

log(`paper 3: seeds ${SEEDS.join(',')}; full run ${full} steps (${fullEpochs} epochs of ${stepsPerEpoch} steps)`);
const t0 = Date.now();
const splits = new Map(SEEDS.map((seed) => [seed, loadSplit({ nTrain, nTest, seed })]));
const out = { experiment: 'paper3', seeds: SEEDS, batchSize, model: `mlp 784-${hidden}-10`, optimizer: 'sgd-momentum', hyper, nTrain, nTest, fullEpochs, fullSteps: full, stepsPerEpoch, budgets: BUDGETS, schedules: SCHEDULES, started: new Date().toISOString(), results: [] };

const lrOf = (name, peak, steps) => (name === 'rex-per-epoch' ? sampled(schedule('rex', peak, steps), stepsPerEpoch) : schedule(name, peak, steps));

for (const b of BUDGETS) {
  const steps = Math.round(b * full);
  const rec = { budget: b, steps, schedules: {} };
  let linK = 0;
  for (const name of SCHEDULES) {
    const sw = sweepPeak({
      center,
      offset: linK,
      label: `budget ${b} ${name}`,
      runAt: (peak) =>
        SEEDS.map((seed) => {
          const split = splits.get(seed);
          const r = train({ model: mlp(hidden), train: split.train, evalSets: { train: split.train, test: split.test }, optimizer, hyper, lr: lrOf(name, peak, steps), steps, batchSize, seed });
          const row = { seed, loss: r.diverged ? Infinity : r.final.train.loss, testLoss: r.final.test.loss, testAcc: r.final.test.accuracy, diverged: r.diverged, seconds: +r.seconds.toFixed(2) };
          log(`budget ${b}`, name.padEnd(13), `peak ${peak}`, `seed ${seed}`, `train ${row.loss.toFixed(4)}`, `acc ${row.testAcc.toFixed(4)}`, `${row.seconds}s`);
          return row;
        }),
    });
    if (name === 'linear') linK = sw.bestK;
    rec.schedules[name] = sw;
    log(`budget ${b} ${name}: best peak ${sw.bestPeak} of [${sw.peaks.join(', ')}]${sw.capped ? ' (CAP HIT: best on the edge)' : ''}`);
  }
  out.results.push(rec);
  saveJson(OUT, out);
}
out.seconds = (Date.now() - t0) / 1000;
saveJson(OUT, out);
log(`done in ${out.seconds.toFixed(0)} s`);
