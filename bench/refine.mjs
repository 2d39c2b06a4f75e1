#!/usr/bin/env node
// Benchmark of schedule refinement: the sliding median filter and refineSchedule on a
// 1e6-step trace (tau = 0.1, so width 100001), beside references:
//   - a naive sort-per-window median (O(T·w log w)) on a smaller size, extrapolated;
//   - scipy.ndimage.median_filter, when python3 with scipy is on this machine;
//   - refineByBound (the numerical method) on 1e5 steps.
// Not a test: it prints times. Build first: npx tsc -p tsconfig.build.json
//
// usage: node bench/refine.mjs [--steps 1e6] [--tau 0.1] [--repeats 5] [--large] [--json out.json] [--no-scipy]
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
  console.error('bench/refine.mjs: dist/ is missing; build it first: npx tsc -p tsconfig.build.json');
  process.exit(1);
}
const { medianFilter, naiveMedianFilter, refineSchedule, refineByBoundDetailed, refinementWidth } = await import('../dist/index.js');
const { mulberry32: rng } = await import('../dist/random.js');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) return true;
  return v;
}
const T = Number(arg('steps', '1e6'));
const tau = Number(arg('tau', '0.1'));
const repeats = Number(arg('repeats', '5'));
const large = arg('large', false) === true;
const jsonOut = arg('json', undefined);
const useScipy = arg('no-scipy', false) !== true;


/** A trace that looks like training: a decaying warm-up bump, noise, rare spikes. */
function makeTrace(n, seed = 1) {
  const r = rng(seed);
  const g = new Float64Array(n);
  for (let t = 0; t < n; t++) g[t] = 1 + 5 * Math.exp(-t / (0.05 * n)) + 0.3 * r() + (r() < 1e-3 ? 20 * r() : 0);
  return g;
}

/** Runs fn `repeats` times after one warm-up; returns min and median in ms. */
function time(fn, reps = repeats) {
  fn();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { min: ms[0], median: ms[Math.floor(ms.length / 2)], runs: ms.length };
}

const rows = [];
function report(name, n, w, t, note = '') {
  rows.push({ name, steps: n, width: w, minMs: t.min, medianMs: t.median, nsPerStep: (t.median * 1e6) / n, note });
  const f = (x) => x.toFixed(1).padStart(9);
  console.log(`${name.padEnd(44)} ${String(n).padStart(9)} ${String(w).padStart(8)} ${f(t.min)} ${f(t.median)} ${((t.median * 1e6) / n).toFixed(1).padStart(8)}  ${note}`);
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores); times in ms (min, median of ${repeats})`);
console.log(`${'benchmark'.padEnd(44)} ${'steps'.padStart(9)} ${'width'.padStart(8)} ${'min'.padStart(9)} ${'median'.padStart(9)} ${'ns/step'.padStart(8)}`);

const g = makeTrace(T);
const w = refinementWidth(T, tau);
report('medianFilter (authors boundary)', T, w, time(() => medianFilter(g, w)));
report('medianFilter (nearest)', T, w, time(() => medianFilter(g, w, { boundary: 'nearest' })));
const refineT = time(() => refineSchedule(g, { method: 'adam', tau }));
report('refineSchedule (adam)', T, w, refineT, refineT.median <= 500 ? 'target <= 500 ms: met' : 'target <= 500 ms: MISSED');
report('refineSchedule (sgd)', T, w, time(() => refineSchedule(g, { method: 'sgd', tau })));

// naive reference on a smaller size, extrapolated by T·w·log2(w)
const Tn = 20_000;
const wn = refinementWidth(Tn, tau);
const gn = makeTrace(Tn, 2);
const naive = time(() => naiveMedianFilter(gn, wn), 1);
report('naive sort-per-window median', Tn, wn, naive);
const fastSmall = time(() => medianFilter(gn, wn));
report('medianFilter, same size', Tn, wn, fastSmall, `${(naive.median / fastSmall.median).toFixed(0)}x faster than naive`);
const extrapolated = (naive.median * (T * w * Math.log2(w))) / (Tn * wn * Math.log2(wn));
console.log(`  naive at ${T} steps, width ${w}: ~${(extrapolated / 1000 / 3600).toFixed(1)} h by T·w·log w extrapolation (not run)`);

// the numerical method, for scale
const Tb = 100_000;
const gb = makeTrace(Tb, 3);
let info;
const bound = time(() => {
  info = refineByBoundDetailed(gb, { method: 'adam', tau });
}, 1);
report('refineByBound (L-BFGS, adam)', Tb, refinementWidth(Tb, tau), bound, `${info.iterations} iterations, converged: ${info.converged}`);

if (large) {
  const TL = 10_000_000;
  const wL = 1_000_001;
  const gL = makeTrace(TL, 4);
  report('medianFilter, T = 1e7, w = 1e6 + 1', TL, wL, time(() => medianFilter(gL, wL), 1));
}

// scipy, if available: same sizes, its own random data of the same kind
if (useScipy) {
  const py = `
import time, numpy as np
from scipy import ndimage
import scipy
T, w = ${T}, ${w}
rng = np.random.default_rng(1)
t = np.arange(T)
g = 1 + 5*np.exp(-t/(0.05*T)) + 0.3*rng.random(T) + (rng.random(T) < 1e-3)*20*rng.random(T)
def authors():
    return ndimage.median_filter(np.pad(g, (0, 2*w), mode='reflect'), size=w, mode='nearest')[:T]
authors()
ts = []
for _ in range(${Math.max(1, Math.min(repeats, 3))}):
    t0 = time.perf_counter(); authors(); ts.append(time.perf_counter() - t0)
ts.sort()
print(scipy.__version__, ts[0]*1e3, ts[len(ts)//2]*1e3)
`;
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8', timeout: 300_000 });
  if (r.status === 0) {
    const [ver, min, med] = r.stdout.trim().split(/\s+/);
    report(`scipy ${ver} ndimage.median_filter (authors)`, T, w, { min: Number(min), median: Number(med) }, 'reference, C');
  } else {
    console.log(`  scipy reference skipped: ${(r.error?.message ?? r.stderr.trim().split('\n').pop()) || 'python3/scipy not available'}`);
  }
}

if (typeof jsonOut === 'string') {
  writeFileSync(jsonOut, JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, rows }, null, 2));
  console.log(`wrote ${jsonOut}`);
}
