// Paper 1 (Defazio, Cutkosky, Mehta, Mishchenko 2023, "When, why and how much? Adaptive
// learning rate scheduling by refinement"), under its own protocol:
//   - every schedule's peak is swept on a ×√2 grid (≥ 7 points) that is extended until the
//     best peak (lowest mean final training objective over the seeds) is interior;
//   - the refined schedule is computed from the norm trace of the TUNED linear-decay run
//     (linear at its best peak, same seed), and then its own peak is swept;
//   - ≥ 5 seeds; comparisons are paired by seed (same split, init, batch order).
// The grids of cosine, step and refined start centred on linear's best peak (same points).
// Problems: softmax regression on MNIST and Fashion-MNIST with an L2 penalty λ/2·‖w‖² (so
// that a finite minimiser exists; λ is passed to the optimizer as coupled weight decay,
// g += λ·w, and the reported training objective includes the penalty), and an MLP 784-32-10
// (no penalty); each with plain SGD and with Adam.
//   node bench/experiments/paper1.mjs            (npm run experiments:paper1)
// Environment: SEEDS=0,1,2,3,4 (default), PROBLEMS=name,... , QUICK=1 (smoke test, not a
// result), OUT=paper1 (result file name).
import { QUICK, SEEDS, datasetAvailable, log, loadSplit, mlp, saveJson, schedule, softmaxRegression, stepsFor, sumSquares, sweepPeak, thin, train } from './common.mjs';

const L2 = 1e-4;
const batchSize = 64;
// center: the middle of the first linear grid (a guess; the sweep extends it as needed).
const problems = [
  { name: 'mnist-softmax', dataset: 'mnist', model: () => softmaxRegression(), optimizer: 'sgd', l2: L2, center: 2, nTrain: 3000, nTest: 1000, epochs: 3 },
  { name: 'mnist-softmax', dataset: 'mnist', model: () => softmaxRegression(), optimizer: 'adam', l2: L2, center: 0.03, nTrain: 3000, nTest: 1000, epochs: 3 },
  { name: 'fashion-softmax', dataset: 'fashion-mnist', model: () => softmaxRegression(), optimizer: 'sgd', l2: L2, center: 1, nTrain: 3000, nTest: 1000, epochs: 3 },
  { name: 'fashion-softmax', dataset: 'fashion-mnist', model: () => softmaxRegression(), optimizer: 'adam', l2: L2, center: 0.03, nTrain: 3000, nTest: 1000, epochs: 3 },
  { name: 'mnist-mlp', dataset: 'mnist', model: () => mlp(32), optimizer: 'sgd', l2: 0, center: 0.3, nTrain: 1500, nTest: 1000, epochs: 3 },
  { name: 'mnist-mlp', dataset: 'mnist', model: () => mlp(32), optimizer: 'adam', l2: 0, center: 0.01, nTrain: 1500, nTest: 1000, epochs: 3 },
];
// The schedules besides 'refined' (step = step 30-60-90).
const SCHEDULES = (process.env.SCHEDULES ?? 'linear,cosine,step').split(',');

