// fused-optim/tfjs: LearningRateScheduler drives TensorFlow.js's own optimizers from a
// fused-optim schedule, one value per batch (counted across epochs).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosineDecay, fromArray, linearDecay } from '../src/schedules/index.js';
import { FusedTfOptimizer, LearningRateScheduler, setOptimizerLearningRate } from '../src/tfjs/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function data(n = 48): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const xs = new Float32Array(n * 4);
  const ys = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) xs[i * 4 + k] = Math.sin(i * 1.3 + k * 0.7);
    ys[i * 2 + (xs[i * 4] + xs[i * 4 + 1] > 0 ? 0 : 1)] = 1;
  }
  return { x: tf.tensor2d(xs, [n, 4]), y: tf.tensor2d(ys, [n, 2]) };
}

function makeModel(seed: number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  m.add(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  return m;
}

/** TensorFlow.js declares `learningRate` protected on its optimizers; the field is what they read. */
const lrOf = (o: tf.Optimizer): number => (o as unknown as { learningRate: number }).learningRate;

const snapshot = (m: tf.LayersModel): number[] => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe('LearningRateScheduler', () => {
  it('sets the lr of tf.train.adam before every batch, across epochs, and logs it', async () => {
    const { x, y } = data();
    const model = makeModel(1);
    const optimizer = tf.train.adam(123);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const steps = 3 * Math.ceil(48 / 16);
    const schedule = cosineDecay({ peak: 0.01, steps });
    const scheduler = new LearningRateScheduler(schedule);
    const seen: number[] = [];
    const logged: number[] = [];
    const spy = new tf.CustomCallback({
      onBatchBegin: async () => void seen.push(lrOf(optimizer)),
      onBatchEnd: async (_b, logs) => void logged.push(logs!.lr as number),
    });
    await model.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0, callbacks: [scheduler, spy] });
    const expected = Array.from({ length: steps }, (_, t) => schedule(t));
    expect(scheduler.history).toEqual(expected);
    expect(seen).toEqual(expected); // the optimizer held schedule(t) during batch t
    expect(logged).toEqual(expected);
    expect(scheduler.step).toBe(steps);
    expect(lrOf(optimizer)).toBe(schedule(steps - 1));
    model.dispose();
    tf.dispose([x, y]);
  });

  it('tf.train.sgd really uses the new lr (it caches -lr in a tensor): lr 0 leaves the weights as they are', async () => {
    const { x, y } = data();
    const model = makeModel(2);
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    const snaps: number[][] = [snapshot(model)];
    const spy = new tf.CustomCallback({ onBatchEnd: async () => void snaps.push(snapshot(model)) });
    const schedule = fromArray([0, 0.2, 0, 0.2]);
    await model.fit(x, y, { epochs: 1, batchSize: 12, shuffle: false, verbose: 0, callbacks: [new LearningRateScheduler(schedule), spy] });
    expect(snaps.length).toBe(5);
    expect(snaps[1]).toEqual(snaps[0]); // batch 0 at lr 0
    expect(snaps[2]).not.toEqual(snaps[1]); // batch 1 at lr 0.2
    expect(snaps[3]).toEqual(snaps[2]); // batch 2 at lr 0
    model.dispose();
    tf.dispose([x, y]);
  });

  it('tf.train.sgd + the scheduler takes the same steps as FusedTfOptimizer with the same schedule', async () => {
    const { x, y } = data();
    const a = makeModel(3);
    const b = makeModel(50);
    b.setWeights(a.getWeights());
    const steps = 4 * Math.ceil(48 / 16);
    const schedule = linearDecay({ peak: 0.3, steps });
    a.compile({ optimizer: tf.train.sgd(1), loss: 'categoricalCrossentropy' });
    const fused = new FusedTfOptimizer({ optimizer: 'sgd', lr: schedule });
    b.compile({ optimizer: fused, loss: 'categoricalCrossentropy' });
    await a.fit(x, y, { epochs: 4, batchSize: 16, shuffle: false, verbose: 0, callbacks: [new LearningRateScheduler(schedule)] });
    await b.fit(x, y, { epochs: 4, batchSize: 16, shuffle: false, verbose: 0 });
    const wa = snapshot(a);
    const wb = snapshot(b);
    const diff = Math.max(...wa.map((v, i) => Math.abs(v - wb[i])));
    expect(diff).toBeLessThan(1e-6); // plain SGD: w -= lr·g on both sides (float32 rounding only)
    expect(Array.from(fused.fused!.trace.lr)).toEqual(Array.from({ length: steps }, (_, t) => schedule(t)));
    fused.dispose();
    a.dispose();
    b.dispose();
    tf.dispose([x, y]);
  });

  it('drives a FusedTfOptimizer too, and resumes from initialStep', async () => {
    const { x, y } = data();
    const model = makeModel(4);
    const fused = new FusedTfOptimizer({ optimizer: 'adamw', lr: 1 });
    model.compile({ optimizer: fused, loss: 'categoricalCrossentropy' });
    const schedule = linearDecay({ peak: 0.01, steps: 100 });
    const scheduler = new LearningRateScheduler(schedule, { initialStep: 40 });
    await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0, callbacks: [scheduler] });
    expect(scheduler.history).toEqual([schedule(40), schedule(41), schedule(42)]);
    expect(Array.from(fused.fused!.trace.lr)).toEqual(scheduler.history);
    fused.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it('rejects a bad schedule and a bad value', async () => {
    expect(() => new LearningRateScheduler(0.1 as never)).toThrow(TypeError);
    expect(() => new LearningRateScheduler(() => 1, { initialStep: -1 })).toThrow(RangeError);
    const { x, y } = data(8);
    const model = makeModel(5);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await expect(model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, callbacks: [new LearningRateScheduler(() => NaN)] })).rejects.toThrow(/schedule at step 0/);
    expect(() => setOptimizerLearningRate({} as tf.Optimizer, 0.1)).toThrow(TypeError);
    model.dispose();
    tf.dispose([x, y]);
  });
});
