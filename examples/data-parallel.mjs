#!/usr/bin/env node
// Data-parallel training of the demo's MNIST MLP with fused-optim/distributed (Open MPI).
//
//   npm run build && mpirun -np 2 node examples/data-parallel.mjs
//
// Every rank holds the whole model and the same data; each step, every rank computes the
// gradient of its shard of the global batch, and `opt.step()` averages the gradients over all
// ranks (one MPI_Allreduce of the optimizer's gradient arena) before the fused AdamW step. The
// parameters stay identical on every rank, the lr schedule and the norm trace work as in one
// process, and the final loss equals the single-process run with the same global batch up to
// the order in which the all-reduce sums the shards' gradients. Without mpirun it runs as one
// process (the reference). Options: --steps N --batch B --hidden H --train N (defaults 150 64 64
// 4096), --shard (ZeRO-1: each rank keeps the AdamW state of its 1/N slice only).
import { AdamW } from '../dist/index.js';
import { init } from '../dist/distributed/index.js';
import { cosineDecay } from '../dist/schedules/index.js';
import { loadSplit } from '../dist/demo/data.js';
import { mlp } from '../dist/demo/models.js';
import { Rng } from '../dist/random.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const steps = arg('steps', 150);
const batch = arg('batch', 64);
const hidden = arg('hidden', 64);
const nTrain = arg('train', 4096);

const launched = ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE'].some((k) => process.env[k] !== undefined);
const comm = launched ? init() : null;
const rank = comm?.rank ?? 0;
const size = comm?.size ?? 1;
if (batch < size) throw new RangeError(`Expected --batch >= the number of ranks (${size}) but received ${batch}`);
const log = (...a) => rank === 0 && console.log(...a);

const { train, test } = loadSplit({ nTrain, nTest: 1000, seed: 1 });
const model = mlp(hidden);
const params = model.init(new Rng(42 + rank)); // a different init per rank on purpose: the optimizer starts every rank from rank 0's parameters (broadcastParams)
const lr = cosineDecay({ peak: 3e-3, steps, warmup: Math.round(steps / 10), end: 3e-4 });
const shard = process.argv.includes('--shard') && comm !== null;
const opt = new AdamW(params, { lr, weightDecay: 0.01, maxGradNorm: 1, ...(comm && { comm, shard }) });

// Every rank draws the same batch order; rank r takes rows [lo, hi) of each global batch.
const order = new Rng(7);
let perm = order.permutation(train.n);
let at = 0;
const sums = new Float64Array(1);
const t0 = performance.now();
let lastLoss = NaN;
for (let s = 0; s < steps; s++) {
  if (at + batch > train.n) {
    perm = order.permutation(train.n);
    at = 0;
  }
  const lo = at + Math.floor((rank * batch) / size);
  const hi = at + Math.floor(((rank + 1) * batch) / size);
  at += batch;
  const local = model.lossAndGrad(opt.params, opt.grads, train, perm, lo, hi); // mean over this rank's rows
  // The step averages the ranks' gradients with equal weights; with shards of unequal size,
  // weigh each rank's mean by its share so that the average is the global batch's mean.
  const w = ((hi - lo) * size) / batch;
  if (w !== 1) for (const g of opt.grads) for (let i = 0; i < g.length; i++) g[i] *= w;
  opt.step();
  sums[0] = (local * (hi - lo)) / batch;
  lastLoss = comm ? comm.allreduce(sums)[0] : sums[0]; // the global batch's mean loss
  if (s % 50 === 0 || s === steps - 1) log(`step ${String(s).padStart(4)}  lr ${opt.trace.lr[s].toExponential(3)}  batch loss ${lastLoss.toFixed(6)}  |g| ${opt.trace.l2[s].toFixed(4)}`);
}
const seconds = (performance.now() - t0) / 1000;
const trainEval = model.evaluate(opt.params, train);
const testEval = model.evaluate(opt.params, test);
log(`ranks ${size}${shard ? ' (sharded state)' : ''}, native bytes per rank ${opt.nativeBytes}, global batch ${batch}, ${steps} steps in ${seconds.toFixed(2)} s; trace: ${opt.trace.length} records, refinable (${opt.trace.refine().length} values)`);
log(`final loss (whole training set): ${trainEval.loss.toFixed(9)}   test accuracy ${(testEval.accuracy * 100).toFixed(2)}%`);
log(`RESULT ${JSON.stringify({ size, steps, batch, finalLoss: trainEval.loss, lastBatchLoss: lastLoss, testAccuracy: testEval.accuracy })}`);
opt.dispose();
comm?.close();
