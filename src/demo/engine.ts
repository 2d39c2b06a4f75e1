/**
 * Where the demo's gradients come from: the hand-written passes of `models.ts` (`'js'`,
 * the default: fastest here), or TensorFlow.js forward/backward (`'wasm'`: the WASM backend
 * with SIMD, one thread; `'cpu'`: the pure-JS backend). Either way fused-optim takes the
 * optimizer step; TensorFlow.js only computes gradients, written into the arena views.
 *
 * TensorFlow.js is an optional peer dependency: it is imported here, lazily, only when a
 * TensorFlow.js backend is asked for.
 * @module
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Model } from './models.js';

/** Gradient engines. */
export type EngineName = 'js' | 'wasm' | 'cpu';

export const ENGINES: readonly EngineName[] = ['js', 'wasm', 'cpu'];

type Tf = typeof import('@tensorflow/tfjs');

/** The engine actually in use (a WASM backend that fails to load falls back to 'cpu'). */
export interface Engine {
  name: EngineName;
  /** Wraps a hand-written model so that its gradients come from this engine. */
  wrap(model: Model): Model;
  /** e.g. 'hand-written Float32Array passes' or 'TensorFlow.js 4.22.0 (wasm)'. */
  description: string;
  /** Why a requested backend was replaced, if it was. */
  note?: string;
}

/** Loads the engine `name` (TensorFlow.js is imported only for 'wasm' and 'cpu'). */
export async function loadEngine(name: EngineName): Promise<Engine> {
  if (name === 'js') return { name, wrap: (m) => m, description: 'hand-written Float32Array passes' };
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs');
  } catch (e) {
    throw new Error('fused-optim demo: --backend wasm|cpu needs @tensorflow/tfjs (npm install @tensorflow/tfjs); use --backend js otherwise', { cause: e });
  }
  let used: EngineName = 'cpu';
  let note: string | undefined;
  if (name === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
      used = 'wasm';
    } catch (e) {
      note = `the WASM backend did not load (${e instanceof Error ? e.message : String(e)}); using the cpu backend`;
    }
  }
  if (used === 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  return { name: used, wrap: (m) => tfjsGradients(tf, m), description: `TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()})`, note };
}

/**
 * A model whose `lossAndGrad` runs in TensorFlow.js (same parameters, layout and loss as the
 * hand-written one: softmax regression for 2 tensors, the ReLU MLP for 4); `evaluate` stays
 * hand-written (it is the same function).
 */
export function tfjsGradients(tf: Tf, model: Model): Model {
  const shapes = model.shapes.map((s) => [...s]);
  const dim = shapes[0][0];
  const classes = shapes[shapes.length - 1][0];
  const forward = (x: import('@tensorflow/tfjs').Tensor2D, p: import('@tensorflow/tfjs').Tensor[]) => {
    if (p.length === 2) return tf.add(tf.matMul(x, p[0] as import('@tensorflow/tfjs').Tensor2D), p[1]);
    const h = tf.relu(tf.add(tf.matMul(x, p[0] as import('@tensorflow/tfjs').Tensor2D), p[1])) as import('@tensorflow/tfjs').Tensor2D;
    return tf.add(tf.matMul(h, p[2] as import('@tensorflow/tfjs').Tensor2D), p[3]);
  };
  let xb = new Float32Array(0);
  return {
    name: model.name,
    shapes: model.shapes,
    init: (rng) => model.init(rng),
    evaluate: (params, data) => model.evaluate(params, data),
    lossAndGrad(params, grads, data, idx, from, to): number {
      const n = to - from;
      if (xb.length < n * dim) xb = new Float32Array(n * dim);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const r = idx[from + i];
        xb.set(data.x.subarray(r * dim, (r + 1) * dim), i * dim);
        labels[i] = data.y[r];
      }
      return tf.tidy(() => {
        const x = tf.tensor2d(xb.subarray(0, n * dim), [n, dim]);
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
        const ps = params.map((p, i) => tf.tensor(p, shapes[i]));
        const { value, grads: gs } = tf.valueAndGrads((...q: import('@tensorflow/tfjs').Tensor[]) => tf.losses.softmaxCrossEntropy(y, forward(x, q)) as import('@tensorflow/tfjs').Scalar)(ps);
        gs.forEach((g, i) => grads[i].set(g.dataSync() as Float32Array));
        return value.dataSync()[0];
      });
    },
  };
}
