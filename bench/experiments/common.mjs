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

/** Seeds: 0,1,2 unless SEEDS=... (comma-separated). A seed fixes the split, the init and the batch order. */
export const SEEDS = (process.env.SEEDS ?? '0,1,2').split(',').map(Number);

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
