#!/usr/bin/env node
/**
 * fused-optim CPU benchmark: `npm run bench`, `node bench/run.mjs [options]`,
 * `fused-optim bench [options]`. See bench/README.md, or run with --help.
 *
 * Imports the built package (../dist): run `npm run build:ts` first (`npm run bench` does).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';

import { PRIOR, clearData, expectedSeconds, isHeadline, runCase } from './lib/cases.mjs';
import { CONTENDERS } from './lib/contenders.mjs';
import { clipExtra, dataSyncExtra, normExtra, overheadExtra } from './lib/extras.mjs';
import { PACKAGE_ROOT, loadAverage, machineInfo } from './lib/machine.mjs';
import { fmtSize, helpText, parseOptions } from './lib/options.mjs';
import { headline, markdownReport, plotSvg, targets, terminalReport } from './lib/report.mjs';
import { SCENARIOS, TOLERANCE } from './lib/scenarios.mjs';
import { loadTfjs } from './lib/tfjs.mjs';

const processIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Writes a file atomically (a .tmp beside it, then rename). */
function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Runs the benchmark for `argv` (options only). Returns the results object (also written as
 * files unless --no-write). Throws TypeError/RangeError for bad options.
 * `defaults.out` sets the output folder when --out is not given.
 */
export async function runBench(argv = [], io = processIO, defaults = {}) {
  const opts = parseOptions(argv);
  if (opts.help) {
    io.stdout(helpText());
    return null;
  }
  const started = Date.now();
  const machine = machineInfo();
  const env = { threadsAll: machine.threadsAll };
  const results = {
    format: 'fused-optim-bench',
    version: 1,
    date: new Date().toISOString(),
    command: `node bench/run.mjs${argv.length ? ` ${argv.join(' ')}` : ''}`,
    machine,
    versions: { package: machine.package },
    loadAverage: { start: loadAverage(), end: null },
    options: { ...opts, out: undefined },
    hyperparameters: Object.fromEntries(Object.entries(SCENARIOS).map(([k, s]) => [k, s.hp])),
    bytesPerParam: Object.fromEntries(Object.entries(SCENARIOS).map(([k, s]) => [k, s.bytesPerParam])),
    tolerance: TOLERANCE,
    notes: [
      'Gradients are random (|g| in [0.05, 1), random sign) and the same at every step for every contender; parameters start U(-1, 1); state starts at 0.',
      'The floor is the STREAM-like in-place loop (4 arrays read, 3 written = 28 B/param, as Adam), on the step\'s thread pool and chunking; for SGD with momentum (20 B/param) it is scaled by 20/28.',
      'tfjs runs in production mode (tf.enableProdMode: no debug checks); its "install tfjs-node for speed" notice is silenced. tfjs-node (native TensorFlow) is not a contender.',
    ],
    cases: [],
    extras: {},
  };
  if (opts.contenders.some((c) => c.startsWith('tfjs'))) {
    const t = await loadTfjs();
    if (!t.error) Object.assign(results.versions, t.versions);
  }

  // --- plan and progress --------------------------------------------------------------------
  // Seconds per step of an entry at a size, for skips (--slow-cap) and the progress bar: the
  // last step time measured in this scenario and layout, plus a per-parameter slope (the
  // ns/param at the largest size >= 1e5 measured in this scenario, else a prior).
  const measuredNs = new Map(); // `${id}:${scenario}:${layout}` -> [size, ns/param, ms/step]
  let current = { scenario: 'adam', layout: 'one' };
  const estimate = (id, size) => {
    const key = id.startsWith('floor') ? 'floor' : id;
    const [priorNs, priorStepNs] = PRIOR[key] ?? [10, 1e4];
    const big = [measuredNs.get(`${key}:${current.scenario}:one`), measuredNs.get(`${key}:${current.scenario}:many`)]
      .filter((m) => m && m[0] >= 1e5)
      .sort((a, b) => b[0] - a[0])[0];
    const slope = big ? big[1] : priorNs;
    const m = measuredNs.get(`${key}:${current.scenario}:${current.layout}`);
    if (m) return m[2] / 1e3 + (slope * Math.max(0, size - m[0])) / 1e9;
    return (slope * size + (current.layout === 'many' ? priorStepNs * 50 : priorStepNs)) / 1e9;
  };
  const plan = [];
  for (const scenario of opts.scenarios) for (const layout of opts.layouts) for (const size of opts.sizes) plan.push({ scenario, layout, size });
  const ids = [...opts.contenders, 'floor-1t', 'floor-all'];
  let total = 0;
  for (const p of plan) {
    current = p;
    for (const id of ids) {
      const est = estimate(id, p.size);
      if (opts.slowCapMs > 0 && est * 1000 > opts.slowCapMs && !isHeadline(p.scenario, p.layout) && !id.startsWith('floor')) continue;
      total += expectedSeconds(id, p.size, opts, estimate);
    }
  }
  const extraUnits = { overhead: 4, norm: 3, clip: 4, datasync: 4 };
  for (const x of opts.extras) total += extraUnits[x] * 3;
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'bench {bar} {percentage}% | ETA {eta_formatted} | {task}', stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 40, fps: 5 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let done = 0;
  const advance = (s, task) => {
    done += s;
    if (bar) bar.update(Math.min(done, total * 0.999), task ? { task } : undefined);
  };
  const log = (line) => {
    if (bar) bar.update(done, { task: line });
    else io.stderr(`bench: ${line}\n`);
  };
  bar?.start(Math.ceil(total), 0, { task: 'starting' });

  try {
    // --- the size sweep -------------------------------------------------------------------------
    for (const p of plan) {
      current = p;
      const label = `${p.scenario} ${p.layout} ${fmtSize(p.size)}`;
      log(label);
      const kase = await runCase(p.scenario, p.layout, p.size, opts, env, estimate, (s) => advance(s));
      results.cases.push(kase);
      for (const r of kase.rows) {
        if (r.status === 'ok' || r.status === 'void') measuredNs.set(`${r.contender}:${p.scenario}:${p.layout}`, [p.size, r.ns.median, r.stepMs]);
      }
      const fl = kase.floors['floor-all'];
      measuredNs.set(`floor:${p.scenario}:${p.layout}`, [p.size, fl.raw.median, (fl.raw.median * p.size) / 1e6]);
      if (!bar) io.stderr(`bench: ${label}: ${kase.rows.filter((r) => r.status === 'ok').map((r) => `${r.contender} ${r.ns.median.toFixed(3)}`).join(', ')} ns/param\n`);
    }
    clearData();

    // --- extras ----------------------------------------------------------------------------------
    const extraSteps = {
      overhead: () => overheadExtra(opts, (u) => advance(u * 3)),
      norm: () => normExtra(opts, env, (u) => advance(u * 3)),
      clip: () => clipExtra(opts, env, (u) => advance(u * 3)),
      datasync: () => dataSyncExtra(opts, env, (u) => advance(u * 3)),
    };
    for (const x of opts.extras) {
      log(`extra: ${x}`);
      results.extras[x] = await extraSteps[x]();
    }
  } finally {
    bar?.stop();
  }
  results.loadAverage.end = loadAverage();
  results.durationS = (Date.now() - started) / 1000;
  const t = await loadTfjs();
  if (!t.error && t.features.wasm) results.versions.wasmFeatures = t.features.wasm;
  results.headline = headline(results);
  results.targets = targets(results);

  io.stdout(terminalReport(results));
  io.stdout(`\nload average start ${results.loadAverage.start.join(' ')}, end ${results.loadAverage.end.join(' ')}; ${results.durationS.toFixed(0)} s\n`);
  if (opts.write) {
    const outDir = resolve(opts.out ?? defaults.out ?? join(PACKAGE_ROOT, 'bench', 'results'));
    mkdirSync(outDir, { recursive: true });
    const base = opts.name ?? `cpu-${results.date.slice(0, 10)}${opts.quick ? '-quick' : ''}`;
    const files = { json: join(outDir, `${base}.json`), md: join(outDir, `${base}.md`), svg: join(outDir, `${base}.svg`) };
    writeAtomic(files.json, `${JSON.stringify(results, (k, v) => (v instanceof Float64Array || v instanceof Float32Array ? Array.from(v) : v), 1)}\n`);
    writeAtomic(files.md, markdownReport(results));
    writeAtomic(files.svg, await plotSvg(results));
    io.stdout(`wrote ${Object.values(files).map((f) => relative(process.cwd(), f) || f).join(', ')}\n`);
  }
  return results;
}

/** CLI entry: returns the exit code (1 with a one-line message for bad options or a failure). */
export async function main(argv = process.argv.slice(2), io = processIO) {
  try {
    if (argv.includes('--distributed')) {
      // The data-parallel benchmark (Open MPI): bench/lib/distributed.mjs.
      const { runDistributedBench } = await import('./lib/distributed.mjs');
      runDistributedBench(argv, io);
      return 0;
    }
    await runBench(argv, io);
    return 0;
  } catch (e) {
    io.stderr(`bench: error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.FUSED_OPTIM_DEBUG && e instanceof Error) io.stderr(`${e.stack}\n`);
    return 1;
  }
}

export { CONTENDERS };

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => {
    process.exitCode = code;
  });
}
