/**
 * The scenarios (update rules with their hyperparameters, the same for every contender), the
 * bytes each moves per parameter, and the float64 reference used to check every result.
 */

/**
 * Hyperparameters are those of the PyTorch defaults (AdamW: weight decay 0.01), lr 1e-3; the
 * tfjs rules' (Adagrad, RMSprop, Adamax, Adadelta) are set so that tf.train.X computes the same.
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
  // The tfjs rules (docs/tfjs-mapping.md): hyperparameters chosen so that tf.train.X computes the
  // same update where an exact mapping exists. Bytes: docs/design.md, "Performance model".
  adagrad: {
    id: 'adagrad',
    label: 'Adagrad',
    rule: 'adagrad',
    bytesPerParam: 20,
    // tf.train.adagrad(lr, 0.1) = torch's Adagrad with the accumulator starting at 0.1 + 1e-7 and eps 0
    hp: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0.1 + 1e-7, eps: 0 },
    tfjs: 'tf.train.adagrad(lr, 0.1).applyGradients',
  },
  rmsprop: {
    id: 'rmsprop',
    label: 'RMSprop',
    rule: 'rmsprop',
    bytesPerParam: 20,
    // eps 0 on both sides: tfjs adds ε inside the square root, torch outside (|g| >= 0.05 here)
    hp: { lr: 1e-2, alpha: 0.99, eps: 0, weightDecay: 0, momentum: 0, centered: false },
    tfjs: 'tf.train.rmsprop(lr, 0.99, 0, 0).applyGradients (tfjs also reads and writes a momentum accumulator)',
  },
  adamax: {
    id: 'adamax',
    label: 'Adamax',
    rule: 'adamax',
    bytesPerParam: 28,
    hp: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    tfjs: 'tf.train.adamax(lr, beta1, beta2, eps).applyGradients',
  },
  adadelta: {
    id: 'adadelta',
    label: 'Adadelta',
    rule: 'adadelta',
    bytesPerParam: 28,
    hp: { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 },
    // tfjs's Adadelta is another formula (it divides by the previous step's accumulator): it is
    // checked against its own reference ('adadelta-tfjs'), the same work per element
    tfjs: 'tf.train.adadelta(lr, rho, eps).applyGradients (tfjs formula, checked against its own reference)',
  },
  // NAdam and RAdam move Adam's bytes (p, g, m, v read; p, m, v written); Lion reads p, g, m
  // and writes p, m. TensorFlow.js has none of the three.
  nadam: {
    id: 'nadam',
    label: 'NAdam',
    rule: 'nadam',
    bytesPerParam: 28,
    hp: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3 },
    tfjs: null,
  },
  radam: {
    id: 'radam',
    label: 'RAdam',
    rule: 'radam',
    bytesPerParam: 28,
    hp: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    tfjs: null,
  },
  lion: {
    id: 'lion',
    label: 'Lion',
    rule: 'lion',
    bytesPerParam: 20,
    hp: { lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
    tfjs: null,
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
 * the torch.optim formulas of the scenario's rule, element by element.
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
  } else if (scenario.rule === 'nadam') {
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, momentumDecay: psi } = h;
    const mu = (t) => b1 * (1 - 0.5 * 0.96 ** (t * psi));
    for (let i = 0; i < p0s.length; i++) {
      let p = p0s[i];
      let m = 0;
      let v = 0;
      let prod = 1;
      for (let t = 1; t <= steps; t++) {
        const g = gs[i] + wd * p;
        prod *= mu(t);
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const d = Math.sqrt(v / (1 - b2 ** t)) + eps;
        p += ((-lr * (1 - mu(t))) / (1 - prod)) * (g / d) + ((-lr * mu(t + 1)) / (1 - prod * mu(t + 1))) * (m / d);
      }
      out[i] = p;
    }
  } else if (scenario.rule === 'radam') {
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd } = h;
    const rhoInf = 2 / (1 - b2) - 1;
    for (let i = 0; i < p0s.length; i++) {
      let p = p0s[i];
      let m = 0;
      let v = 0;
      for (let t = 1; t <= steps; t++) {
        const g = gs[i] + wd * p;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const bc2 = 1 - b2 ** t;
        const rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
        const mHat = m / (1 - b1 ** t);
        if (rhoT > 5) {
          const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
          p -= lr * mHat * rect * (Math.sqrt(bc2) / (Math.sqrt(v) + eps));
        } else {
          p -= lr * mHat;
        }
      }
      out[i] = p;
    }
  } else if (scenario.rule === 'lion') {
    const { lr, beta1: b1, beta2: b2, weightDecay: wd } = h;
    for (let i = 0; i < p0s.length; i++) {
      let p = p0s[i];
      let m = 0;
      const g = gs[i];
      for (let t = 1; t <= steps; t++) {
        p = p * (1 - lr * wd) - lr * Math.sign(b1 * m + (1 - b1) * g);
        m = b2 * m + (1 - b2) * g;
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
  } else if (scenario.rule !== 'sgd') {
    for (let i = 0; i < p0s.length; i++) out[i] = adaptiveReference(scenario.rule, h, p0s[i], gs[i], steps);
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
 * One element of Adagrad, RMSprop, Adamax or Adadelta (torch.optim formulas), or of
 * TensorFlow.js's Adadelta ('adadelta-tfjs': the denominator uses the accumulator of the previous
 * step), after `steps` steps with the constant gradient g, in float64.
 */
function adaptiveReference(rule, h, p, g0, steps) {
  let s0 = rule === 'adagrad' ? h.initialAccumulatorValue : 0;
  let s1 = 0;
  for (let t = 1; t <= steps; t++) {
    const g = g0 + h.weightDecay * p;
    if (rule === 'adagrad') {
      s0 += g * g;
      p -= (h.lr / (1 + (t - 1) * h.lrDecay)) * (g / (Math.sqrt(s0) + h.eps));
    } else if (rule === 'rmsprop') {
      if (h.momentum !== 0 || h.centered) throw new Error('bench reference: plain RMSprop only');
      s0 = h.alpha * s0 + (1 - h.alpha) * g * g;
      p -= h.lr * (g / (Math.sqrt(s0) + h.eps));
    } else if (rule === 'adamax') {
      s0 = h.beta1 * s0 + (1 - h.beta1) * g;
      s1 = Math.max(h.beta2 * s1, Math.abs(g) + h.eps);
      p -= (h.lr / (1 - h.beta1 ** t)) * (s0 / s1);
    } else if (rule === 'adadelta' || rule === 'adadelta-tfjs') {
      const sq = h.rho * s0 + (1 - h.rho) * g * g;
      const delta = (Math.sqrt(s1 + h.eps) / Math.sqrt((rule === 'adadelta' ? sq : s0) + h.eps)) * g;
      s0 = sq;
      s1 = h.rho * s1 + (1 - h.rho) * delta * delta;
      p -= h.lr * delta;
    } else {
      throw new Error(`bench reference: unknown rule ${rule}`);
    }
  }
  return p;
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
