// Run by test/tfjs.distributed.test.ts under `mpirun -np N`: FusedTfOptimizer with `comm`
// (and `shard: true`) on a small tfjs model, each rank taking its equal shard of every global
// batch, against the same model trained in this process alone on the whole batch. Every rank
// prints one line `RESULT {json}`; a failed check throws (non-zero exit, and mpirun ends the job).
import * as tf from '@tensorflow/tfjs';

import { FusedTfOptimizer, broadcastWeights } from '../../dist/tfjs/index.js';
import { check, checks, comm, rank, size } from './harness.mjs';

await tf.setBackend('cpu');
await tf.ready();

const GLOBAL_BATCH = 12; // divisible by 1, 2, 3, 4: equal shards
const STEPS = 10;
const DIM = 6;
const CLASSES = 3;
if (GLOBAL_BATCH % size !== 0) throw new Error(`run with a world size that divides ${GLOBAL_BATCH}`);
const LOCAL = GLOBAL_BATCH / size;

/** Seeded data (the LCG of test/support/tfjs-model.ts): STEPS global batches of GLOBAL_BATCH rows. */
function data(seed, n) {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const xs = new Float32Array(n * DIM);
  const ys = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    let score = 0;
    for (let k = 0; k < DIM; k++) {
      xs[i * DIM + k] = rnd() * 2;
      score += xs[i * DIM + k] * (k % 3 === 0 ? 1 : -0.5);
    }
    const c = score + rnd() * 0.3 > 0.4 ? 0 : score > -0.4 ? 1 : 2;
    ys[i * CLASSES + c] = 1;
  }
  return { xs, ys };
}
const { xs, ys } = data(4242, STEPS * GLOBAL_BATCH);

/** Rows [from, from + count) as tensors. */
function rows(from, count) {
  return [tf.tensor2d(xs.slice(from * DIM, (from + count) * DIM), [count, DIM]), tf.tensor2d(ys.slice(from * CLASSES, (from + count) * CLASSES), [count, CLASSES])];
}

/** Global batch `s`: the whole batch (one process) or this rank's shard of it. */
function batch(s, distributed) {
  return distributed ? rows(s * GLOBAL_BATCH + rank * LOCAL, LOCAL) : rows(s * GLOBAL_BATCH, GLOBAL_BATCH);
}

/** 6 → 16 (tanh) → 8 (relu) → 3 (softmax), Glorot-uniform kernels from fixed seeds: the same initial weights every time. */
function makeModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [DIM], units: 16, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 12 }) }));
  model.add(tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 13 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 14 }) }));
  model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 15 }) }));
  return model;
}

/** Mean categorical cross-entropy of the batch. */
function loss(model, x, y) {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(model.apply(x), 1e-7))), 1))));
}

const HYPER = { optimizer: 'adamw', lr: 0.02, weightDecay: 0.01 };

/**
 * Trains a fresh model for STEPS steps with `optimizer.minimize` (data parallel when
 * `config.comm` is given); `at(step, model, optimizer)` runs before step `step` when given.
 */
async function trainMinimize(config, at) {
  const model = makeModel();
  const optimizer = new FusedTfOptimizer({ ...HYPER, ...config });
  const vars = model.trainableWeights.map((w) => w.read());
  for (let s = 0; s < STEPS; s++) {
    await at?.(s, model, optimizer);
    const [x, y] = batch(s, config.comm !== undefined);
    optimizer.minimize(() => loss(model, x, y), false, vars);
    x.dispose();
    y.dispose();
  }
  return { model, optimizer };
}

