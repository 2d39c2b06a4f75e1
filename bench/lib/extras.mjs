/**
 * The side measurements:
 * - overhead: per-call cost at 1-1000 parameters of adamStep, the bare addon call, and
 *   Optimizer.step() with and without the trace (tinybench);
 * - norm: what the fused norm and the trace cost (class step with trace vs traceCapacity 0;
 *   the one-pass step against the floor loop is in the main tables);
 * - clip: clipping / skipNonFinite (two passes: reduce, then update) against one pass;
 * - datasync: tfjs with and without reading the parameters back after each step.
 * All but the overhead use the interleaved sampler, and every step result is checked.
 */
import { Bench } from 'tinybench';
import { Adam, adamStep } from '../../dist/index.js';
import { HP, OUT, hpLength, loadNative } from '../../dist/native.js';
import { packHeader, resolveGradient } from '../../dist/optim/options.js';
import { ADAM, packGroup } from '../../dist/optim/rules/index.js';
import { CONTENDERS, makeOptimizer } from './contenders.mjs';
import { makeCase } from './cases.mjs';
import { sampleIndices } from './data.mjs';
import { floorArrays, floorInstance } from './floor.mjs';
import { measureEntries } from './measure.mjs';
import { SCENARIOS, verify } from './scenarios.mjs';
import { pairedRatio, summarize } from './stats.mjs';

const CALLS_PER_ITERATION = 20;

/** Per-call overhead at tiny sizes, with tinybench (one iteration = 20 calls). */
export async function overheadExtra(opts, onProgress) {
  const sizes = [1, 10, 100, 1000];
  const native = loadNative();
  const out = [];
  for (const n of sizes) {
    const c = makeCase('adam', 'one', n, opts);
    const p = c.data.p0.slice();
    const g = c.data.g;
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const fopts = { ...SCENARIOS.adam.hp, step: 0, threads: 1 };
    const hp = new Float64Array(hpLength(1));
    const o = new Float64Array(OUT.count);
    packHeader(hp, resolveGradient(SCENARIOS.adam.hp, 'hp'), 1, 1);
    packGroup(ADAM, { ...ADAM.defaults, ...SCENARIOS.adam.hp }, SCENARIOS.adam.hp.lr, hp, HP.header);
    const withTrace = makeOptimizer(SCENARIOS.adam, c, { threads: 1 });
    const noTrace = makeOptimizer(SCENARIOS.adam, c, { threads: 1, traceCapacity: 0 });
    withTrace.grads[0].set(g);
    noTrace.grads[0].set(g);
    let t = 0;
    const tasks = {
      'adamStep()': () => {
        for (let k = 0; k < CALLS_PER_ITERATION; k++) {
          fopts.step = ++t;
          adamStep(p, g, m, v, fopts);
        }
      },
      'addon functionalStep (no JS checks)': () => {
        const state = [m, v];
        for (let k = 0; k < CALLS_PER_ITERATION; k++) {
          hp[HP.step] = ++t;
          native.functionalStep(ADAM.native.code, p, g, state, hp, o, 1);
        }
      },
      'Adam.step() (trace on)': () => {
        for (let k = 0; k < CALLS_PER_ITERATION; k++) withTrace.step();
      },
      'Adam.step() (traceCapacity 0)': () => {
        for (let k = 0; k < CALLS_PER_ITERATION; k++) noTrace.step();
      },
    };
    const bench = new Bench({ time: opts.quick ? 100 : 300, warmupTime: 50, timestampProvider: 'hrtimeNow' });
    for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
    bench.runSync();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') {
        out.push({ size: n, task: task.name, error: r.error?.message ?? r.state });
        continue;
      }
      const lat = r.latency;
      const per = (x) => (x * 1e6) / CALLS_PER_ITERATION; // ms per iteration -> ns per call
      out.push({
        size: n,
        task: task.name,
        nsPerCall: { median: per(lat.p50), p75: per(lat.p75), min: per(lat.min), mad: per(lat.mad), n: lat.samplesCount },
      });
    }
    withTrace.dispose();
    noTrace.dispose();
    onProgress(1);
  }
  // The class step's cost per tensor: T tensors of 8 parameters each, one thread.
  const perTensor = [];
  for (const tensors of [1, 10, 100, 1000]) {
    const opt = new Adam(Array.from({ length: tensors }, () => 8), { lr: 1e-3, threads: 1 });
    for (const g of opt.grads) g.fill(0.5);
    const bench = new Bench({ time: opts.quick ? 100 : 300, warmupTime: 50, timestampProvider: 'hrtimeNow' });
    bench.add('step', () => {
      for (let k = 0; k < CALLS_PER_ITERATION; k++) opt.step();
    });
    bench.runSync();
    const r = bench.tasks[0].result;
    if (r.state === 'completed') {
      const ns = (r.latency.p50 * 1e6) / CALLS_PER_ITERATION;
      perTensor.push({ tensors, paramsPerTensor: 8, nsPerStep: ns, nsPerTensor: ns / tensors });
    }
    opt.dispose();
  }
  return { callsPerIteration: CALLS_PER_ITERATION, rows: out, perTensor };
}

