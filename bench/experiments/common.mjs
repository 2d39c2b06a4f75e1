// Shared helpers of the experiments: seeds, schedules by name, statistics, result files.
// Run the experiments after `npx tsc -p tsconfig.build.json` (they import ../../dist).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setThreads } from '../../dist/index.js';

export { loadSplit, filterClasses, datasetAvailable } from '../../dist/demo/data.js';
export { softmaxRegression, mlp } from '../../dist/demo/models.js';
export { train, stepsFor } from '../../dist/demo/train.js';

// The arenas here are small (< 60k parameters): one thread per step is enough and leaves the
// other core of this shared machine alone.
setThreads(1);

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, '../results/experiments');

/** Seeds: 0,1,2,3,4 unless SEEDS=... (comma-separated). A seed fixes the split, the init and the batch order. */
export const SEEDS = (process.env.SEEDS ?? '0,1,2,3,4').split(',').map(Number);

/** QUICK=1 shrinks every experiment (a smoke test of the scripts, not a result). */
export const QUICK = process.env.QUICK === '1';

/** A schedule by name, for a run of `steps` steps peaking at `peak` (src/demo/schedules.ts). */
export { namedSchedule as schedule } from '../../dist/demo/schedules.js';

/** mean, sample standard deviation, min, max. */
export function stats(xs) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

/** "mean ± sd" with `digits` decimals. */
export function pm(xs, digits = 4, scale = 1) {
  const s = stats(xs.map((x) => x * scale));
  return `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}

export function saveJson(name, obj) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file + '.tmp', JSON.stringify(obj, null, 1));
  fs.renameSync(file + '.tmp', file);
  return file;
}

export function log(...args) {
  const t = new Date().toISOString().slice(11, 19);
  console.log(t, ...args);
}

/** Downsamples an array to at most `k` evenly spaced values (for the JSON record). */
export function thin(a, k = 50) {
  const n = a.length;
  if (n <= k) return Array.from(a, (v) => +v.toPrecision(5));
  const out = [];
  for (let i = 0; i < k; i++) out.push(+a[Math.round((i * (n - 1)) / (k - 1))].toPrecision(5));
  return out;
}

/** Two-sided 95% quantile of Student's t with `df` degrees of freedom (table; normal beyond 30). */
export function tQuantile975(df) {
  const table = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
  return df < table.length ? table[df] : 1.96;
}

/** { mean, ci95 }: the mean and the half-width of its t-based 95% confidence interval. */
export function meanCi(xs) {
  const s = stats(xs);
  const ci95 = s.n > 1 ? (tQuantile975(s.n - 1) * s.sd) / Math.sqrt(s.n) : NaN;
  return { mean: s.mean, ci95 };
}

/** "mean ± ci95" with `digits` decimals. */
export function fmtCi(xs, digits = 4) {
  const m = meanCi(xs);
  if (!Number.isFinite(m.mean)) return String(m.mean);
  return `${m.mean.toFixed(digits)} ± ${m.ci95.toFixed(digits)}`;
}

/** A difference: "+mean ± ci95" / "−mean ± ci95". */
export function fmtDiff(xs, digits = 4) {
  const m = meanCi(xs);
  if (!Number.isFinite(m.mean)) return String(m.mean);
  return `${m.mean >= 0 ? '+' : '−'}${Math.abs(m.mean).toFixed(digits)} ± ${m.ci95.toFixed(digits)}`;
}

/** A peak of the ×√2 grid around `center`: center·2^(k/2), 4 significant digits. */
export const gridPeak = (center, k) => +(center * 2 ** (k / 2)).toPrecision(4);

/**
 * Sweeps a schedule's peak on a ×√2 grid around `center` (k = -half..half, at least 7
 * points, optionally shifted by `offset` steps of √2), running every seed at every peak (`runAt(peak)` returns one row per seed with a
 * `loss`; a diverged run has loss Infinity). The criterion is the mean loss over seeds. While
 * the best peak sits on an edge of the grid, the grid grows by one point on that side, up to
 * `cap` points; `capped` says the cap was hit with the best still on an edge.
 */
export function sweepPeak({ center, runAt, half = 3, offset = 0, cap = 13, label = '' }) {
  const byK = new Map();
  const meanAt = (k) => {
    const rows = byK.get(k);
    const xs = rows.map((r) => (r.diverged || !Number.isFinite(r.loss) ? Infinity : r.loss));
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const add = (k) => {
    const peak = gridPeak(center, k);
    byK.set(k, runAt(peak).map((r) => ({ ...r, peak })));
  };
  for (let k = offset - half; k <= offset + half; k++) add(k);
  let capped = false;
  for (;;) {
    const ks = [...byK.keys()].sort((a, b) => a - b);
    let best = ks[0];
    for (const k of ks) if (meanAt(k) < meanAt(best)) best = k;
    const lo = ks[0];
    const hi = ks[ks.length - 1];
    if (best !== lo && best !== hi) break;
    if (ks.length >= cap) {
      capped = true;
      break;
    }
    const next = best === lo ? lo - 1 : hi + 1;
    log(`${label}: best peak ${gridPeak(center, best)} on the grid's edge; extending to ${gridPeak(center, next)}`);
    add(next);
  }
  const ks = [...byK.keys()].sort((a, b) => a - b);
  let best = ks[0];
  for (const k of ks) if (meanAt(k) < meanAt(best)) best = k;
  return {
    peaks: ks.map((k) => gridPeak(center, k)),
    bestPeak: gridPeak(center, best),
    bestK: best,
    interior: best !== ks[0] && best !== ks[ks.length - 1],
    capped,
    runs: ks.flatMap((k) => byK.get(k)),
  };
}

/** Sum of squares of all parameters. */
export function sumSquares(params) {
  let s = 0;
  for (const p of params) for (let i = 0; i < p.length; i++) s += p[i] * p[i];
  return s;
}
