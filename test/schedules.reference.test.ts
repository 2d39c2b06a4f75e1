/**
 * Equality with the library implementations the schedules claim to follow. Each reference is
 * re-implemented here from the library's source (cited at each block), in the library's own
 * shape (phase tables, lambdas, step-by-step recursions), and compared at many points.
 */
import { describe, expect, it } from 'vitest';
import {
  cosineDecay,
  cosineRestarts,
  exponentialDecay,
  inverseSqrt,
  join,
  linear,
  linearDecay,
  multiStep,
  oneCycle,
  polynomialDecay,
  warmupStableDecay,
  type Schedule,
} from '../src/schedules/index.js';

/** |a − b| <= rel·max(|a|, |b|) + abs */
function expectClose(got: number, want: number, what: string, rel = 1e-12, abs = 1e-15): void {
  const tol = rel * Math.max(Math.abs(got), Math.abs(want)) + abs;
  if (!(Math.abs(got - want) <= tol)) {
    expect.fail(`${what}: got ${got}, want ${want} (|diff| ${Math.abs(got - want)} > ${tol})`);
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------------
// PyTorch torch/optim/lr_scheduler.py, class OneCycleLR: `_schedule_phases` (a list of dicts
// with end_step / start_lr / end_lr) and `get_lr()` (walk the phases, pct = (step_num −
// start_step)/(end_step − start_step), `_annealing_cos` / `_annealing_linear`). The lr used by
// the (t+1)-th optimizer step is get_lr() with last_epoch = t.
// ---------------------------------------------------------------------------------------------
function torchOneCycle(
  maxLr: number,
  totalSteps: number,
  pctStart = 0.3,
  annealStrategy: 'cos' | 'linear' = 'cos',
  divFactor = 25,
  finalDivFactor = 1e4,
  threePhase = false,
): (stepNum: number) => number {
  const group: Record<string, number> = {};
  group.initial_lr = maxLr / divFactor;
  group.max_lr = maxLr;
  group.min_lr = group.initial_lr / finalDivFactor;
  const phases = threePhase
    ? [
        { end_step: pctStart * totalSteps - 1, start_lr: 'initial_lr', end_lr: 'max_lr' },
        { end_step: 2 * pctStart * totalSteps - 2, start_lr: 'max_lr', end_lr: 'initial_lr' },
        { end_step: totalSteps - 1, start_lr: 'initial_lr', end_lr: 'min_lr' },
      ]
    : [
        { end_step: pctStart * totalSteps - 1, start_lr: 'initial_lr', end_lr: 'max_lr' },
        { end_step: totalSteps - 1, start_lr: 'max_lr', end_lr: 'min_lr' },
      ];
  const annealingCos = (start: number, end: number, pct: number) => {
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  };
  const annealingLinear = (start: number, end: number, pct: number) => (end - start) * pct + start;
  const anneal = annealStrategy === 'cos' ? annealingCos : annealingLinear;
  return (stepNum: number) => {
    if (stepNum > totalSteps) throw new Error(`Tried to step ${stepNum} times`);
    let startStep = 0.0;
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i];
      const endStep = phase.end_step;
      if (stepNum <= endStep || i === phases.length - 1) {
        const pct = (stepNum - startStep) / (endStep - startStep);
        return anneal(group[phase.start_lr], group[phase.end_lr], pct);
      }
      startStep = phase.end_step;
    }
    throw new Error('unreachable');
  };
}

