/**
 * NAdam (`native/core/rules/nadam.h`): `torch.optim.NAdam` of PyTorch 2.x. The product of the
 * momentum schedule μ_1 … μ_t is host state per group; the two step coefficients it gives are
 * derived in double on the host and packed as the fields `coefGrad` and `coefMomentum`.
 */
import { check, type HostState, type RuleSpec } from './spec.js';

/** Resolved NAdam hyperparameters (besides lr). */
export interface NAdamHyper extends Record<string, number | boolean> {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  momentumDecay: number;
}

/** μ_t = β1 · (1 − ½ · 0.96^(t · momentumDecay)), the momentum coefficient of applied step t. */
export function nadamMu(r: Readonly<NAdamHyper>, t: number): number {
  return r.beta1 * (1 - 0.5 * 0.96 ** (t * r.momentumDecay));
}

/**
 * The μ product Π_{i<t} μ_i (state `muProduct`, 1 before the first step): PyTorch 2.x's
 * `mu_product`. The coefficients of step t use Π_{i≤t} μ_i and Π_{i≤t} μ_i · μ_{t+1}.
 */
const host: HostState<NAdamHyper> = {
  init: () => ({ muProduct: 1 }),
  derive(r, lr, t, state) {
    const mu = nadamMu(r, t);
    const muNext = nadamMu(r, t + 1);
    const product = state.muProduct * mu;
    return {
      coefGrad: (-lr * (1 - mu)) / (1 - product),
      coefMomentum: (-lr * muNext) / (1 - product * muNext),
    };
  },
  advance: (r, _lr, t, state) => ({ muProduct: state.muProduct * nadamMu(r, t) }),
};

/** `torch.optim.NAdam` (PyTorch 2.x; L2 weight decay added to the gradient). */
export const NADAM: RuleSpec<NAdamHyper> = Object.freeze({
  kind: 'nadam',
  className: 'NAdam',
  native: { name: 'nadam', code: 6 },
  checkpointCode: 7,
  defaultLr: 2e-3,
  defaults: Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 }),
  checks: {
    beta1: check.beta,
    beta2: check.beta,
    eps: check.nonNegative,
    weightDecay: check.nonNegative,
    momentumDecay: check.nonNegative,
  },
  fields: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'momentumDecay', 'coefGrad', 'coefMomentum'],
  stateNames: ['expAvg', 'expAvgSq'],
  host,
  refineNorm: 'l1',
});
