/**
 * FusedTfOptimizer.getWeights/setWeights carry a rule's host state (NAdam's μ product,
 * schedule-free AdamW's weight sum) and the schedule-free mode, so that a restored optimizer
 * continues bit for bit. Without them a NAdam restored after 3 steps restarts its μ product.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { FusedTfOptimizer } from '../src/tfjs/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let serial = 0;
afterAll(() => tf.disposeVariables());

async function resumeMatches(config: ConstructorParameters<typeof FusedTfOptimizer>[0]): Promise<void> {
  const name = `hoststate_w${serial++}`;
  const w0 = Float32Array.from([0.5, -1, 2, 0.25, -0.125]);
  const w = tf.variable(tf.tensor1d(w0), true, name);
  const grad = (t: number) => tf.tensor1d(Float32Array.from([0.1, -0.2, 0.3 + t, 1 - t, 0.05 * t]));
  const a = new FusedTfOptimizer(config);
  for (let t = 0; t < 4; t++) a.applyGradients([{ name, tensor: grad(t) }]);
  const saved = await a.getWeights();
  expect(saved.some((s) => s.name.startsWith('fused-optim/host/0/'))).toBe(true);
  const values = Float32Array.from(w.dataSync() as Float32Array);
  // Continue the original, then restore a fresh optimizer at the saved point and continue it.
  for (let t = 4; t < 7; t++) a.applyGradients([{ name, tensor: grad(t) }]);
  const expected = Float32Array.from(w.dataSync() as Float32Array);
  w.assign(tf.tensor1d(values));
  const b = new FusedTfOptimizer(config);
  await b.setWeights(saved);
  for (let t = 4; t < 7; t++) b.applyGradients([{ name, tensor: grad(t) }]);
  expect(Buffer.from((w.dataSync() as Float32Array).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  a.dispose();
  b.dispose();
}

describe('host state through getWeights/setWeights', () => {
  test('NAdam: the μ product is restored (bit for bit)', async () => {
    await resumeMatches({ optimizer: 'nadam', lr: 0.01, momentumDecay: 0.05 });
  });

  test('schedule-free AdamW: the weight sum is restored (bit for bit)', async () => {
    await resumeMatches({ optimizer: 'schedulefree-adamw', lr: 0.01, warmupSteps: 2 });
  });

  test('a malformed host-state weight is refused with a RangeError naming it', async () => {
    const name = `hoststate_w${serial++}`;
    tf.variable(tf.tensor1d([1, 2]), true, name);
    const a = new FusedTfOptimizer({ optimizer: 'nadam' });
    a.applyGradients([{ name, tensor: tf.tensor1d([0.1, 0.2]) }]);
    const saved = await a.getWeights();
    const bad = saved.map((s) => (s.name.startsWith('fused-optim/host/') ? { name: s.name, tensor: tf.tensor1d([1, 2, 3], 'int32') } : s));
    await expect(a.setWeights(bad)).rejects.toThrow(/fused-optim\/host\/0\/muProduct/);
    a.dispose();
  });
});
