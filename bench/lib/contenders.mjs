/**
 * The contenders: each one runs a case (scenario x layout x size) from the same data and
 * hyperparameters, and can read its parameters back for the check against the reference.
 *
 * A contender is { id, label, api, unavailable(env, c) -> reason | null, create(c) -> instance };
 * an instance is { enter?(), step(), sync?(), steps, read(sample) -> Float64Array, dispose() }.
 * `steps` counts every step taken (warm-up included): the reference runs the same number.
 */
import { Adam, AdamW, SGD, adamStep, createOptimizer, sgdStep, buildInfo } from '../../dist/index.js';
import { loadTfjs, useBackend } from './tfjs.mjs';

/** Copies the flat parameters at the sampled indices into a Float64Array. */
function pick(flat, sample) {
  return Float64Array.from(sample, (i) => flat[i]);
}

// --- fused-optim, CPU -----------------------------------------------------------------------

/**
 * One tensor: the functional adamStep/sgdStep on caller-owned Float32Arrays (no copies); the
 * rules without a functional step (Adagrad, RMSprop, Adamax, Adadelta) use their class with one
 * tensor. Many tensors: the rule's class over its flat arena (one native pass per step for
 * every tensor), gradients written once into its zero-copy grads views. Trace on (default).
 */
function fusedCpu(id, label, threadsOf) {
  return {
    id,
    label,
    api: 'one tensor: adamStep/sgdStep (other rules: their class); many: the rule class (arena, one pass)',
    unavailable: () => null,
    async create(c) {
      const threads = threadsOf();
      const { scenario, data, lengths } = c;
      const h = scenario.hp;
      // Rules without a functional step (NAdam, RAdam, Lion) run the class in every layout.
      if (c.layout === 'one' && (scenario.rule === 'adam' || scenario.rule === 'sgd')) {
        const n = c.size;
        const p = data.p0.slice();
        const s1 = new Float32Array(n);
        const s2 = scenario.rule === 'adam' ? new Float32Array(n) : null;
        const opts = { ...h, step: 0, threads };
        const inst = {
          steps: 0,
          step:
            scenario.rule === 'adam'
              ? () => {
                  opts.step = ++inst.steps;
                  adamStep(p, data.g, s1, s2, opts);
                }
              : () => {
                  opts.step = ++inst.steps;
                  sgdStep(p, data.g, s1, opts);
                },
          read: (sample) => pick(p, sample),
          dispose() {},
        };
        return inst;
      }
      const opt = makeOptimizer(scenario, c, { threads });
      const grads = opt.grads;
      for (let i = 0; i < lengths.length; i++) grads[i].set(data.g.subarray(c.offsets[i], c.offsets[i] + lengths[i]));
      const inst = {
        steps: 0,
        step: () => {
          opt.step();
          inst.steps++;
        },
        read: (sample) => pick(flatParams(opt, c), sample),
        dispose: () => opt.dispose(),
      };
      return inst;
    },
  };
}

/** The optimizer class of a scenario over the case's tensors (initial values copied in). */
export function makeOptimizer(scenario, c, extra = {}) {
  const h = scenario.hp;
  const params = c.lengths.map((n, i) => c.data.p0.subarray(c.offsets[i], c.offsets[i] + n));
  if (scenario.rule !== 'sgd' && scenario.rule !== 'adam') return createOptimizer(scenario.rule, params, { ...h, ...extra });
  if (scenario.rule === 'sgd') {
    return new SGD(params, { lr: h.lr, momentum: h.momentum, dampening: h.dampening, nesterov: h.nesterov, weightDecay: h.weightDecay, ...extra });
  }
  if (scenario.rule !== 'adam') return createOptimizer(scenario.rule, params, { ...h, ...extra });
  const common = { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay, ...extra };
  return h.decoupled ? new AdamW(params, common) : new Adam(params, common);
}

function flatParams(opt, c) {
  const flat = new Float32Array(c.size);
  for (let i = 0; i < c.lengths.length; i++) {
    if (c.lengths[i] > 0) flat.set(opt.device === 'cpu' ? opt.params[i] : opt.readParams(i), c.offsets[i]);
  }
  return flat;
}

// --- fused-optim, CUDA ------------------------------------------------------------------------

/**
 * The class API on the first CUDA device (every layout: an arena in device memory, gradients
 * uploaded once with setGrads). A batch of steps ends with reading the last step's norm (a
 * lazy outcome on CUDA: reading it waits for the device), so the time covers the work and not
 * only the launches. Untested here (no GPU on the benchmark machine).
 */
