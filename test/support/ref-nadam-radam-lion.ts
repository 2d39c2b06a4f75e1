/**
 * Plain float64 references of NAdam, RAdam and Lion, written from the formulas (PyTorch 2.x
 * for NAdam and RAdam, optax.lion / the Lion paper's Program 1 for Lion), and the harness the
 * test/rules.{nadam,radam,lion}.test.ts files share: one global decision (norms, clip, skip)
 * over every group as `refDecide`, then each group's update with its own hyperparameters.
 *
 * Arrays are Float64Array state kept by the test; `g` is the raw float32 gradient, unscaled
 * here by `gradScale` (rounded to float32, as the kernels do) and multiplied by the clip
 * coefficient.
 */
import { expect } from 'vitest';

import type { FusedOptimizer } from '../../src/index.js';
import { refDecide, type RefOutcome } from './reference.js';

export interface RefNAdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  momentumDecay: number;
  gradScale: number;
}

export interface RefRAdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  gradScale: number;
}

export interface RefLionOptions {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  gradScale: number;
}

/** μ_t of NAdam: β1 · (1 − ½ · 0.96^(t · ψ)). */
export function refMu(beta1: number, momentumDecay: number, t: number): number {
  return beta1 * (1 - 0.5 * 0.96 ** (t * momentumDecay));
}

/**
 * One NAdam update (PyTorch 2.x, `torch/optim/nadam.py`'s single-tensor formula). `mu` holds
 * the group's μ product Π_{i<t} μ_i and is advanced to Π_{i≤t} μ_i. The next step's product in
 * the momentum coefficient is Π_{i≤t} μ_i · μ_{t+1}: PyTorch 1.13 (Debian's python3-torch)
 * computed it as Π_{i≤t} μ_i · μ_t · μ_{t+1}, counting μ_t twice; we follow 2.x.
 */
export function refNAdamApply(
  p: Float64Array[],
  g: ArrayLike<number>[],
  m: Float64Array[],
  v: Float64Array[],
  mu: { product: number },
  o: RefNAdamOptions,
  t: number,
  clipCoef: number,
): void {
  const muT = refMu(o.beta1, o.momentumDecay, t);
  const muNext = refMu(o.beta1, o.momentumDecay, t + 1);
  mu.product *= muT;
  const bc2 = 1 - o.beta2 ** t;
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < p[k].length; i++) {
      const gi = Math.fround(g[k][i] * o.gradScale) * clipCoef + o.weightDecay * p[k][i];
      m[k][i] = o.beta1 * m[k][i] + (1 - o.beta1) * gi;
      v[k][i] = o.beta2 * v[k][i] + (1 - o.beta2) * gi * gi;
      const denom = Math.sqrt(v[k][i] / bc2) + o.eps;
      p[k][i] += ((-o.lr * (1 - muT)) / (1 - mu.product)) * (gi / denom);
      p[k][i] += ((-o.lr * muNext) / (1 - mu.product * muNext)) * (m[k][i] / denom);
    }
  }
}

/** ρ_t of RAdam, and whether step t is rectified (ρ_t > 5). */
export function refRho(beta2: number, t: number): { rhoInf: number; rhoT: number; rectified: boolean } {
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * beta2 ** t) / (1 - beta2 ** t);
  return { rhoInf, rhoT, rectified: rhoT > 5 };
}

/** One RAdam update (PyTorch 2.x, `torch/optim/radam.py`'s single-tensor formula). */
export function refRAdamApply(
  p: Float64Array[],
  g: ArrayLike<number>[],
  m: Float64Array[],
  v: Float64Array[],
  o: RefRAdamOptions,
  t: number,
  clipCoef: number,
): void {
  const bc1 = 1 - o.beta1 ** t;
  const bc2 = 1 - o.beta2 ** t;
  const { rhoInf, rhoT, rectified } = refRho(o.beta2, t);
  const rect = rectified ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < p[k].length; i++) {
      const gi = Math.fround(g[k][i] * o.gradScale) * clipCoef + o.weightDecay * p[k][i];
      m[k][i] = o.beta1 * m[k][i] + (1 - o.beta1) * gi;
      v[k][i] = o.beta2 * v[k][i] + (1 - o.beta2) * gi * gi;
      const mHat = m[k][i] / bc1;
      if (rectified) {
        const adaptive = Math.sqrt(bc2) / (Math.sqrt(v[k][i]) + o.eps);
        p[k][i] -= o.lr * mHat * rect * adaptive;
      } else {
        p[k][i] -= o.lr * mHat;
      }
    }
  }
}

