/**
 * Two small classifiers with hand-written forward and backward passes over Float32Arrays:
 * softmax (multinomial logistic) regression, a convex problem, and a one-hidden-layer ReLU
 * MLP. Gradients are written straight into the optimizer's arena views, so a training step
 * copies nothing.
 *
 * note: MNIST pixels are about 80% zeros; the input-layer loops skip zero pixels, which makes
 * these passes several times faster than dense matrix products (and, on this 2-core machine,
 * faster than TensorFlow.js's WASM backend: about 19 ms vs 51 ms per 128-row MLP step, see
 * `src/demo/engine.ts` for the TensorFlow.js path).
 * @module
 */
import type { Dataset } from './data.js';
import type { Rng } from '../random.js';

/** Mean cross-entropy and accuracy of a model on a data set. */
export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** A classifier whose parameters are a list of Float32Arrays (the optimizer's tensors). */
export interface Model {
  /** e.g. `softmax-regression` or `mlp-784-128-10`. */
  readonly name: string;
  /** Shape of each parameter tensor (row-major), in the order of `init`. */
  readonly shapes: readonly (readonly number[])[];
  /** Fresh parameters from `rng`. */
  init(rng: Rng): Float32Array[];
  /**
   * Mean cross-entropy over the rows `idx[from..to)` of `data`; overwrites `grads` with its
   * gradient with respect to `params`.
   */
  lossAndGrad(params: readonly Float32Array[], grads: readonly Float32Array[], data: Dataset, idx: Int32Array, from: number, to: number): number;
  /** Mean cross-entropy and accuracy over every row of `data`. */
  evaluate(params: readonly Float32Array[], data: Dataset): Evaluation;
}

/** log-softmax cross-entropy of one row of logits `z[o..o+C)` with label `y`; writes softmax(z) − onehot(y), times `scale`, into `dz`. */
function softmaxXent(z: Float32Array, o: number, C: number, y: number, dz: Float32Array | null, scale: number): number {
  let mx = -Infinity;
  for (let c = 0; c < C; c++) if (z[o + c] > mx) mx = z[o + c];
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(z[o + c] - mx);
  const logZ = mx + Math.log(s);
  const loss = logZ - z[o + y]; // before dz overwrites z (callers pass dz === z)
  if (dz !== null) {
    for (let c = 0; c < C; c++) dz[o + c] = (Math.exp(z[o + c] - logZ) - (c === y ? 1 : 0)) * scale;
  }
  return loss;
}

function argmax(z: Float32Array, o: number, C: number): number {
  let best = 0;
  for (let c = 1; c < C; c++) if (z[o + c] > z[o + best]) best = c;
  return best;
}

const EVAL_CHUNK = 256;

/** Softmax regression: logits = x·W + b, W of shape [dim, classes]. Convex in (W, b). */
export function softmaxRegression(dim = 784, classes = 10): Model {
  const D = dim;
  const C = classes;
  let z = new Float32Array(0);
  const logits = (W: Float32Array, b: Float32Array, X: Float32Array, row: number, out: Float32Array, o: number): void => {
    for (let c = 0; c < C; c++) out[o + c] = b[c];
    const base = row * D;
    for (let k = 0; k < D; k++) {
      const x = X[base + k];
      if (x === 0) continue;
      const wk = k * C;
      for (let c = 0; c < C; c++) out[o + c] += x * W[wk + c];
    }
  };
  return {
    name: 'softmax-regression',
    shapes: [
      [D, C],
      [C],
    ],
    init(): Float32Array[] {
      return [new Float32Array(D * C), new Float32Array(C)];
    },
    lossAndGrad(params, grads, data, idx, from, to): number {
      const [W, b] = params;
      const [gW, gb] = grads;
      gW.fill(0);
      gb.fill(0);
      if (z.length < C) z = new Float32Array(C);
      const n = to - from;
      const scale = 1 / n;
      let loss = 0;
      const X = data.x;
      for (let r = from; r < to; r++) {
        const row = idx[r];
        logits(W, b, X, row, z, 0);
        loss += softmaxXent(z, 0, C, data.y[row], z, scale);
        for (let c = 0; c < C; c++) gb[c] += z[c];
        const base = row * D;
        for (let k = 0; k < D; k++) {
          const x = X[base + k];
          if (x === 0) continue;
          const wk = k * C;
          for (let c = 0; c < C; c++) gW[wk + c] += x * z[c];
        }
      }
      return loss / n;
    },
    evaluate(params, data): Evaluation {
      const [W, b] = params;
      const out = new Float32Array(C);
      let loss = 0;
      let correct = 0;
      for (let r = 0; r < data.n; r++) {
        logits(W, b, data.x, r, out, 0);
        loss += softmaxXent(out, 0, C, data.y[r], null, 1);
        if (argmax(out, 0, C) === data.y[r]) correct++;
      }
      return { loss: loss / data.n, accuracy: correct / data.n };
    },
  };
}

/**
 * A one-hidden-layer MLP: logits = relu(x·W1 + b1)·W2 + b2, W1 of shape [dim, hidden],
 * W2 of shape [hidden, classes]. He-normal W1, Glorot-normal W2, zero biases.
 */
export function mlp(hidden = 128, dim = 784, classes = 10): Model {
  const D = dim;
  const H = hidden;
  const C = classes;
  let h = new Float32Array(0);
  let z = new Float32Array(0);
  let dh = new Float32Array(0);
  const ensure = (rows: number): void => {
    if (h.length < rows * H) {
      h = new Float32Array(rows * H);
      dh = new Float32Array(rows * H);
      z = new Float32Array(rows * C);
    }
  };
  // forward of one row into h[i*H..], z[i*C..]
  const forward = (p: readonly Float32Array[], X: Float32Array, row: number, i: number): void => {
    const [W1, b1, W2, b2] = p;
    const hi = i * H;
    for (let j = 0; j < H; j++) h[hi + j] = b1[j];
    const base = row * D;
    for (let k = 0; k < D; k++) {
      const x = X[base + k];
      if (x === 0) continue;
      const wk = k * H;
      for (let j = 0; j < H; j++) h[hi + j] += x * W1[wk + j];
    }
    for (let j = 0; j < H; j++) if (h[hi + j] < 0) h[hi + j] = 0;
    const zi = i * C;
    for (let c = 0; c < C; c++) z[zi + c] = b2[c];
    for (let j = 0; j < H; j++) {
      const a = h[hi + j];
      if (a === 0) continue;
      const wj = j * C;
      for (let c = 0; c < C; c++) z[zi + c] += a * W2[wj + c];
    }
  };
  return {
    name: `mlp-${D}-${H}-${C}`,
    shapes: [[D, H], [H], [H, C], [C]],
    init(rng): Float32Array[] {
      const W1 = new Float32Array(D * H);
      const s1 = Math.sqrt(2 / D);
      for (let i = 0; i < W1.length; i++) W1[i] = rng.normal() * s1;
      const W2 = new Float32Array(H * C);
      const s2 = Math.sqrt(2 / (H + C));
      for (let i = 0; i < W2.length; i++) W2[i] = rng.normal() * s2;
      return [W1, new Float32Array(H), W2, new Float32Array(C)];
    },
    lossAndGrad(params, grads, data, idx, from, to): number {
      const W2 = params[2];
      const [gW1, gb1, gW2, gb2] = grads;
      const n = to - from;
      ensure(n);
      const scale = 1 / n;
      const X = data.x;
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const row = idx[from + i];
        forward(params, X, row, i);
        loss += softmaxXent(z, i * C, C, data.y[row], z, scale); // z now holds dL/dz
      }
      gW1.fill(0);
      gb1.fill(0);
      gW2.fill(0);
      gb2.fill(0);
      for (let i = 0; i < n; i++) {
        const hi = i * H;
        const zi = i * C;
        for (let c = 0; c < C; c++) gb2[c] += z[zi + c];
        for (let j = 0; j < H; j++) {
          const a = h[hi + j];
          if (a === 0) {
            dh[hi + j] = 0; // relu'(0) = 0
            continue;
          }
          const wj = j * C;
          let g = 0;
          for (let c = 0; c < C; c++) {
            const d = z[zi + c];
            g += d * W2[wj + c];
            gW2[wj + c] += a * d;
          }
          dh[hi + j] = g;
          gb1[j] += g;
        }
        const base = idx[from + i] * D;
        for (let k = 0; k < D; k++) {
          const x = X[base + k];
          if (x === 0) continue;
          const wk = k * H;
          for (let j = 0; j < H; j++) gW1[wk + j] += x * dh[hi + j];
        }
      }
      return loss / n;
    },
    evaluate(params, data): Evaluation {
      ensure(EVAL_CHUNK);
      let loss = 0;
      let correct = 0;
      for (let r = 0; r < data.n; r++) {
        forward(params, data.x, r, 0);
        loss += softmaxXent(z, 0, C, data.y[r], null, 1);
        if (argmax(z, 0, C) === data.y[r]) correct++;
      }
      return { loss: loss / data.n, accuracy: correct / data.n };
    },
  };
}