/**
 * The trace's cost: the Adam class step (one tensor, all threads) with the default trace
 * (4096 records) and with traceCapacity 0, beside adamStep and the floor.
 */
export async function normExtra(opts, env, onProgress) {
  const sizes = (opts.quick ? [1e3, 1e4] : [1e3, 1e4, 1e6]).filter((s) => s <= Math.max(...opts.sizes));
  const rows = [];
  for (const size of sizes) {
    const c = makeCase('adam', 'one', size, opts);
    const threads = env.threadsAll;
    const insts = {
      'Adam.step() trace on': classInstance(makeOptimizer(SCENARIOS.adam, c, { threads }), c),
      'Adam.step() traceCapacity 0': classInstance(makeOptimizer(SCENARIOS.adam, c, { threads, traceCapacity: 0 }), c),
      'adamStep()': await CONTENDERS.find((x) => x.id === 'fused-all').create(c),
    };
    const fa = floorArrays(size);
    const entries = Object.entries(insts).map(([key, instance]) => ({ key, n: size, instance }));
    entries.push({ key: 'floor', n: size, instance: floorInstance(fa, threads), capSteps: false });
    const res = await measureEntries(entries, { budgetMs: opts.budgetMs / 2 }, () => {});
    const sample = sampleIndices(c.lengths);
    const on = res.get('Adam.step() trace on');
    const off = res.get('Adam.step() traceCapacity 0');
    const row = { size, threads, entries: {}, traceCost: pairedRatio(on.samples, off.samples) };
    for (const [key, instance] of Object.entries(insts)) {
      const r = res.get(key);
      row.entries[key] = {
        nsPerParam: r.summary,
        usPerStep: (r.summary.median * size) / 1e3,
        verify: verify(SCENARIOS.adam, sample, c.data.p0, c.data.g, instance.read(sample), instance.steps),
      };
      instance.dispose();
    }
    row.entries.floor = { nsPerParam: res.get('floor').summary };
    row.overFloor = pairedRatio(res.get('adamStep()').samples, res.get('floor').samples);
    rows.push(row);
    onProgress(1);
  }
  return { rows };
}

function classInstance(opt, c) {
  opt.grads[0].set(c.data.g);
  const inst = {
    steps: 0,
    step: () => {
      opt.step();
      inst.steps++;
    },
    read: (sample) => Float64Array.from(sample, (i) => opt.params[0][i]),
    dispose: () => opt.dispose(),
  };
  return inst;
}

/**
 * Clipping and skipping: adamStep with maxGradNorm (1e30: two passes, clip coefficient 1, so
 * the result is checkable against the plain reference; a real clip costs the same), with
 * skipNonFinite, with both, against the one-pass step and the floor, all threads.
 */