const fusedCuda = {
  id: 'fused-cuda',
  label: 'fused-optim CUDA',
  api: 'Adam/AdamW/SGD class, device cuda:0',
  unavailable() {
    const cuda = buildInfo().cuda;
    if (!cuda.available) return `CUDA unavailable: ${cuda.reason}`;
    return null;
  },
  async create(c) {
    const opt = makeOptimizer(c.scenario, c, { device: 'cuda' });
    for (let i = 0; i < c.lengths.length; i++) {
      opt.setGrads(i, c.data.g.subarray(c.offsets[i], c.offsets[i] + c.lengths[i]));
    }
    let last = null;
    const inst = {
      steps: 0,
      step: () => {
        last = opt.step();
        inst.steps++;
      },
      sync: () => void last?.gradNormL2,
      read: (sample) => pick(flatParams(opt, c), sample),
      dispose: () => opt.dispose(),
    };
    return inst;
  },
};

// --- TensorFlow.js ------------------------------------------------------------------------------

let varCounter = 0;

/**
 * tfjs on the 'cpu' (pure JS) or 'wasm' backend: one tf.variable per tensor, one gradient
 * tensor per tensor (created once), and per step tf.train.adam / tf.train.momentum
 * `applyGradients`, or a hand-written AdamW (tfjs has none) with the same formula as
 * torch.optim.AdamW. The step does not read results back (see the dataSync extra).
 */
function tfjsContender(backend) {
  const id = `tfjs-${backend}`;
  return {
    id,
    label: backend === 'cpu' ? 'tfjs cpu backend' : 'tfjs wasm backend',
    api: 'tf.variable + tf.train.adam / hand-written AdamW / tf.train.momentum / tf.train.adagrad, rmsprop, adamax, adadelta',
    async unavailable(_env, c) {
      if (c && !c.scenario.tfjs) return `TensorFlow.js has no ${c.scenario.label}`;
      const t = await loadTfjs();
      if (t.error) return t.error;
      if (backend === 'wasm' && t.wasmError) return t.wasmError;
      return null;
    },
    async create(c) {
      const t = await loadTfjs();
      const tf = t.tf;
      await useBackend(t, backend);
      const before = tf.memory().numTensors;
      const { scenario, data, lengths, offsets } = c;
      if (scenario.tfjs === null) throw new Error(`TensorFlow.js has no ${scenario.label}`);
      const h = scenario.hp;
      const run = ++varCounter;
      const names = lengths.map((_, i) => `bench${run}_${i}`);
      const vars = lengths.map((n, i) => {
        const init = tf.tensor1d(data.p0.subarray(offsets[i], offsets[i] + n));
        const v = tf.variable(init, true, names[i]);
        init.dispose();
        return v;
      });
      const grads = lengths.map((n, i) => tf.tensor1d(data.g.subarray(offsets[i], offsets[i] + n)));
      const gradMap = Object.fromEntries(names.map((name, i) => [name, grads[i]]));
      let step;
      let disposeOpt;
      let reference;
      const tfRule = TFJS_RULES[scenario.rule];
      if (tfRule) {
        const opt = tfRule(tf, h);
        step = () => opt.applyGradients(gradMap);
        disposeOpt = () => opt.dispose();
        if (scenario.rule === 'adadelta') reference = { ...scenario, rule: 'adadelta-tfjs' };
      } else if (scenario.rule === 'sgd') {
        if (h.dampening !== 0 || h.nesterov || h.weightDecay !== 0) throw new Error('tfjs momentum: only dampening 0, no Nesterov, no weight decay');
        const opt = tf.train.momentum(h.lr, h.momentum, false);
        step = () => opt.applyGradients(gradMap);
        disposeOpt = () => opt.dispose();
      } else if (!h.decoupled) {
        if (h.weightDecay !== 0) throw new Error('tf.train.adam has no weight decay');
        const opt = tf.train.adam(h.lr, h.beta1, h.beta2, h.eps);
        step = () => opt.applyGradients(gradMap);
        disposeOpt = () => opt.dispose();
      } else {
        const w = tfjsAdamW(tf, vars, h);
        step = w.step(grads);
        disposeOpt = w.dispose;
      }
      const inst = {
        steps: 0,
        reference,
        enter: () => useBackend(t, backend),
        step: () => {
          step();
          inst.steps++;
        },
        read(sample) {
          const flat = new Float32Array(c.size);
          vars.forEach((v, i) => flat.set(v.dataSync(), offsets[i]));
          return pick(flat, sample);
        },
        /** Reads every parameter back to JS (the "with dataSync" variant). */
        readBack: () => {
          for (const v of vars) v.dataSync();
        },
        dispose() {
          disposeOpt();
          for (const v of vars) v.dispose();
          for (const g of grads) g.dispose();
          inst.leakedTensors = tf.memory().numTensors - before;
        },
      };
      return inst;
    },
  };
}