describe('oneCycle = PyTorch OneCycleLR', () => {
  const configs: [string, Parameters<typeof torchOneCycle>][] = [
    ['defaults', [0.1, 1000]],
    ['linear', [0.1, 1000, 0.3, 'linear']],
    ['odd T, pct 0.25', [2.5, 997, 0.25, 'cos', 10, 100]],
    ['three phase', [0.01, 500, 0.3, 'cos', 25, 1e4, true]],
    ['three phase linear, pct 0.45', [1, 333, 0.45, 'linear', 5, 50, true]],
    ['pct 0 (no rise)', [1, 50, 0]],
    ['pct 1 (no fall)', [1, 50, 1]],
    ['pct·T < 1', [1, 3, 0.2, 'cos']],
    ['pct·T < 1, three phase', [1, 3, 0.2, 'linear', 25, 1e4, true]],
    ['one step', [1, 1]],
    ['four steps, three phase, pct 0.5', [1, 4, 0.5, 'cos', 25, 1e4, true]],
  ];
  for (const [name, args] of configs) {
    it(`${name}: every step 0..T−1`, () => {
      const [peak, steps, pctStart, anneal, divFactor, finalDivFactor, threePhase] = args;
      const ours = oneCycle({ peak, steps, pctStart, anneal, divFactor, finalDivFactor, threePhase });
      const ref = torchOneCycle(...args);
      for (let t = 0; t < steps; t++) expectClose(ours(t), ref(t), `t=${t}`, 1e-14);
      // after the last optimizer step the value holds (PyTorch raises past T)
      expect(ours(steps)).toBe(ours(steps - 1));
      expect(ours(1e9)).toBe(ours(steps - 1));
    });
  }

  it('closed-form landmarks (defaults, T = 100): initial, peak at pct·T − 1, final at T − 1', () => {
    const lr = oneCycle({ peak: 1, steps: 100 });
    // PyTorch's cos anneal evaluates end + (start − end)/2·2 at pct 0: 0.04 up to rounding
    expectClose(lr(0), 1 / 25, 'initial');
    expect(lr(29)).toBe(1);
    expect(lr(99)).toBe(1 / 25 / 1e4);
    // cos midpoint of the rise: pct = 14.5/29 = 0.5 → (initial + peak)/2
    expectClose(lr(14.5), (0.04 + 1) / 2, 'mid-rise');
  });

  it('three-phase landmarks: peak at pct·T − 1, back to initial at 2·pct·T − 2', () => {
    const lr = oneCycle({ peak: 1, steps: 100, threePhase: true });
    expect(lr(29)).toBe(1);
    expect(lr(58)).toBe(0.04);
    expect(lr(99)).toBe(0.04 / 1e4);
  });

  it('zero-length first phase (pct·T = 1): our step 0 is the phase end value (PyTorch divides by zero)', () => {
    const lr = oneCycle({ peak: 1, steps: 10, pctStart: 0.1 });
    expect(lr(0)).toBe(1);
    const ref = torchOneCycle(1, 10, 0.1);
    for (let t = 1; t < 10; t++) expectClose(lr(t), ref(t), `t=${t}`);
  });
});

// ---------------------------------------------------------------------------------------------
// PyTorch CosineAnnealingWarmRestarts (torch/optim/lr_scheduler.py): get_lr() =
// eta_min + (base_lr − eta_min)·(1 + cos(π·T_cur/T_i))/2, with `step()` either
// (a) incremental: T_cur += 1; if T_cur >= T_i: T_cur %= T_i (sic: T_cur − T_i), T_i *= T_mult;
// (b) closed form step(epoch): mult 1 → T_cur = epoch % T_0; else
//     n = int(log(epoch/T_0·(T_mult − 1) + 1, T_mult)), T_cur = epoch − T_0·(T_mult^n − 1)/(T_mult − 1),
//     T_i = T_0·T_mult^n; epoch < T_0 → T_i = T_0, T_cur = epoch.
// ---------------------------------------------------------------------------------------------
function torchWarmRestartsIncremental(baseLr: number, T0: number, Tmult: number, etaMin: number, n: number): number[] {
  const lrs: number[] = [];
  let Tcur = 0; // the constructor's initial step() gives T_cur = 0
  let Ti = T0;
  for (let t = 0; t < n; t++) {
    if (t > 0) {
      Tcur = Tcur + 1;
      if (Tcur >= Ti) {
        Tcur = Tcur % Ti;
        Ti = Ti * Tmult;
      }
    }
    lrs.push(etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * Tcur) / Ti))) / 2);
  }
  return lrs;
}

function torchWarmRestartsClosed(baseLr: number, T0: number, Tmult: number, etaMin: number, epoch: number): number {
  let Tcur: number;
  let Ti: number;
  if (epoch >= T0) {
    if (Tmult === 1) {
      Tcur = epoch % T0;
      Ti = T0;
    } else {
      const n = Math.trunc(Math.log((epoch / T0) * (Tmult - 1) + 1) / Math.log(Tmult));
      Tcur = epoch - (T0 * (Tmult ** n - 1)) / (Tmult - 1);
      Ti = T0 * Tmult ** n;
    }
  } else {
    Ti = T0;
    Tcur = epoch;
  }
  return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * Tcur) / Ti))) / 2;
}