export async function clipExtra(opts, env, onProgress) {
  const maxSize = Math.max(...opts.sizes);
  const sizes = (opts.quick ? [1e4, 1e6] : [1e4, 1e6, 1e7, 3e7]).filter((s) => s <= maxSize);
  const threads = env.threadsAll;
  const variants = {
    'one pass': {},
    'maxGradNorm (2 passes)': { maxGradNorm: 1e30 },
    'skipNonFinite (2 passes)': { skipNonFinite: true },
    'both (2 passes)': { maxGradNorm: 1e30, skipNonFinite: true },
  };
  const rows = [];
  for (const size of sizes) {
    const c = makeCase('adam', 'one', size, opts);
    const insts = {};
    for (const [key, extra] of Object.entries(variants)) insts[key] = functionalAdam(c, { ...extra, threads });
    const fa = floorArrays(size);
    const entries = Object.entries(insts).map(([key, instance]) => ({ key, n: size, instance }));
    entries.push({ key: 'floor', n: size, instance: floorInstance(fa, threads), capSteps: false });
    const res = await measureEntries(entries, { budgetMs: opts.budgetMs / 2 }, () => {});
    const sample = sampleIndices(c.lengths);
    const base = res.get('one pass').samples;
    const floor = res.get('floor').samples;
    const row = { size, threads, floor: res.get('floor').summary, variants: {} };
    for (const [key, instance] of Object.entries(insts)) {
      const r = res.get(key);
      row.variants[key] = {
        nsPerParam: r.summary,
        vsOnePass: pairedRatio(r.samples, base),
        floorFraction: pairedRatio(floor, r.samples),
        verify: verify(SCENARIOS.adam, sample, c.data.p0, c.data.g, instance.read(sample), instance.steps),
      };
    }
    rows.push(row);
    onProgress(1);
  }
  return { rows };
}

function functionalAdam(c, extra) {
  const n = c.size;
  const p = c.data.p0.slice();
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const o = { ...SCENARIOS.adam.hp, ...extra, step: 0 };
  const inst = {
    steps: 0,
    step: () => {
      o.step = ++inst.steps;
      adamStep(p, c.data.g, m, v, o);
    },
    read: (sample) => Float64Array.from(sample, (i) => p[i]),
    dispose() {},
  };
  return inst;
}

/** tfjs Adam with and without reading the parameters back (dataSync) after every step. */
export async function dataSyncExtra(opts, env, onProgress) {
  const sizes = [1e4, 1e6].filter((s) => s <= Math.max(...opts.sizes));
  const rows = [];
  for (const id of ['tfjs-cpu', 'tfjs-wasm'].filter((x) => opts.contenders.includes(x))) {
    const contender = CONTENDERS.find((x) => x.id === id);
    const why = await contender.unavailable(env);
    if (why) {
      rows.push({ contender: id, status: 'unavailable', reason: why });
      continue;
    }
    for (const size of sizes) {
      const c = makeCase('adam', 'one', size, opts);
      const plain = await contender.create(c);
      const synced = await contender.create(c);
      const withRead = { ...synced, step: () => (synced.step(), synced.readBack()) };
      Object.defineProperty(withRead, 'steps', { get: () => synced.steps });
      const res = await measureEntries(
        [
          { key: 'step', n: size, instance: plain },
          { key: 'step + dataSync', n: size, instance: withRead },
        ],
        { budgetMs: opts.budgetMs / 2 },
        () => {},
      );
      const sample = sampleIndices(c.lengths);
      const row = { contender: id, size, status: 'ok', variants: {} };
      for (const [key, inst] of [
        ['step', plain],
        ['step + dataSync', synced],
      ]) {
        row.variants[key] = {
          nsPerParam: res.get(key).summary,
          verify: verify(SCENARIOS.adam, sample, c.data.p0, c.data.g, inst.read(sample), inst.steps),
        };
        inst.dispose();
      }
      row.dataSyncCost = pairedRatio(res.get('step + dataSync').samples, res.get('step').samples);
      rows.push(row);
      onProgress(1);
    }
  }
  return { rows };
}

export { summarize };
