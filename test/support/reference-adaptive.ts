/**
 * References of Adagrad, RMSprop, Adamax and Adadelta (torch.optim semantics), written straight
 * from the formulas, one element at a time:
 *
 * - `f64`: every operation in float64 (the accuracy reference; test/rules.adaptive.test.ts);
 * - `f32`: every operation rounded to float32 (`Math.fround`) in the order of
 *   native/core/rules/<rule>.h, constants derived in float64 and rounded once, as `make` does.
 *   Float32 +, −, ×, ÷ and √ computed in float64 and rounded once are correctly rounded (53 ≥
 *   2·24 + 2 bits), and the build turns off fused multiply-add, so this gives the kernels' bits
 *   exactly: the fuzz compares bit for bit.
 */

/** Hyperparameters of one group of any of the four rules (the ones a rule does not use are ignored). */
export interface AdaptiveHyper {
  lr: number;
  weightDecay: number;
  eps: number;
  lrDecay?: number;
  initialAccumulatorValue?: number;
  alpha?: number;
  momentum?: number;
  centered?: boolean;
  beta1?: number;
  beta2?: number;
  rho?: number;
}

export type AdaptiveKind = 'adagrad' | 'rmsprop' | 'adamax' | 'adadelta';

/** The checkpoint names of each rule's state, in slot order. */
export const STATE_NAMES: Record<AdaptiveKind, string[]> = {
  adagrad: ['sum'],
  rmsprop: ['squareAvg', 'momentumBuffer', 'gradAvg'],
  adamax: ['expAvg', 'expInf'],
  adadelta: ['squareAvg', 'accDelta'],
};

/** The initial value of each state slot (Adagrad's accumulator starts at initialAccumulatorValue). */
export function initialState(kind: AdaptiveKind, h: AdaptiveHyper): number[] {
  return STATE_NAMES[kind].map((_, k) => (kind === 'adagrad' && k === 0 ? h.initialAccumulatorValue ?? 0 : 0));
}

/** The state slots a group of these hyperparameters reads and writes (RMSprop: by variant). */
export function usedSlots(kind: AdaptiveKind, h: AdaptiveHyper): boolean[] {
  if (kind !== 'rmsprop') return STATE_NAMES[kind].map(() => true);
  return [true, (h.momentum ?? 0) > 0, h.centered === true];
}

type Round = (x: number) => number;
const id: Round = (x) => x;

/**
 * One element of one applied step t (1-based). `g` is the gradient as the rule sees it
 * (unscaled and clipped), `s` the state (updated in place); returns the new parameter.
 * `r` rounds every intermediate result (identity: float64; Math.fround: the kernels' float32).
 */
function element(kind: AdaptiveKind, p: number, g: number, s: number[] | Float64Array, h: AdaptiveHyper, t: number, r: Round): number {
  const f = r; // constants: derived in float64, rounded once
  const wd = f(h.weightDecay);
  const eps = f(h.eps);
  g = r(g + r(wd * p));
  switch (kind) {
    case 'adagrad': {
      const clr = f(h.lr / (1 + (t - 1) * (h.lrDecay ?? 0)));
      const sum = r(s[0] + r(g * g));
      const denom = r(r(Math.sqrt(sum)) + eps);
      s[0] = sum;
      return r(p - r(clr * r(g / denom)));
    }
    case 'rmsprop': {
      const alpha = f(h.alpha ?? 0.99);
      const oma = f(1 - (h.alpha ?? 0.99));
      const lr = f(h.lr);
      const momentum = f(h.momentum ?? 0);
      const sq = r(r(alpha * s[0]) + r(oma * r(g * g)));
      s[0] = sq;
      let avg: number;
      if (h.centered) {
        const ga = r(r(alpha * s[2]) + r(oma * g));
        s[2] = ga;
        avg = r(r(Math.sqrt(r(sq - r(ga * ga)))) + eps);
      } else {
        avg = r(r(Math.sqrt(sq)) + eps);
      }
      if ((h.momentum ?? 0) > 0) {
        const buf = r(r(momentum * s[1]) + r(g / avg));
        s[1] = buf;
        return r(p - r(lr * buf));
      }
      return r(p - r(lr * r(g / avg)));
    }
    case 'adamax': {
      const b1 = h.beta1 ?? 0.9;
      const beta1 = f(b1);
      const omb1 = f(1 - b1);
      const beta2 = f(h.beta2 ?? 0.999);
      const stepSize = f(h.lr / (1 - b1 ** t));
      const m = r(r(beta1 * s[0]) + r(omb1 * g));
      const decayed = r(beta2 * s[1]);
      const fresh = r(Math.abs(g) + eps);
      const u = decayed > fresh || Number.isNaN(decayed) ? decayed : fresh;
      s[0] = m;
      s[1] = u;
      return r(p - r(stepSize * r(m / u)));
    }
    case 'adadelta': {
      const rho = f(h.rho ?? 0.9);
      const omr = f(1 - (h.rho ?? 0.9));
      const lr = f(h.lr);
      const sq = r(r(rho * s[0]) + r(omr * r(g * g)));
      const std = r(Math.sqrt(r(sq + eps)));
      const delta = r(r(r(Math.sqrt(r(s[1] + eps))) / std) * g);
      const acc = r(r(rho * s[1]) + r(omr * r(delta * delta)));
      s[0] = sq;
      s[1] = acc;
      return r(p - r(lr * delta));
    }
  }
}

/**
 * Applies one step t (1-based) to tensors `p` with gradients `g` and state `state[slot][tensor]`,
 * in float64 (`precision` 'f64') or float32 ('f32'). The gradient is `fround(g · gradScale)`
 * times `clipCoef` (float32 in 'f32', as the kernels: gu · clip).
 */
export function refAdaptiveApply(
  kind: AdaptiveKind,
  p: Float64Array[] | Float32Array[],
  g: ArrayLike<number>[],
  state: (Float64Array[] | Float32Array[])[],
  h: AdaptiveHyper,
  t: number,
  gradScale: number,
  clipCoef: number,
  precision: 'f64' | 'f32' = 'f64',
): void {
  const r = precision === 'f32' ? Math.fround : id;
  const scale = precision === 'f32' ? Math.fround(gradScale) : gradScale;
  const clip = precision === 'f32' ? Math.fround(clipCoef) : clipCoef;
  const s = [0, 0, 0];
  for (let k = 0; k < p.length; k++) {
    const pk = p[k];
    for (let i = 0; i < pk.length; i++) {
      const gu = Math.fround(g[k][i] * scale);
      for (let j = 0; j < state.length; j++) s[j] = state[j][k][i];
      pk[i] = element(kind, pk[i], r(gu * clip), s, h, t, r);
      for (let j = 0; j < state.length; j++) state[j][k][i] = s[j];
    }
  }
}
