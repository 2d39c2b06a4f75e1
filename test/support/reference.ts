/**
 * Plain float64 references of the optimizer steps (torch semantics), written straight from
 * the formulas, for checking the fused kernels. Arrays are Float64Array state kept by the test.
 */

export interface RefAdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  maxGradNorm: number | null;
  gradScale: number;
  skipNonFinite: boolean;
}

export interface RefSgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maxGradNorm: number | null;
  gradScale: number;
  skipNonFinite: boolean;
}

export interface RefOutcome {
  l2: number;
  l1: number;
  clipCoef: number;
  skipped: boolean;
  nonFinite: boolean;
}

/** Norms of the unscaled gradient over all tensors, and the clip decision. */
export function refDecide(grads: ArrayLike<number>[], gradScale: number, maxGradNorm: number | null, skipNonFinite: boolean): RefOutcome {
  let sq = 0;
  let l1 = 0;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) {
      const x = Math.fround(g[i] * gradScale);
      sq += x * x;
      l1 += Math.abs(x);
    }
  }
  const l2 = Math.sqrt(sq);
  const nonFinite = !Number.isFinite(l1) || !Number.isFinite(sq);
  const skipped = nonFinite && skipNonFinite;
  let clipCoef = 1;
  if (!skipped && maxGradNorm !== null) clipCoef = Math.min(1, maxGradNorm / (l2 + 1e-6));
  if (Number.isNaN(clipCoef)) clipCoef = 1;
  return { l2, l1, clipCoef, skipped, nonFinite };
}

/** One Adam(W) step over several tensors; `t` = 1-based applied-step index. Returns the outcome. */
export function refAdamStep(
  p: Float64Array[],
  g: ArrayLike<number>[],
  m: Float64Array[],
  v: Float64Array[],
  o: RefAdamOptions,
  t: number,
): RefOutcome {
  const d = refDecide(g, o.gradScale, o.maxGradNorm, o.skipNonFinite);
  if (d.skipped) return d;
  refAdamApply(p, g, m, v, o, t, d.clipCoef);
  return d;
}

/** The update of one Adam(W) step with a given clip coefficient (decided over all groups). */
export function refAdamApply(
  p: Float64Array[],
  g: ArrayLike<number>[],
  m: Float64Array[],
  v: Float64Array[],
  o: Omit<RefAdamOptions, 'maxGradNorm' | 'skipNonFinite'>,
  t: number,
  clipCoef: number,
): void {
  const d = { clipCoef };
  const bc1 = 1 - o.beta1 ** t;
  const bc2 = 1 - o.beta2 ** t;
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < p[k].length; i++) {
      let gi = Math.fround(g[k][i] * o.gradScale) * d.clipCoef;
      let pi = p[k][i];
      if (o.decoupled) pi *= 1 - o.lr * o.weightDecay;
      else gi += o.weightDecay * pi;
      m[k][i] = o.beta1 * m[k][i] + (1 - o.beta1) * gi;
      v[k][i] = o.beta2 * v[k][i] + (1 - o.beta2) * gi * gi;
      const denom = Math.sqrt(v[k][i]) / Math.sqrt(bc2) + o.eps;
      p[k][i] = pi - (o.lr / bc1) * (m[k][i] / denom);
    }
  }
}

/** One SGD step; `t` = 1-based applied-step index (t = 1 initialises the momentum buffer). */
export function refSgdStep(p: Float64Array[], g: ArrayLike<number>[], buf: Float64Array[], o: RefSgdOptions, t: number): RefOutcome {
  const d = refDecide(g, o.gradScale, o.maxGradNorm, o.skipNonFinite);
  if (d.skipped) return d;
  refSgdApply(p, g, buf, o, t, d.clipCoef);
  return d;
}

/** The update of one SGD step with a given clip coefficient (decided over all groups). */
export function refSgdApply(
  p: Float64Array[],
  g: ArrayLike<number>[],
  buf: Float64Array[],
  o: Omit<RefSgdOptions, 'maxGradNorm' | 'skipNonFinite'>,
  t: number,
  clipCoef: number,
): void {
  const d = { clipCoef };
  for (let k = 0; k < p.length; k++) {
    for (let i = 0; i < p[k].length; i++) {
      let gi = Math.fround(g[k][i] * o.gradScale) * d.clipCoef + o.weightDecay * p[k][i];
      if (o.momentum !== 0) {
        buf[k][i] = t === 1 ? gi : o.momentum * buf[k][i] + (1 - o.dampening) * gi;
        gi = o.nesterov ? gi + o.momentum * buf[k][i] : buf[k][i];
      }
      p[k][i] -= o.lr * gi;
    }
  }
}

/** Deterministic PRNG (mulberry32) so a failing case can be replayed from its seed. */
export { mulberry32 as rng } from '../../src/random.js';

/** Fresh random data: a Float32Array of `n` values in [-scale, scale). */
export function randomF32(n: number, random: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (random() * 2 - 1) * scale;
  return a;
}

/**
 * Max relative error of `actual` against `expected`: |a − e| / max(|e|, floor). The floor keeps
 * entries that are (nearly) zero in the reference from dividing by ~0; pick it near the size
 * of the values' typical magnitude times float32 epsilon.
 */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-6): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

/**
 * Max error of `actual` against `expected`, relative to max(|e|, 1e-2 · max|e| of the array):
 * entries near 0 are judged against the array's magnitude (float32 rounding is relative to
 * the operands, and a weight passing through 0 keeps a few ulps of its former size).
 */
export function scaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let big = 0;
  for (let i = 0; i < expected.length; i++) big = Math.max(big, Math.abs(expected[i]));
  const floor = Math.max(1e-2 * big, 1e-30);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(err <= worst)) worst = err;
  }
  return worst;
}