const keep = process.env.PROBLEMS?.split(',');
const OUT = process.env.OUT ?? (QUICK ? 'paper1.quick' : 'paper1');
const out = { experiment: 'paper1', seeds: SEEDS, batchSize, l2: L2, schedules: [...SCHEDULES, 'refined'], started: new Date().toISOString(), problems: [] };
log(`paper 1: seeds ${SEEDS.join(',')}`);
const t0 = Date.now();
for (const p of problems) {
  const id = `${p.name}-${p.optimizer}`;
  if (keep && !keep.includes(id) && !keep.includes(p.name)) continue;
  if (!datasetAvailable(p.dataset)) {
    log(`skip ${id}: the npm package for ${p.dataset} is not installed`);
    out.problems.push({ name: p.name, optimizer: p.optimizer, skipped: `npm package '${p.dataset}' not installed` });
    continue;
  }
  const nTrain = QUICK ? 500 : p.nTrain;
  const epochs = QUICK ? 1 : p.epochs;
  const steps = stepsFor(nTrain, batchSize, epochs);
  const splits = new Map(SEEDS.map((seed) => [seed, loadSplit({ dataset: p.dataset, nTrain, nTest: p.nTest, seed })]));
  const hyper = p.l2 > 0 ? { weightDecay: p.l2 } : {};
  const tp = Date.now();
  const rec = { name: p.name, dataset: p.dataset, optimizer: p.optimizer, l2: p.l2, nTrain, nTest: p.nTest, epochs, steps, schedules: {}, refined: [] };

  /** One run; `loss` is the final training objective (cross-entropy + λ/2·‖w‖²). */
  const run = (seed, lr) => {
    const split = splits.get(seed);
    const r = train({ model: p.model(), train: split.train, evalSets: { train: split.train, test: split.test }, optimizer: p.optimizer, hyper, lr, steps, batchSize, seed });
    const penalty = p.l2 > 0 ? 0.5 * p.l2 * sumSquares(r.params) : 0;
    const loss = r.diverged ? Infinity : r.final.train.loss + penalty;
    return { r, row: { seed, loss, trainCE: r.final.train.loss, testLoss: r.final.test.loss, testAcc: r.final.test.accuracy, diverged: r.diverged, seconds: +r.seconds.toFixed(2) } };
  };
  const logRow = (name, peak, row) => log(id, name.padEnd(8), `peak ${peak}`, `seed ${row.seed}`, `objective ${row.loss.toFixed(5)}`, `test acc ${row.testAcc.toFixed(4)}`, `${row.seconds}s`);

  // 1. linear decay, keeping every run's trace until the best peak is known
  const traces = new Map();
  const lin = sweepPeak({
    center: p.center,
    label: `${id} linear`,
    runAt: (peak) =>
      SEEDS.map((seed) => {
        const { r, row } = run(seed, schedule('linear', peak, steps));
        traces.set(`${peak}/${seed}`, r.trace);
        logRow('linear', peak, row);
        return row;
      }),
  });
  rec.schedules.linear = lin;
  log(`${id} linear: best peak ${lin.bestPeak} of [${lin.peaks.join(', ')}]`);

  // 2. the refined schedule from the tuned linear run of each seed (its shape, maximum 1)
  const shapes = new Map();
  for (const seed of SEEDS) {
    const shape = traces.get(`${lin.bestPeak}/${seed}`).refine({ peak: 1 });
    shapes.set(seed, shape);
    let argmax = 0;
    for (let i = 1; i < shape.length; i++) if (shape[i] > shape[argmax]) argmax = i;
    const mean = shape.reduce((a, b) => a + b, 0) / shape.length;
    rec.refined.push({ seed, fromLinearPeak: lin.bestPeak, peakAt: argmax / steps, area: mean, shape: thin(shape, 41).map((v) => +v.toFixed(4)) });
  }
  traces.clear();

  // 3. the other schedules and the refined one, each with its own sweep around linear's best
  for (const name of [...SCHEDULES.filter((s) => s !== 'linear'), 'refined']) {
    const sw = sweepPeak({
      center: p.center,
      offset: lin.bestK,
      label: `${id} ${name}`,
      runAt: (peak) =>
        SEEDS.map((seed) => {
          const lr = name === 'refined' ? schedule('refined', peak, steps, { values: shapes.get(seed).map((v) => v * peak) }) : schedule(name, peak, steps);
          const { row } = run(seed, lr);
          logRow(name, peak, row);
          return row;
        }),
    });
    rec.schedules[name] = sw;
    log(`${id} ${name}: best peak ${sw.bestPeak} of [${sw.peaks.join(', ')}]${sw.capped ? ' (CAP HIT: best on the edge)' : ''}`);
  }
  rec.seconds = (Date.now() - tp) / 1000;
  out.problems.push(rec);
  saveJson(OUT, out);
  log(`${id}: ${rec.seconds.toFixed(0)} s`);
}
out.seconds = (Date.now() - t0) / 1000;
saveJson(OUT, out);
log(`done in ${out.seconds.toFixed(0)} s`);