/**
 * tf.train.X for the tfjs rules, configured as docs/tfjs-mapping.md says (the scenarios'
 * hyperparameters are chosen so that the mapping is exact, except Adadelta's).
 */
const TFJS_RULES = {
  adagrad(tf, h) {
    if (h.eps !== 0 || h.lrDecay !== 0 || h.weightDecay !== 0) throw new Error('tf.train.adagrad: only eps 0 (ε goes into the accumulator), no lr decay, no weight decay');
    // tfjs adds its ε (1e-7) to the accumulator in the square root: start it ε lower
    return tf.train.adagrad(h.lr, h.initialAccumulatorValue - tf.backend().epsilon());
  },
  rmsprop(tf, h) {
    if (h.weightDecay !== 0) throw new Error('tf.train.rmsprop has no weight decay');
    return tf.train.rmsprop(h.lr, h.alpha, h.momentum, h.eps, h.centered);
  },
  adamax(tf, h) {
    if (h.weightDecay !== 0) throw new Error('tf.train.adamax has no weight decay');
    return tf.train.adamax(h.lr, h.beta1, h.beta2, h.eps, 0);
  },
  adadelta(tf, h) {
    if (h.weightDecay !== 0) throw new Error('tf.train.adadelta has no weight decay');
    return tf.train.adadelta(h.lr, h.rho, h.eps);
  },
};

/** AdamW with tf ops, torch.optim.AdamW semantics (p *= 1 - lr*wd; m, v; bias-corrected step). */
function tfjsAdamW(tf, vars, h) {
  const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd } = h;
  const ms = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  const vs = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  let t = 0;
  return {
    step: (grads) => () => {
      t++;
      const stepSize = lr / (1 - b1 ** t);
      const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
      tf.tidy(() => {
        for (let i = 0; i < vars.length; i++) {
          const g = grads[i];
          const m = tf.add(tf.mul(ms[i], b1), tf.mul(g, 1 - b1));
          const v = tf.add(tf.mul(vs[i], b2), tf.mul(tf.square(g), 1 - b2));
          ms[i].assign(m);
          vs[i].assign(v);
          const denom = tf.add(tf.mul(tf.sqrt(v), invSqrtBc2), eps);
          vars[i].assign(tf.sub(tf.mul(vars[i], 1 - lr * wd), tf.mul(tf.div(m, denom), stepSize)));
        }
      });
    },
    dispose() {
      for (const x of [...ms, ...vs]) x.dispose();
    },
  };
}

// --- plain JavaScript ---------------------------------------------------------------------------

/**
 * A plain scalar loop over Float32Arrays, the same math (torch formulas, constants hoisted
 * per step), one call per tensor: what one writes without a library. Like tfjs, it computes no
 * norms.
 */
const jsLoop = {
  id: 'js-loop',
  label: 'plain JS loop',
  api: 'scalar for-loop over Float32Arrays, one call per tensor',
  unavailable: (_env, c) => (c && c.scenario.rule !== 'adam' && c.scenario.rule !== 'sgd' ? `no plain JS loop for ${c.scenario.label}` : null),
  async create(c) {
    const { scenario, data, lengths, offsets } = c;
    if (scenario.rule !== 'adam' && scenario.rule !== 'sgd') throw new Error(`no plain-JS loop for ${scenario.label}`);
    const h = scenario.hp;
    const p = data.p0.slice();
    const g = data.g;
    const s1 = new Float32Array(c.size);
    const s2 = scenario.rule === 'adam' || scenario.rule === 'adamax' || scenario.rule === 'adadelta' ? new Float32Array(c.size) : null;
    const inst = { steps: 0, read: (sample) => pick(p, sample), dispose() {} };
    const loop = JS_LOOPS[scenario.rule];
    if (loop) {
      if (scenario.rule === 'adagrad') s1.fill(h.initialAccumulatorValue);
      const k = { ...h, t: 0 };
      inst.step = () => {
        k.t = ++inst.steps;
        for (let i = 0; i < lengths.length; i++) loop(p, g, s1, s2, offsets[i], offsets[i] + lengths[i], k);
      };
    } else if (scenario.rule === 'adam') {
      const k = { b1: h.beta1, omb1: 1 - h.beta1, b2: h.beta2, omb2: 1 - h.beta2, eps: h.eps, wd: 0, decay: 1, stepSize: 0, inv: 0 };
      if (h.decoupled) k.decay = 1 - h.lr * h.weightDecay;
      else k.wd = h.weightDecay;
      inst.step = () => {
        const t = ++inst.steps;
        k.stepSize = h.lr / (1 - h.beta1 ** t);
        k.inv = 1 / Math.sqrt(1 - h.beta2 ** t);
        for (let i = 0; i < lengths.length; i++) adamJs(p, g, s1, s2, offsets[i], offsets[i] + lengths[i], k);
      };
    } else {
      const k = { lr: h.lr, mu: h.momentum, omd: 1 - h.dampening, wd: h.weightDecay, first: true };
      inst.step = () => {
        k.first = ++inst.steps === 1;
        for (let i = 0; i < lengths.length; i++) sgdJs(p, g, s1, offsets[i], offsets[i] + lengths[i], k);
      };
    }
    return inst;
  },
};