/** Trains with compile + fit: this rank's shards of every batch in order (or every row), batchSize the shard (or the batch). */
async function trainFit(config) {
  const model = makeModel();
  const optimizer = new FusedTfOptimizer({ ...HYPER, ...config });
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const distributed = config.comm !== undefined;
  const parts = Array.from({ length: STEPS }, (_, s) => batch(s, distributed));
  const x = tf.concat(parts.map((p) => p[0]));
  const y = tf.concat(parts.map((p) => p[1]));
  for (const p of parts) tf.dispose(p);
  await model.fit(x, y, { epochs: 1, batchSize: distributed ? LOCAL : GLOBAL_BATCH, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  return { model, optimizer };
}

function weightsOf(model) {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
}

function flat(arrays) {
  const n = arrays.reduce((k, a) => k + a.length, 0);
  const out = new Float64Array(n);
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Bitwise the same on every rank: the element-wise all-reduce min equals the max (float32 values are exact in float64; finite checked first). */
function sameOnEveryRank(arrays, what) {
  const x = flat(arrays);
  check(x.every(Number.isFinite), `${what}: finite`);
  const lo = comm.allreduce(x.slice(), 'min');
  const hi = comm.allreduce(x.slice(), 'max');
  check(lo.every((v, i) => v === hi[i] && Object.is(v, x[i])), `${what}: bitwise identical on every rank`);
}

function bitwiseEqual(a, b) {
  return a.length === b.length && a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
}

/** max |a − b| and max |b| over every weight. */
function compare(a, b) {
  let diff = 0;
  let scale = 0;
  a.forEach((x, i) => x.forEach((v, k) => {
    diff = Math.max(diff, Math.abs(v - b[i][k]));
    scale = Math.max(scale, Math.abs(b[i][k]));
  }));
  return { maxAbsDiff: diff, maxAbsWeight: scale, relative: diff / scale };
}

const TOL = 1e-5; // relative to the largest weight: fp32, the gradient sums are taken in another order
const measured = {};

async function snapshot(optimizer) {
  const ws = await optimizer.getWeights();
  const out = ws.map((w) => ({ name: w.name, values: Float32Array.from(w.tensor.dataSync()) }));
  tf.dispose(ws.map((w) => w.tensor));
  return out;
}

// 1. One process on the whole batch (every rank computes it: the reference).
const ref = await trainMinimize({});
const refW = weightsOf(ref.model);
const initW = weightsOf(makeModel());
check(compare(refW, initW).maxAbsDiff > 1e-3, 'reference: the weights moved');

// 2. Data parallel with minimize: identical on every rank, equal to one process within TOL.
const dp = await trainMinimize({ comm });
const dpW = weightsOf(dp.model);
sameOnEveryRank(dpW, 'minimize comm');
measured.minimize = compare(dpW, refW);
check(measured.minimize.relative < TOL, `minimize comm: within ${TOL} (relative) of one process (max diff ${measured.minimize.maxAbsDiff})`);
check(dp.optimizer.fused.comm === comm && !dp.optimizer.fused.sharded && dp.optimizer.iterations === STEPS && dp.optimizer.fused.iteration === STEPS, 'minimize comm: fused optimizer has the communicator, STEPS steps');
// the step norms are the averaged gradient's: the same on every rank
sameOnEveryRank([Float32Array.from(dp.optimizer.trace.l2)], 'minimize comm: trace of gradient norms');

// 3. ZeRO-1: bitwise equal to the unsharded data-parallel run (as the fused optimizers are), within TOL of one process.
let resumeAt = null;
const SPLIT = 5;
const sh = await trainMinimize({ comm, shard: true }, async (s, model, optimizer) => {
  if (s === SPLIT) resumeAt = { weights: model.getWeights().map((t) => t.clone()), names: model.trainableWeights.map((w) => w.read().name), state: await optimizer.getWeights() }; // getWeights: collective
});
const shW = weightsOf(sh.model);
sameOnEveryRank(shW, 'minimize shard');
check(sh.optimizer.fused.sharded, 'minimize shard: the fused optimizer is sharded');
// Bitwise at -np 2 (a + b either way); at 3+ ranks MPI's all-reduce (unsharded) and reduce-scatter
// (sharded) may add the ranks' float gradients in different orders: then within TOL.
measured.shardVsUnsharded = compare(shW, dpW);
if (size === 2) check(bitwiseEqual(shW, dpW), 'minimize shard: bitwise equal to the unsharded data-parallel run');
else check(measured.shardVsUnsharded.relative < TOL, `minimize shard: within ${TOL} (relative) of the unsharded data-parallel run (max diff ${measured.shardVsUnsharded.maxAbsDiff})`);
measured.shard = compare(shW, refW);
check(measured.shard.relative < TOL, `minimize shard: within ${TOL} (relative) of one process (max diff ${measured.shard.maxAbsDiff})`);

// 4. getWeights with shard: the consolidated state, equal to the unsharded run's, the same on every rank.
const sdp = await snapshot(dp.optimizer);
const ssh = await snapshot(sh.optimizer); // collective
check(sdp.length === ssh.length && sdp.length === 2 + 2 * dpW.length, `getWeights shard: [iter, applied, m and v of ${dpW.length} variables] (${ssh.map((w) => w.name).join(', ')})`);
// (the names differ by the models' layer names: compare the suffixes)
const suffix = (name) => name.split('/').pop();
check(sdp.every((w, i) => suffix(w.name) === suffix(ssh[i].name)), `getWeights shard: the same kinds of weights in the same order (${sdp.map((w) => w.name).join(', ')} vs ${ssh.map((w) => w.name).join(', ')})`);
if (size === 2) check(bitwiseEqual(sdp.map((w) => w.values), ssh.map((w) => w.values)), 'getWeights shard: consolidated state bitwise equal to the unsharded run');
else {
  // per weight, relative to its largest value (v is tiny next to m)
  const worst = Math.max(...sdp.slice(2).map((w, i) => compare([ssh[i + 2].values], [w.values]).relative));
  measured.stateVsUnsharded = worst;
  check(worst < 1e-4, `getWeights shard: consolidated state within 1e-4 (relative, per weight) of the unsharded run (${worst})`);
  check(bitwiseEqual(sdp.slice(0, 2).map((w) => w.values), ssh.slice(0, 2).map((w) => w.values)), 'getWeights shard: the same counters as the unsharded run');
}
sameOnEveryRank(ssh.map((w) => w.values), 'getWeights shard: state');

// 5. setWeights with shard (collective; before the first step: applied when the arena is built): resumes bit for bit.
{
  const model = makeModel();
  model.setWeights(resumeAt.weights);
  tf.dispose(resumeAt.weights);
  const optimizer = new FusedTfOptimizer({ ...HYPER, comm, shard: true });
  const vars = model.trainableWeights.map((w) => w.read());
  // The optimizer's weights are named after the variables (`<variable>/m`); this model's
  // layers have other names than the saved one's: rename them.
  const rename = (name) => {
    const i = resumeAt.names.findIndex((n) => name.startsWith(`${n}/`));
    return i < 0 ? name : `${vars[i].name}${name.slice(resumeAt.names[i].length)}`;
  };
  await optimizer.setWeights(resumeAt.state.map((w) => ({ name: rename(w.name), tensor: w.tensor })));
  tf.dispose(resumeAt.state.map((w) => w.tensor));
  for (let s = SPLIT; s < STEPS; s++) {
    const [x, y] = batch(s, true);
    optimizer.minimize(() => loss(model, x, y), false, vars);
    tf.dispose([x, y]);
  }
  check(optimizer.iterations === STEPS && optimizer.fused.appliedSteps === STEPS, 'setWeights shard: counters restored');
  check(bitwiseEqual(weightsOf(model), shW), 'setWeights shard: resumed from getWeights at step 5, bitwise equal to the uninterrupted run');
  // and after the first step (the arena exists): restore the end state into it, read it back
  await optimizer.setWeights((await sh.optimizer.getWeights()));
  const back = await snapshot(optimizer);
  check(bitwiseEqual(back.map((w) => w.values), ssh.map((w) => w.values)), 'setWeights shard after the first step: getWeights returns what was set');
  optimizer.dispose();
  model.dispose();
}

// 6. compile + fit with comm, shard and clipping on the averaged gradient, against one process.
{
  const clip = { maxGradNorm: 0.5 };
  const one = await trainFit(clip);
  const many = await trainFit({ ...clip, comm, shard: true });
  const oneW = weightsOf(one.model);
  const manyW = weightsOf(many.model);
  sameOnEveryRank(manyW, 'fit shard clip');
  check(many.optimizer.iterations === STEPS && one.optimizer.iterations === STEPS, `fit: ${STEPS} steps`);
  check(Array.from(many.optimizer.trace.l2).some((n) => n > 0.5), 'fit shard clip: some steps clipped');
  measured.fit = compare(manyW, oneW);
  check(measured.fit.relative < TOL, `fit shard clip: within ${TOL} (relative) of one process (max diff ${measured.fit.maxAbsDiff})`);
  for (const r of [one, many]) {
    r.optimizer.dispose();
    r.model.dispose();
  }
}

// 7. Bad uses refused at construction, the same on every rank.
{
  const expectThrow = (what, fn, Ctor, re) => {
    let err = null;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    check(err instanceof Ctor && re.test(err.message), `${what}: ${Ctor.name} (${err?.message})`);
  };
  expectThrow("shard with 'lamb'", () => new FusedTfOptimizer({ optimizer: 'lamb', comm, shard: true }), RangeError, /'lamb'.*config\.shard/);
  expectThrow("shard with 'schedulefree-adamw'", () => new FusedTfOptimizer({ optimizer: 'schedulefree-adamw', comm, shard: true }), RangeError, /config\.shard/);
  expectThrow('shard not a boolean', () => new FusedTfOptimizer({ comm, shard: 1 }), TypeError, /config\.shard.*received/);
  expectThrow('a fake comm', () => new FusedTfOptimizer({ comm: { rank, size } }), TypeError, /config\.comm.*received/);
}

// broadcastWeights: models initialised from different seeds on each rank end with the root's
// weights, bitwise, and train as one.
{
  const seeded = (seed) => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [DIM], units: 5, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 1 }) }));
    m.add(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }));
    return m;
  };
  const root = size - 1;
  const mine = seeded(100 + 10 * rank);
  const expected = weightsOf(seeded(100 + 10 * root));
  const tensorsBefore = tf.memory().numTensors;
  broadcastWeights(comm, mine, root);
  check(tf.memory().numTensors === tensorsBefore, `broadcastWeights leaks no tensor (${tensorsBefore} → ${tf.memory().numTensors})`);
  const got = weightsOf(mine);
  check(bitwiseEqual(got, expected), `broadcastWeights: every rank holds rank ${root}'s weights`);
  sameOnEveryRank(got, 'broadcastWeights');
  let err = null;
  try {
    broadcastWeights(comm, mine, size);
  } catch (e) {
    err = e;
  }
  check(err instanceof RangeError && /root/.test(err.message), `broadcastWeights with a bad root: RangeError (${err?.message})`);
  err = null;
  try {
    broadcastWeights({}, mine);
  } catch (e) {
    err = e;
  }
  check(err instanceof TypeError && /comm/.test(err.message), `broadcastWeights with a fake comm: TypeError (${err?.message})`);
  mine.dispose();
}

for (const r of [ref, dp, sh]) {
  r.optimizer.dispose();
  r.model.dispose();
}
comm.barrier();
console.log(`RESULT ${JSON.stringify({ rank, size, ok: true, checks: checks.length, tolerance: TOL, measured })}`);
comm.close();
