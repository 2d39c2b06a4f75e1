// Paper 3 (Chen, Wolfe, Kyrillidis 2021, REX): REX vs linear vs cosine vs step 30-60-90 vs
// OneCycle at budgets of 10%, 25%, 50% and 100% of a full run. Each schedule is laid over the
// budget (budgeted training), same peak lr for all, re-read every iteration.
//   node bench/experiments/paper3.mjs     (SEEDS=0,1,2 by default; QUICK=1 for a smoke test)
import { QUICK, SEEDS, log, loadSplit, mlp, saveJson, schedule, softmaxRegression, stepsFor, train } from './common.mjs';

const SCHEDULES = ['rex', 'linear', 'cosine', 'step', 'onecycle'];
const BUDGETS = [0.1, 0.25, 0.5, 1];
const settings = [
  { name: 'mnist-mlp-sgdm', model: () => mlp(64), optimizer: 'sgd', hyper: { momentum: 0.9 }, peak: 0.1, nTrain: 4000, nTest: 2000, epochs: 12 },
  { name: 'mnist-mlp-adam', model: () => mlp(64), optimizer: 'adam', hyper: {}, peak: 3e-3, nTrain: 4000, nTest: 2000, epochs: 12 },
  { name: 'mnist-softmax-adam', model: () => softmaxRegression(), optimizer: 'adam', hyper: {}, peak: 1e-2, nTrain: 8000, nTest: 2000, epochs: 12 },
];
const batchSize = 64;
const out = { experiment: 'paper3', seeds: SEEDS, batchSize, budgets: BUDGETS, schedules: SCHEDULES, settings: [] };
for (const s of settings) {
  const nTrain = QUICK ? 1000 : s.nTrain;
  const full = stepsFor(nTrain, batchSize, QUICK ? 2 : s.epochs);
  const rec = { name: s.name, optimizer: s.optimizer, peak: s.peak, nTrain, nTest: s.nTest, fullSteps: full, fullEpochs: QUICK ? 2 : s.epochs, runs: [] };
  for (const seed of SEEDS) {
    const split = loadSplit({ nTrain, nTest: s.nTest, seed });
    for (const b of BUDGETS) {
      const steps = Math.round(b * full);
      for (const name of SCHEDULES) {
        const r = train({ model: s.model(), train: split.train, evalSets: { train: split.train, test: split.test }, optimizer: s.optimizer, hyper: s.hyper, lr: schedule(name, s.peak, steps), steps, batchSize, seed });
        const row = { seed, budget: b, steps, schedule: name, trainLoss: r.final.train.loss, testLoss: r.final.test.loss, testAcc: r.final.test.accuracy, diverged: r.diverged, seconds: +r.seconds.toFixed(2) };
        rec.runs.push(row);
        log(s.name, `seed ${seed}`, `budget ${b}`, name.padEnd(8), `train ${row.trainLoss.toFixed(4)}`, `acc ${row.testAcc.toFixed(4)}`, `${row.seconds}s`);
      }
    }
  }
  out.settings.push(rec);
  saveJson(QUICK ? 'paper3.quick' : 'paper3', out);
}
log('done');
