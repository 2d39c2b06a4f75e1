/**
 * The tfjs test setup shared by test/tfjs.adapter.test.ts and test/tfjs.rules.test.ts: the CPU
 * backend for the file, seeded classification data and the small dense model, built as twins
 * with identical weights.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';

/** Registers the file's hooks: the CPU backend (pure JS) before, tf.disposeVariables() after. */
export function useTfCpuBackend(): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
  afterAll(() => {
    tf.disposeVariables();
  });
}

/** Seeded data: `n` rows of `dim` features, `classes` classes (a fixed linear rule plus noise), from the LCG seed `dataSeed`. */
export function classificationData(dataSeed: number, n = 48, dim = 6, classes = 3): { x: tf.Tensor2D; y: tf.Tensor2D } {
  let s = dataSeed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const xs = new Float32Array(n * dim);
  const ys = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    let score = 0;
    for (let k = 0; k < dim; k++) {
      xs[i * dim + k] = rnd() * 2;
      score += xs[i * dim + k] * (k % 3 === 0 ? 1 : -0.5);
    }
    const c = score + rnd() * 0.3 > 0.4 ? 0 : score > -0.4 ? 1 : 2;
    ys[i * classes + c] = 1;
  }
  return { x: tf.tensor2d(xs, [n, dim]), y: tf.tensor2d(ys, [n, classes]) };
}

/** 6 → 16 (`activation`) → 3 (softmax), Glorot-uniform kernels seeded with `seed` and `seed + 1`. */
export function makeModel(seed: number, activation: 'relu' | 'tanh'): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [6], units: 16, activation, kernelInitializer: tf.initializers.glorotUniform({ seed }) }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

/** Two models with identical weights (the second built from `seed + 100`, then given the first's weights). */
export function twins(seed: number, activation: 'relu' | 'tanh'): [tf.Sequential, tf.Sequential] {
  const a = makeModel(seed, activation);
  const b = makeModel(seed + 100, activation);
  b.setWeights(a.getWeights());
  return [a, b];
}
