/**
 * One case of the size sweep: a scenario, a layout and a size. Every selected contender runs
 * it from the same data, beside the floor loop on 1 thread and on all threads, in interleaved
 * rounds; afterwards every contender's parameters are checked against the float64 reference.
 */
import { CONTENDERS } from './contenders.mjs';
import { layoutLengths, makeData, offsetsOf, sampleIndices } from './data.mjs';
import { floorArrays, floorInstance, floorScale } from './floor.mjs';
import { loadAverage } from './machine.mjs';
import { measureEntries } from './measure.mjs';
import { pairedRatio, summarize } from './stats.mjs';
import { SCENARIOS, verify } from './scenarios.mjs';

/** Rough ns/param and ns/step of each entry, used before anything is measured (progress, skips). */
export const PRIOR = {
  'fused-1t': [2, 2e3],
  'fused-all': [1.5, 2e3],
  'fused-cuda': [0.2, 2e4],
  'tfjs-cpu': [350, 2e5],
  'tfjs-wasm': [15, 3e5],
  'js-loop': [6, 1e3],
  floor: [1.3, 1e3],
};

const dataCache = new Map();

/** Deterministic data of a size, kept for the other cases at that size. */
export function dataFor(size, seed) {
  const key = `${size}:${seed}`;
  if (!dataCache.has(key)) dataCache.set(key, makeData(size, seed));
  return dataCache.get(key);
}

export function clearData() {
  dataCache.clear();
}

/** The case object contenders receive. */
export function makeCase(scenarioId, layout, size, opts) {
  const lengths = layoutLengths(layout, size, opts.tensors);
  return {
    scenario: SCENARIOS[scenarioId],
    layout,
    size,
    lengths,
    offsets: offsetsOf(lengths),
    data: dataFor(size, opts.seed),
  };
}

/** The headline case: every contender runs at every size there, whatever --slow-cap says. */
export function isHeadline(scenarioId, layout) {
  return scenarioId === 'adam' && layout === 'one';
}

/**
 * Runs one case. `estimate(id, size)` gives the expected seconds per step of a contender (from
 * smaller sizes already measured); `onProgress(seconds)` advances the progress bar.
 */
export async function runCase(scenarioId, layout, size, opts, env, estimate, onProgress) {
  const c = makeCase(scenarioId, layout, size, opts);
  const rows = [];
  const entries = [];
  for (const contender of CONTENDERS.filter((x) => opts.contenders.includes(x.id))) {
    const row = { contender: contender.id, label: contender.label, status: 'ok' };
    rows.push(row);
    const why = await contender.unavailable(env, c);
    if (why) {
      Object.assign(row, { status: 'unavailable', reason: why });
      continue;
    }
    const est = estimate(contender.id, size);
    if (opts.slowCapMs > 0 && est * 1000 > opts.slowCapMs && !isHeadline(scenarioId, layout)) {
      Object.assign(row, {
        status: 'skipped',
        reason: `estimated ${est.toFixed(1)} s per step > --slow-cap ${opts.slowCapMs / 1000} s (runs with --full or --slow-cap 0)`,
      });
      continue;
    }
    try {
      const instance = await contender.create(c);
      entries.push({ key: contender.id, n: size, instance, row, contender });
    } catch (e) {
      Object.assign(row, { status: 'error', reason: e.message.split('\n')[0] });
    }
  }
  const fa = floorArrays(size);
  const threadsAll = env.threadsAll;
  entries.push({ key: 'floor-1t', n: size, instance: floorInstance(fa, 1), capSteps: false });
  entries.push({ key: 'floor-all', n: size, instance: floorInstance(fa, threadsAll), capSteps: false });
  const perSample = new Map(entries.map((e) => [e.key, expectedSeconds(e.key, size, opts, estimate)]));
  let measured;
  try {
    measured = await measureEntries(entries, { budgetMs: opts.budgetMs }, (key, planned) => onProgress(perSample.get(key) / planned));
  } catch (e) {
    for (const en of entries) en.instance.dispose?.();
    throw e;
  }

  const scale = floorScale(c.scenario.bytesPerParam);
  const floors = {};
  for (const key of ['floor-1t', 'floor-all']) {
    const m = measured.get(key);
    const scaled = m.samples.map((x) => x * scale);
    floors[key] = { threads: key === 'floor-1t' ? 1 : threadsAll, raw: m.summary, samples: scaled, ns: summarize(scaled) };
  }
  const sample = sampleIndices(c.lengths);
  for (const e of entries) {
    if (!e.row) continue;
    const m = measured.get(e.key);
    Object.assign(e.row, {
      ns: m.summary,
      samples: m.samples,
      batch: m.batch,
      warmupSteps: m.warmupSteps,
      stepMs: m.stepMs,
      steps: e.instance.steps,
    });
    try {
      const values = e.instance.read(sample);
      // a contender that runs another formula for the same work (tfjs's Adadelta) names its own reference
      e.row.verify = verify(e.instance.reference ?? c.scenario, sample, c.data.p0, c.data.g, values, e.instance.steps, c.lengths);
      if (!e.row.verify.pass) {
        e.row.status = 'void';
        e.row.reason = `wrong result: max relative error ${e.row.verify.maxRelErr.toExponential(2)} > ${e.row.verify.tolerance} after ${e.instance.steps} steps`;
      }
    } catch (err) {
      Object.assign(e.row, { status: 'void', reason: `could not be checked: ${err.message.split('\n')[0]}` });
    }
    e.instance.dispose();
    if (e.instance.leakedTensors) e.row.leakedTensors = e.instance.leakedTensors;
    const floorKey = e.key === 'fused-1t' ? 'floor-1t' : 'floor-all';
    // fraction of the floor: paired per round for the fused CPU steps, ratio of medians else
    e.row.floorFraction =
      e.key === 'fused-1t' || e.key === 'fused-all'
        ? pairedRatio(floors[floorKey].samples, m.samples)
        : { median: floors['floor-all'].ns.median / m.summary.median };
  }
  return {
    scenario: scenarioId,
    layout,
    size,
    tensors: c.lengths.length,
    bytesPerParam: c.scenario.bytesPerParam,
    floorScale: scale,
    checkedElements: sample.length,
    loadAverage: loadAverage(),
    floors,
    rows,
  };
}

/** Expected seconds of an entry in a case (progress bar). */
export function expectedSeconds(key, size, opts, estimate) {
  const step = estimate(key, size);
  if (step * 1000 > 1500) return 3 * step;
  return Math.min(opts.budgetMs / 1000, 2000 * step) + 0.05;
}