/**
 * One Lion update (optax.lion; the paper's Program 1) in float64. Where the interpolation c
 * is so close to 0 that float32 arithmetic may round it to the other sign (|c| below 1e-5 of
 * the size of its terms), the element is marked in `ambiguous` (and stays marked): a
 * comparison with the float32 kernel must leave it out.
 */
export function refLionApply(
  p: Float64Array[],
  g: ArrayLike<number>[],
  m: Float64Array[],
  o: RefLionOptions,
  clipCoef: number,
  ambiguous?: Uint8Array[],
): void {
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < p[k].length; i++) {
      const gi = Math.fround(g[k][i] * o.gradScale) * clipCoef;
      const a = o.beta1 * m[k][i];
      const b = (1 - o.beta1) * gi;
      const c = a + b;
      if (ambiguous && c !== 0 && Math.abs(c) <= 1e-5 * (Math.abs(a) + Math.abs(b))) ambiguous[k][i] = 1;
      p[k][i] = p[k][i] * (1 - o.lr * o.weightDecay) - o.lr * Math.sign(c);
      m[k][i] = o.beta2 * m[k][i] + (1 - o.beta2) * gi;
    }
  }
}

/**
 * Lion in emulated float32 (every operation rounded with Math.fround, in the kernel's order,
 * no fused multiply-add): bitwise what `native/core/rules/lion.h` computes when the clip
 * coefficient is 1. p and m are Float32Array state.
 */
export function refLionApplyF32(p: Float32Array[], g: ArrayLike<number>[], m: Float32Array[], o: RefLionOptions): void {
  const f = Math.fround;
  const lr = f(o.lr);
  const b1 = f(o.beta1);
  const omb1 = f(1 - o.beta1);
  const b2 = f(o.beta2);
  const omb2 = f(1 - o.beta2);
  const decay = f(1 - o.lr * o.weightDecay);
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < p[k].length; i++) {
      const gi = f(f(g[k][i] * f(o.gradScale)) * 1);
      const m0 = m[k][i];
      const c = f(f(b1 * m0) + f(omb1 * gi));
      const s = c > 0 ? 1 : c < 0 ? -1 : c;
      p[k][i] = f(f(p[k][i] * decay) - f(lr * s));
      m[k][i] = f(f(b2 * m0) + f(omb2 * gi));
    }
  }
}

/**
 * Worst error of `actual` against `expected`: |a − e| / max(|e|, 1e-2 · max|e| of the array),
 * so that entries near 0 are judged against the array's magnitude. Indices with `skip[i]` set
 * are left out. NaN against NaN counts as equal.
 */
export function closeError(actual: ArrayLike<number>, expected: ArrayLike<number>, skip?: Uint8Array): number {
  let big = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) big = Math.max(big, Math.abs(expected[i]));
  const floor = Math.max(1e-2 * big, 1e-30);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (skip?.[i]) continue;
    if (Number.isNaN(expected[i]) && Number.isNaN(actual[i])) continue;
    const err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

/**
 * Gradients for the property tests: ±[0.05, 1), bounded away from 0 so that, with
 * weightDecay·|p| small, g + wd·p never cancels. A cancelling g makes NAdam's and RAdam's
 * m/(√v + eps) ill-conditioned (with β2 = 0, v = g²): float32 then legitimately differs from
 * float64 by far more than a few ulps, and a fixed tolerance could not tell that from a bug.
 */
export function wellConditionedGrad(n: number, random: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = 0.05 + 0.95 * random();
    a[i] = random() < 0.5 ? -x : x;
  }
  return a;
}

/** Whether two Float32Arrays hold the same bits. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every tensor's parameters and state slots of an optimizer, as copies. */
export function snapshotArrays(opt: FusedOptimizer<object>): Float32Array[] {
  const s = opt.stateDict();
  return [...s.params, ...Object.values(s.state).flat()];
}

/** Asserts that two optimizers hold bitwise the same parameters and state. */
export function expectSameBits(a: FusedOptimizer<object>, b: FusedOptimizer<object>, what: string): void {
  const x = snapshotArrays(a);
  const y = snapshotArrays(b);
  expect(x.length).toBe(y.length);
  x.forEach((arr, i) => expect(sameBits(arr, y[i]), `${what}: array ${i}`).toBe(true));
}

/** The global decision of a step over every group's gradients (re-exported for the tests). */
export function decide(grads: ArrayLike<number>[][], gradScale: number, maxGradNorm: number | null, skipNonFinite: boolean): RefOutcome {
  return refDecide(grads.flat(), gradScale, maxGradNorm, skipNonFinite);
}