describe('cosineRestarts = PyTorch CosineAnnealingWarmRestarts', () => {
  const configs: [number, number, number, number][] = [
    [0.1, 10, 1, 0],
    [0.1, 10, 2, 0.001],
    [1, 3, 3, 0.2],
    [0.5, 1, 2, 0],
    [0.5, 7, 1, 0.05],
  ];
  for (const [peak, period, mult, end] of configs) {
    it(`peak ${peak}, period ${period}, mult ${mult}, end ${end}: integer steps against the step-by-step recursion`, () => {
      const lr = cosineRestarts({ peak, period, mult, end });
      const ref = torchWarmRestartsIncremental(peak, period, mult, end, 2000);
      for (let t = 0; t < ref.length; t++) expectClose(lr(t), ref[t], `t=${t}`);
    });
    it(`peak ${peak}, period ${period}, mult ${mult}, end ${end}: fractional steps against step(epoch)`, () => {
      const lr = cosineRestarts({ peak, period, mult, end });
      for (let i = 0; i < 3000; i++) {
        const epoch = i * 0.37 + 0.011; // never exactly on a cycle start
        expectClose(lr(epoch), torchWarmRestartsClosed(peak, period, mult, end, epoch), `epoch=${epoch}`, 1e-9, 1e-12);
      }
    });
  }

  it('restarts at peak at every cycle start, far out too', () => {
    const lr = cosineRestarts({ peak: 1, period: 1, mult: 2, end: 0 });
    for (let n = 0; n < 40; n++) expect(lr(2 ** n - 1)).toBe(1);
    const flat = cosineRestarts({ peak: 1, period: 10, end: 0.5 });
    expect(flat(1e9)).toBe(1);
    expectClose(flat(1e9 + 5), 0.75, '1e9 + 5');
  });

  it("at exact cycle starts we follow the recursion where PyTorch's log closed form may round", () => {
    // cycle n of (period 1, mult 10) starts at (10^n − 1)/9: 0, 1, 11, 111, 1111, ...
    const lr = cosineRestarts({ peak: 1, period: 1, mult: 10 });
    for (const s of [1, 11, 111, 1111, 11111, 111111]) expect(lr(s)).toBe(1);
    // PyTorch's step(epoch): int(log(1000, 10)) = int(2.9999999999999996) = 2, so T_cur = T_i
    // and it returns eta_min at the start of cycle 3 where the recursion restarts at base_lr
    expect(torchWarmRestartsClosed(1, 1, 10, 0, 111)).toBe(0);
    expect(torchWarmRestartsIncremental(1, 1, 10, 0, 112)[111]).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// HF transformers/optimization.py
// ---------------------------------------------------------------------------------------------
/** `_get_inverse_sqrt_schedule_lr_lambda` + `get_inverse_sqrt_schedule` (timescale default). */
function hfInverseSqrt(numWarmupSteps: number, timescale?: number): (s: number) => number {
  if (timescale === undefined) timescale = numWarmupSteps || 10_000;
  const ts = timescale;
  return (currentStep) => {
    if (currentStep < numWarmupSteps) return currentStep / Math.max(1, numWarmupSteps);
    const shift = ts - numWarmupSteps;
    const decay = 1.0 / Math.sqrt((currentStep + shift) / ts);
    return decay;
  };
}

/** `_get_wsd_scheduler_lambda` (the version with warmup_type / decay_type / min_lr_ratio). */
function hfWsd(
  numWarmupSteps: number,
  numStableSteps: number,
  numDecaySteps: number,
  warmupType: 'linear' | 'cosine' | '1-sqrt',
  decayType: 'linear' | 'cosine' | '1-sqrt',
  minLrRatio: number,
  numCycles = 0.5,
): (s: number) => number {
  return (currentStep) => {
    if (currentStep < numWarmupSteps) {
      const progress = currentStep / Math.max(1, numWarmupSteps);
      let factor = 0;
      if (warmupType === 'linear') factor = progress;
      else if (warmupType === 'cosine') factor = 0.5 * (1.0 - Math.cos(Math.PI * progress));
      else factor = 1.0 - Math.sqrt(1.0 - progress);
      factor = factor * (1.0 - minLrRatio) + minLrRatio;
      return Math.max(0.0, factor);
    }
    if (currentStep < numWarmupSteps + numStableSteps) return 1.0;
    if (currentStep < numWarmupSteps + numStableSteps + numDecaySteps) {
      const progress = (currentStep - numWarmupSteps - numStableSteps) / Math.max(1, numDecaySteps);
      let factor = 0;
      if (decayType === 'linear') factor = 1.0 - progress;
      else if (decayType === 'cosine') factor = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
      else factor = 1.0 - Math.sqrt(progress);
      factor = factor * (1.0 - minLrRatio) + minLrRatio;
      return Math.max(0.0, factor);
    }
    return minLrRatio;
  };
}

/** `_get_polynomial_decay_schedule_with_warmup_lr_lambda` (returns lr, not the ratio). */
function hfPolynomial(lrInit: number, W: number, T: number, lrEnd: number, power: number): (s: number) => number {
  return (currentStep) => {
    let ratio: number;
    if (currentStep < W) ratio = currentStep / Math.max(1, W);
    else if (currentStep > T) ratio = lrEnd / lrInit;
    else {
      const lrRange = lrInit - lrEnd;
      const decaySteps = T - W;
      const pctRemaining = 1 - (currentStep - W) / decaySteps;
      const decay = lrRange * pctRemaining ** power + lrEnd;
      ratio = decay / lrInit;
    }
    return lrInit * ratio;
  };
}

/** `_get_linear_schedule_with_warmup_lr_lambda`. */
function hfLinear(W: number, T: number): (s: number) => number {
  return (s) => (s < W ? s / Math.max(1, W) : Math.max(0.0, (T - s) / Math.max(1, T - W)));
}

/** `_get_cosine_schedule_with_warmup_lr_lambda` (num_cycles = 0.5). */
function hfCosine(W: number, T: number, numCycles = 0.5): (s: number) => number {
  return (s) => {
    if (s < W) return s / Math.max(1, W);
    const progress = (s - W) / Math.max(1, T - W);
    return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
  };
}

describe('inverseSqrt = HF get_inverse_sqrt_schedule', () => {
  const cases: [number, number | undefined][] = [
    [0, undefined],
    [100, undefined],
    [100, 400],
    [500, 50],
    [1, undefined],
  ];
  for (const [W, ts] of cases) {
    it(`warmup ${W}, timescale ${ts ?? 'default'}`, () => {
      const peak = 3e-4;
      const lr = inverseSqrt({ peak, warmup: W, timescale: ts });
      const ref = hfInverseSqrt(W, ts);
      for (const t of [...range(1200), 5e4, 1e6, 1e9]) expectClose(lr(t), peak * ref(t), `t=${t}`);
    });
  }
  it('closed form: peak at W, peak/√2 at W + τ, peak/2 at W + 3τ', () => {
    const lr = inverseSqrt({ peak: 1, warmup: 10, timescale: 100 });
    expect(lr(10)).toBe(1);
    expectClose(lr(110), Math.SQRT1_2, 'W + τ');
    expectClose(lr(310), 0.5, 'W + 3τ');
  });
});

describe('warmupStableDecay = HF get_wsd_schedule (warmup_type linear)', () => {
  for (const decay of ['linear', 'cosine', '1-sqrt'] as const) {
    for (const [T, W, D, ratio] of [
      [1000, 100, 200, 0],
      [1000, 100, 200, 0.1],
      [997, 0, 13, 0.05],
      [50, 50, 0, 0.2],
      [50, 0, 50, 0],
      [60, 10, 50, 0.3],
    ] as const) {
      it(`${decay}: T ${T}, W ${W}, D ${D}, min_lr_ratio ${ratio}`, () => {
        const peak = 0.02;
        const lr = warmupStableDecay({ peak, steps: T, warmup: W, decaySteps: D, decay, end: ratio * peak });
        const ref = hfWsd(W, T - W - D, D, 'linear', decay, ratio);
        for (let t = 0; t <= T + 20; t++) expectClose(lr(t), peak * ref(t), `t=${t}`);
        expectClose(lr(1e9), peak * ratio, '1e9');
      });
    }
  }
  it('1-sqrt closed form: at the decay midpoint the value is end + (peak − end)(1 − √½)', () => {
    const lr = warmupStableDecay({ peak: 1, steps: 100, warmup: 0, decaySteps: 20, decay: '1-sqrt', end: 0.1 });
    expectClose(lr(90), 0.1 + 0.9 * (1 - Math.SQRT1_2), 'midpoint');
    expect(lr(79)).toBe(1);
    expect(lr(80)).toBe(1);
    expect(lr(100)).toBe(0.1);
  });
});

describe('polynomialDecay / linearDecay / cosineDecay = HF lambdas', () => {
  it('polynomialDecay = get_polynomial_decay_schedule_with_warmup', () => {
    for (const power of [0.5, 1, 2, 3.7]) {
      const [peak, W, T, end] = [1e-3, 30, 530, 1e-7];
      const lr = polynomialDecay({ peak, steps: T, warmup: W, end, power });
      const ref = hfPolynomial(peak, W, T, end, power);
      for (let t = 0; t <= T + 50; t++) expectClose(lr(t), ref(t), `power ${power}, t=${t}`);
    }
  });
  it('linearDecay = get_linear_schedule_with_warmup', () => {
    for (const [W, T] of [[0, 100], [10, 100], [7, 333], [100, 100]]) {
      const lr = linearDecay({ peak: 5e-5, steps: T, warmup: W });
      const ref = hfLinear(W, T);
      for (let t = 0; t <= T + 10; t++) expectClose(lr(t), 5e-5 * ref(t), `W ${W} T ${T} t=${t}`);
    }
  });
  it('cosineDecay = get_cosine_schedule_with_warmup (up to T; HF rises again after T, we hold)', () => {
    for (const [W, T] of [[0, 100], [10, 100], [7, 333]]) {
      const lr = cosineDecay({ peak: 5e-5, steps: T, warmup: W });
      const ref = hfCosine(W, T);
      for (let t = 0; t <= T; t++) expectClose(lr(t), 5e-5 * ref(t), `W ${W} T ${T} t=${t}`);
      expect(lr(T + 10)).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// optax/schedules/_schedule.py and _join.py
// ---------------------------------------------------------------------------------------------
/** `linear_schedule` = polynomial_schedule(power=1): count = clip(step − begin, 0, T). */
function optaxLinear(init: number, end: number, transitionSteps: number): Schedule {
  return (count) => {
    if (transitionSteps <= 0) return init;
    const c = Math.min(Math.max(count, 0), transitionSteps);
    const frac = 1 - c / transitionSteps;
    return (init - end) * frac ** 1 + end;
  };
}
/** `cosine_decay_schedule(init_value, decay_steps, alpha, exponent=1)`. */
function optaxCosine(init: number, decaySteps: number, alpha: number): Schedule {
  return (count) => {
    const c = Math.min(count, decaySteps);
    const cosineDecayed = 0.5 * (1 + Math.cos((Math.PI * c) / decaySteps));
    const decayed = (1 - alpha) * cosineDecayed + alpha;
    return init * decayed;
  };
}
/** `join_schedules`: output = schedules[0](step); for each boundary: where(step < b, output, s(step − b)). */
function optaxJoin(schedules: Schedule[], boundaries: number[]): Schedule {
  return (step) => {
    let output = schedules[0](step);
    for (let i = 0; i < boundaries.length; i++) {
      output = step < boundaries[i] ? output : schedules[i + 1](step - boundaries[i]);
    }
    return output;
  };
}
/** `warmup_cosine_decay_schedule(init, peak, warmup_steps, decay_steps, end_value)`. */
function optaxWarmupCosine(init: number, peak: number, warmupSteps: number, decaySteps: number, end: number): Schedule {
  const alpha = peak === 0 ? 0 : end / peak;
  return optaxJoin(
    [optaxLinear(init, peak, warmupSteps), optaxCosine(peak, decaySteps - warmupSteps, alpha)],
    [warmupSteps],
  );
}
/** `exponential_decay(init_value, transition_steps, decay_rate, transition_begin, staircase)`. */
function optaxExponential(init: number, transitionSteps: number, rate: number, begin: number, staircase: boolean): Schedule {
  return (count) => {
    const decreasedCount = count - begin;
    let p = decreasedCount / transitionSteps;
    if (staircase) p = Math.floor(p);
    const decayed = init * rate ** p;
    return count <= begin ? init : decayed;
  };
}

describe('optax equivalents', () => {
  it('cosineDecay with warmup = warmup_cosine_decay_schedule', () => {
    for (const [init, peak, W, T, end] of [
      [0, 1, 10, 100, 0],
      [0.01, 0.5, 10, 110, 0.05],
      [0, 2e-3, 0, 1000, 2e-5],
      [1e-4, 1e-3, 37, 911, 0],
    ]) {
      const lr = cosineDecay({ peak, steps: T, warmup: W, warmupFrom: init, end });
      const ref = optaxWarmupCosine(init, peak, W, T, end);
      for (let t = 0; t <= T + 30; t++) expectClose(lr(t), ref(t), `t=${t}`);
    }
  });
  it('linear = linear_schedule', () => {
    const ours = linear({ from: 0.2, to: 1, steps: 13 });
    const ref = optaxLinear(0.2, 1, 13);
    for (let t = 0; t < 40; t++) expectClose(ours(t), ref(t), `t=${t}`);
  });
  it('exponentialDecay = exponential_decay (transition_begin = warmup, no end_value)', () => {
    for (const staircase of [false, true]) {
      for (const [every, gamma] of [[1, 0.99], [7, 0.5], [100, 0.1], [3, 1.05]]) {
        const lr = exponentialDecay({ peak: 0.1, gamma, every, staircase });
        const ref = optaxExponential(0.1, every, gamma, 0, staircase);
        for (let t = 0; t < 500; t++) expectClose(lr(t), ref(t), `t=${t}`);
      }
    }
  });
  it('join = join_schedules, at many points, including equal boundaries', () => {
    const a = linear({ from: 0, to: 1, steps: 10 });
    const b = cosineDecay({ peak: 1, steps: 20, end: 0.1 });
    const c = linear({ from: 0.1, to: 0.5, steps: 5 });
    const d = polynomialDecay({ peak: 0.5, steps: 30, power: 2 });
    for (const bounds of [[10, 30, 35], [10, 10, 35], [0, 5, 5], [3, 3, 3]]) {
      const ours = join([a, b, c, d], bounds);
      const ref = optaxJoin([a, b, c, d], bounds);
      for (let t = 0; t < 100; t += 0.5) expect(ours(t)).toBe(ref(t));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// PyTorch MultiStepLR / ExponentialLR / PolynomialLR / CosineAnnealingLR
// ---------------------------------------------------------------------------------------------
describe('PyTorch equivalents', () => {
  it('multiStep = MultiStepLR (chainable form: lr ·= gamma^count at each milestone epoch)', () => {
    const milestones = [30, 80, 80, 120];
    const counts = new Map<number, number>();
    for (const m of milestones) counts.set(m, (counts.get(m) ?? 0) + 1);
    const lr = multiStep({ peak: 0.1, milestones: [120, 80, 30, 80], gamma: 0.3 });
    let cur = 0.1;
    for (let epoch = 0; epoch < 200; epoch++) {
      if (counts.has(epoch)) cur = cur * 0.3 ** counts.get(epoch)!;
      expectClose(lr(epoch), cur, `epoch ${epoch}`);
    }
  });
  it('exponentialDecay(every 1) = ExponentialLR (lr ·= gamma each step)', () => {
    const lr = exponentialDecay({ peak: 0.1, gamma: 0.97 });
    let cur = 0.1;
    for (let t = 0; t < 1000; t++) {
      expectClose(lr(t), cur, `t=${t}`, 1e-11);
      cur *= 0.97;
    }
  });
  it('polynomialDecay = PolynomialLR closed form base·(1 − min(T, t)/T)^power', () => {
    for (const power of [1, 2, 0.5]) {
      const lr = polynomialDecay({ peak: 0.1, steps: 50, power });
      for (let t = 0; t < 80; t++) expectClose(lr(t), 0.1 * (1 - Math.min(50, t) / 50) ** power, `t=${t}`);
    }
  });
  it('cosineDecay = CosineAnnealingLR closed form for t <= T_max', () => {
    const lr = cosineDecay({ peak: 0.1, steps: 77, end: 0.003 });
    for (let t = 0; t <= 77; t++) {
      expectClose(lr(t), 0.003 + ((0.1 - 0.003) * (1 + Math.cos((Math.PI * t) / 77))) / 2, `t=${t}`);
    }
  });
});