function adamJs(p, g, m, v, lo, hi, k) {
  const { b1, omb1, b2, omb2, eps, wd, decay, stepSize, inv } = k;
  for (let i = lo; i < hi; i++) {
    const pv = p[i];
    const gi = g[i] + wd * pv;
    const mi = b1 * m[i] + omb1 * gi;
    const vi = b2 * v[i] + omb2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pv * decay - stepSize * (mi / (Math.sqrt(vi) * inv + eps));
  }
}

/** The tfjs rules as plain loops (torch formulas; plain RMSprop), constants hoisted per step. */
const JS_LOOPS = {
  adagrad(p, g, sum, _, lo, hi, k) {
    const clr = k.lr / (1 + (k.t - 1) * k.lrDecay);
    const { eps, weightDecay: wd } = k;
    for (let i = lo; i < hi; i++) {
      const pv = p[i];
      const gi = g[i] + wd * pv;
      const si = sum[i] + gi * gi;
      sum[i] = si;
      p[i] = pv - clr * (gi / (Math.sqrt(si) + eps));
    }
  },
  rmsprop(p, g, sq, _, lo, hi, k) {
    const { lr, alpha, eps, weightDecay: wd } = k;
    const oma = 1 - alpha;
    for (let i = lo; i < hi; i++) {
      const pv = p[i];
      const gi = g[i] + wd * pv;
      const si = alpha * sq[i] + oma * gi * gi;
      sq[i] = si;
      p[i] = pv - lr * (gi / (Math.sqrt(si) + eps));
    }
  },
  adamax(p, g, m, u, lo, hi, k) {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = k;
    const omb1 = 1 - b1;
    const stepSize = k.lr / (1 - b1 ** k.t);
    for (let i = lo; i < hi; i++) {
      const pv = p[i];
      const gi = g[i] + wd * pv;
      const mi = b1 * m[i] + omb1 * gi;
      const ui = Math.max(b2 * u[i], Math.abs(gi) + eps);
      m[i] = mi;
      u[i] = ui;
      p[i] = pv - stepSize * (mi / ui);
    }
  },
  adadelta(p, g, sq, acc, lo, hi, k) {
    const { lr, rho, eps, weightDecay: wd } = k;
    const omr = 1 - rho;
    for (let i = lo; i < hi; i++) {
      const pv = p[i];
      const gi = g[i] + wd * pv;
      const si = rho * sq[i] + omr * gi * gi;
      const ai = acc[i];
      const delta = (Math.sqrt(ai + eps) / Math.sqrt(si + eps)) * gi;
      sq[i] = si;
      acc[i] = rho * ai + omr * delta * delta;
      p[i] = pv - lr * delta;
    }
  },
};

function sgdJs(p, g, buf, lo, hi, k) {
  const { lr, mu, omd, wd, first } = k;
  for (let i = lo; i < hi; i++) {
    const pv = p[i];
    const gi = g[i] + wd * pv;
    const b = first ? gi : mu * buf[i] + omd * gi;
    buf[i] = b;
    p[i] = pv - lr * b;
  }
}

// --- the registry ------------------------------------------------------------------------------

export const ALL_THREADS = () => buildInfo().threads;

export const CONTENDERS = [
  fusedCpu('fused-1t', 'fused-optim CPU, 1 thread', () => 1),
  fusedCpu('fused-all', 'fused-optim CPU, all threads', ALL_THREADS),
  fusedCuda,
  tfjsContender('cpu'),
  tfjsContender('wasm'),
  jsLoop,
];

export const CONTENDER_IDS = CONTENDERS.map((c) => c.id);
