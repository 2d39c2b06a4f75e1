/**
 * The scenarios (update rules with their hyperparameters, the same for every contender), the
 * bytes each moves per parameter, and the float64 reference used to check every result.
 */

/**
 * Hyperparameters are those of the PyTorch defaults (AdamW: weight decay 0.01), lr 1e-3.
 * `bytesPerParam` is the least memory traffic of a step in fp32 (docs/design.md,
 * "Performance model"): Adam reads p, g, m, v and writes p, m, v = 7 x 4 B = 28 B; SGD with momentum reads
 * p, g, buf and writes p, buf = 5 x 4 B = 20 B. Schedule-free AdamW (`AdamWScheduleFree`
 * defaults but lr 1e-3) reads y, g, z, v and writes y, z, v = 28 B; TensorFlow.js has no
 * counterpart (`tfjs: null`).
 */
export const SCENARIOS = {
  adam: {
    id: 'adam',
    label: 'Adam',
    rule: 'adam',
    bytesPerParam: 28,
    hp: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
    tfjs: 'tf.train.adam(lr, beta1, beta2, eps).applyGradients',
  },
  adamw: {
    id: 'adamw',
    label: 'AdamW',
    rule: 'adam',
    bytesPerParam: 28,
    hp: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, decoupled: true },
    tfjs: 'hand-written AdamW with tf ops on variables (m, v variables; p.assign)',
  },
  'sgd-momentum': {
    id: 'sgd-momentum',
    label: 'SGD + momentum',
    rule: 'sgd',
    bytesPerParam: 20,
    hp: { lr: 1e-3, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 },
    tfjs: 'tf.train.momentum(lr, 0.9).applyGradients',
  },
  'schedulefree-adamw': {
    id: 'schedulefree-adamw',
    label: 'schedule-free AdamW',
    rule: 'schedulefree-adamw',
    // reads y, g, z, v and writes y, z, v: 7 x 4 B, as Adam
    bytesPerParam: 28,
    hp: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, warmupSteps: 0, r: 0, weightLrPower: 2 },
    tfjs: null,
  },
};

export const SCENARIO_IDS = Object.keys(SCENARIOS);

/** Bytes per parameter of the floor loop (streamFloor reads 4 arrays and writes 3). */
export const FLOOR_BYTES_PER_PARAM = 28;

/**
 * Largest accepted error of a contender's parameters after its steps, relative to how far the
 * float64 reference moved each parameter: max_i |x_i - ref_i| / max(|ref_i - p0_i|, 1e-6).
 *
 * note: fp32 storage rounds p by up to half an ulp at every step; with lr 1e-3, |p| <= ~20
 * and at most ~2000 steps per contender this stays below ~2e-4 of the displacement. A
 * missing step, a wrong bias correction, beta or learning rate gives >= 1e-3 (usually >> 1e-2).
 */
export const TOLERANCE = 1e-3;

/**
 * Float64 reference for the sampled elements after `steps` steps with the constant gradient:
 * the torch.optim.Adam/AdamW/SGD formulas, element by element.
 */
export function referenceParams(scenario, p0s, gs, steps) {
  const h = scenario.hp;
  const out = new Float64Array(p0s.length);
  if (scenario.rule === 'adam') {
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled } = h;
    const bc1 = new Float64Array(steps);
    const bc2 = new Float64Array(steps);
    for (let t = 1; t <= steps; t++) {
      bc1[t - 1] = lr / (1 - b1 ** t);
      bc2[t - 1] = Math.sqrt(1 - b2 ** t);
    }
    for (let i = 0; i < p0s.length; i++) {
      let p = p0s[i];
      let m = 0;
      let v = 0;
      const g0 = gs[i];
      for (let t = 0; t < steps; t++) {
        let g = g0;
        if (decoupled) p *= 1 - lr * wd;
        else g += wd * p;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        p -= bc1[t] * (m / (Math.sqrt(v) / bc2[t] + eps));
      }
      out[i] = p;
    }
  } else if (scenario.rule === 'schedulefree-adamw') {
    // AdamWScheduleFree (facebookresearch/schedule_free 1.3): per-step constants, then y, z, v
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, warmupSteps, r, weightLrPower } = h;
    const ckp1 = new Float64Array(steps);
    const lrs = new Float64Array(steps);
    const sqrtBc2 = new Float64Array(steps);
    let lrMax = -1;
    let weightSum = 0;
    for (let k = 0; k < steps; k++) {
      lrs[k] = lr * (k < warmupSteps ? (k + 1) / warmupSteps : 1);
      lrMax = Math.max(lrMax, lrs[k]);
      const weight = (k + 1) ** r * lrMax ** weightLrPower;
      weightSum += weight;
      ckp1[k] = weightSum === 0 ? 0 : weight / weightSum;
      sqrtBc2[k] = Math.sqrt(1 - b2 ** (k + 1));
    }
    for (let i = 0; i < p0s.length; i++) {
      let y = p0s[i];
      let z = y;
      let v = 0;
      const g = gs[i];
      for (let k = 0; k < steps; k++) {
        v = b2 * v + (1 - b2) * g * g;
        const gn = g / (Math.sqrt(v) / sqrtBc2[k] + eps) + wd * y;
        y += ckp1[k] * (z - y);
        y += lrs[k] * (b1 * (1 - ckp1[k]) - 1) * gn;
        z -= lrs[k] * gn;
      }
      out[i] = y;
    }
  } else {
    const { lr, momentum: mu, dampening, nesterov, weightDecay: wd } = h;
    for (let i = 0; i < p0s.length; i++) {
      let p = p0s[i];
      let buf = 0;
      for (let t = 1; t <= steps; t++) {
        const g = gs[i] + wd * p;
        let d = g;
        if (mu !== 0) {
          buf = t === 1 ? g : mu * buf + (1 - dampening) * g;
          d = nesterov ? g + mu * buf : buf;
        }
        p -= lr * d;
      }
      out[i] = p;
    }
  }
  return out;
}

/**
 * Checks values read from a contender (at the sampled indices) against the reference.
 * Returns { maxRelErr, worstIndex, tolerance, pass, steps }.
 */
export function verify(scenario, sample, p0, g, values, steps) {
  const p0s = Float64Array.from(sample, (i) => p0[i]);
  const gs = Float64Array.from(sample, (i) => g[i]);
  const ref = referenceParams(scenario, p0s, gs, steps);
  let maxRelErr = 0;
  let worstIndex = -1;
  for (let k = 0; k < sample.length; k++) {
    const x = values[k];
    const err = Number.isFinite(x) ? Math.abs(x - ref[k]) / Math.max(Math.abs(ref[k] - p0s[k]), 1e-6) : Infinity;
    if (!(err <= maxRelErr)) {
      maxRelErr = err;
      worstIndex = sample[k];
    }
  }
  return { maxRelErr, worstIndex, tolerance: TOLERANCE, pass: maxRelErr <= TOLERANCE, steps, checked: sample.length };
}
