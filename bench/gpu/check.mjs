// The CUDA check of the GPU host (bench/gpu/README.md), as plain Node on dist/ (no node_modules there):
//   1. parity: every optimizer and option against the CPU backend (bench/gpu/parity.mjs),
//      max relative errors per case; device behaviour checks (lazy outcomes, OOM, errors);
//   2. the ceiling: device-to-device copy bandwidth, through the addon (cudaCopyTimes);
//   3. our fused steps timed with CUDA events (median of >= 20 after warm-up), with and without
//      norms + trace. An arena smaller than 256 MiB (about 4x the L2 cache of an H100/H200) is
//      rotated with copies of itself, so that a step never finds its inputs in L2 left there by
//      the previous step; larger arenas do not fit in L2 and run as they are.
// Writes OUT/ours.json; bench/gpu/torch_bench.py times PyTorch on the same cases and
// bench/gpu/report.mjs makes the table. Run through bench/gpu/run.sh.
//
// usage: node bench/gpu/check.mjs [--out DIR] [--skip-parity] [--cases REGEX] [--skip-bench] [--iters N] [--scale K]
//   --cases REGEX runs only the parity cases whose name matches (the device checks still run).
//   --scale K divides the benchmark sizes (and the rotation threshold) by 2^K (dry runs). Dry
//   run without a GPU, the whole check: FO_MOCK=1 bash bench/gpu/run.sh /tmp/dry
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import * as lib from '../../dist/index.js';
import { HP, SLOT, hpLength, loadNative } from '../../dist/native.js';
import { packHeader, resolveGradient } from '../../dist/optim/options.js';
import { ADAMW, SGD_RULE, packGroup } from '../../dist/optim/rules/index.js';
import { CASES, fillNormal, mulberry32, runCase, runDeviceChecks } from './parity.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const outDir = value('--out', null);
const ITERS = Number(value('--iters', '30'));
const SCALE = 2 ** Number(value('--scale', '0'));
const WARMUP = 5;
const DEVICE = 0;
// Arenas smaller than this are rotated: about 4x the L2 cache of an H100/H200 (50-60 MB).
const ROTATE_BYTES = (256 * 2 ** 20) / SCALE;

const median = (xs) => {
  const s = Float64Array.from(xs).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
const log = (...a) => console.log(...a);

const info = lib.buildInfo();
log(`addon ${info.addon}`);
log(`buildInfo().cuda = ${JSON.stringify(info.cuda)}`);
if (!info.cuda.available) {
  log(`CUDA is unavailable: ${info.cuda.reason}`);
  process.exit(2);
}
const addon = loadNative();
const result = { date: new Date().toISOString(), buildInfo: info, node: process.version, parity: [], checks: [], copy: null, bench: [] };
let failed = 0;

function save() {
  if (!outDir) return;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'ours.json'), JSON.stringify(result, null, 1));
}

// --- 1. parity ------------------------------------------------------------------------------
if (!flag('--skip-parity')) {
  const seed = Number(process.env.FO_SEED ?? Math.floor(Math.random() * 2 ** 31));
  log(`\n== parity: CUDA vs CPU (seed ${seed}; FO_SEED=${seed} reproduces)`);
  log('ok?  max rel: norms      tensor     params     state      | mismatched params/state | case');
  const only = value('--cases', null);
  for (const c of only === null ? CASES : CASES.filter((x) => new RegExp(only).test(x.name))) {
    const t0 = performance.now();
    let r;
    try {
      r = await runCase(lib, c, { seed });
    } catch (e) {
      r = { case: c.name, ok: false, failures: [`threw ${e.name}: ${e.message}`], maxRelNorm: NaN, maxRelTensorNorm: NaN, maxRelParams: NaN, maxRelState: NaN };
    }
    r.seconds = (performance.now() - t0) / 1000;
    result.parity.push(r);
    if (!r.ok) failed++;
    const e = (x) => (Number.isFinite(x) ? x.toExponential(2).padEnd(10) : String(x).padEnd(10));
    log(
      `${r.ok ? 'ok  ' : 'FAIL'}          ${e(r.maxRelNorm)} ${e(r.maxRelTensorNorm)} ${e(r.maxRelParams)} ${e(r.maxRelState)} | ` +
        `${String(r.mismatchedParams ?? '-').padStart(8)} / ${String(r.mismatchedState ?? '-').padEnd(8)}     | ${c.name} [${r.expect ?? ''}]`,
    );
    for (const f of r.failures) log(`       ${f}`);
  }
  log('\n== device behaviour');
  result.checks = await runDeviceChecks(lib);
  for (const c of result.checks) {
    if (!c.ok) failed++;
    log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
  }
  save();
}

// --- 2. copy bandwidth ------------------------------------------------------------------------
log('\n== device-to-device copy bandwidth (bytes read + written)');
{
  const rows = [];
  for (const mib of [256, 1024, 4096]) {
    const bytes = Math.max(2 ** 20, (mib * 2 ** 20) / SCALE);
    const ms = median(addon.bench.cudaCopyTimes(DEVICE, bytes, Math.max(20, ITERS)));
    const gbps = (2 * bytes) / (ms * 1e-3) / 1e9;
    rows.push({ bytes, medianMs: ms, GBps: gbps });
    log(`${String(bytes / 2 ** 20).padStart(5)} MiB: ${fmt(ms)} ms  ${fmt(gbps, 0)} GB/s`);
  }
  result.copy = { rows, ceilingGBps: Math.max(...rows.map((r) => r.GBps)) };
  log(`ceiling: ${fmt(result.copy.ceilingGBps, 0)} GB/s`);
  save();
}

// --- 3. our fused steps -----------------------------------------------------------------------
function logUniformSizes(n, lo, hi, seed) {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Math.max(1, Math.round(2 ** (lo + (hi - lo) * rand()))));
}

// Bytes a one-pass step must move per parameter (fp32): AdamW reads p, g, m, v and writes p, m,
// v; SGD momentum reads p, g, buf and writes p, buf; SGD reads p, g and writes p. Clipping (two
// passes) reads the gradient once more: +4 (bytesPerParam below).
const RULES = {
  adamw: { spec: ADAMW, bytes: 28, torch: 'AdamW' },
  sgdm: { spec: SGD_RULE, bytes: 20, torch: 'SGD momentum' },
  sgd: { spec: SGD_RULE, bytes: 12, torch: 'SGD' },
};

const BENCH_FULL = [
  { name: 'AdamW 2^28', rule: 'adamw', sizes: [2 ** 28], plain: true },
  { name: 'AdamW 2^30', rule: 'adamw', sizes: [2 ** 30], plain: true },
  { name: 'AdamW 2000 tensors 2^8..2^16', rule: 'adamw', sizes: logUniformSizes(2000, 8, 16, 11), plain: true, api: true },
  { name: 'AdamW 2000 tensors 2^10..2^21', rule: 'adamw', sizes: logUniformSizes(2000, 10, 21, 12), plain: true },
  { name: 'AdamW 2^20 (rotated)', rule: 'adamw', sizes: [2 ** 20] },
  { name: 'AdamW 2^28 clip (two passes)', rule: 'adamw', sizes: [2 ** 28], clip: 1.0 },
  { name: 'SGD momentum 2^28', rule: 'sgdm', sizes: [2 ** 28] },
  { name: 'SGD 2^28', rule: 'sgd', sizes: [2 ** 28] },
];
const BENCH = BENCH_FULL.map((c) => ({ ...c, sizes: c.sizes.map((n) => Math.max(1, Math.round(n / SCALE))) }));

function hyper(c, extraFlags = 0) {
  const hp = new Float64Array(hpLength(1));
  packHeader(hp, resolveGradient({ maxGradNorm: c.clip ?? null }, 'case'), 1, 0);
  const spec = RULES[c.rule].spec;
  packGroup(spec, { ...spec.defaults, ...(c.rule === 'sgdm' && { momentum: 0.9 }) }, 1e-3, hp, HP.header);
  hp[HP.flags] += extraFlags;
  return hp;
}

// Random host data: a 2^22 pool tiled up to the largest tensor (never zeros).
let host = null;
function hostData(n) {
  if (!host || host.length < n) {
    host = new Float32Array(Math.max(n, 2 ** 22) + 2 ** 21);
    fillNormal(mulberry32(7), host.subarray(0, 2 ** 22), 1);
    for (let filled = 2 ** 22; filled < host.length; filled *= 2) host.copyWithin(filled, 0, Math.min(filled, host.length - filled));
  }
  return host;
}

function makeArena(c) {
  const n = c.sizes.reduce((a, b) => a + b, 0);
  const arena = new addon.Optimizer(RULES[c.rule].spec.native.code, Float64Array.from(c.sizes), new Float64Array(c.sizes.length), 1, `cuda:${DEVICE}`, 4096, 0);
  const data = hostData(Math.max(...c.sizes));
  let off = 0;
  c.sizes.forEach((len, i) => {
    off = (off + 7919) % 2 ** 20;
    arena.writeSlot(SLOT.params, i, data.subarray(off, off + len));
    arena.writeSlot(SLOT.grads, i, data.subarray(off + 17, off + 17 + len));
  });
  return { arena, n };
}

function timeSteps(arenas, hp) {
  let k = 0;
  const out = new Float64Array(8);
  const step = () => arenas[k++ % arenas.length].step(hp, out);
  addon.bench.cudaTimeCalls(DEVICE, WARMUP, step);
  return median(addon.bench.cudaTimeCalls(DEVICE, ITERS, step));
}

if (!flag('--skip-bench')) {
  log(`\n== our fused steps (median of ${ITERS} after ${WARMUP} warm-up, CUDA events)`);
  const ceiling = result.copy.ceilingGBps;
  for (const c of BENCH) {
    const t0 = performance.now();
    const rule = RULES[c.rule];
    const params = c.sizes.reduce((a, b) => a + b, 0);
    const slots = c.rule === 'adamw' ? 4 : c.rule === 'sgdm' ? 3 : 3;
    const arenaBytes = params * 4 * slots;
    const rotate = Math.max(1, Math.ceil(ROTATE_BYTES / arenaBytes));
    const bytesPerParam = rule.bytes + (c.clip ? 4 : 0);
    const row = { name: c.name, rule: c.rule, torch: rule.torch, sizes: c.sizes, clip: c.clip ?? null, params, tensors: c.sizes.length, bytesPerParam, rotate };
    const arenas = [];
    try {
      for (let r = 0; r < rotate; r++) arenas.push(makeArena(c).arena);
      row.oursMs = timeSteps(arenas, hyper(c));
      if (c.plain) {
        row.plainMs = timeSteps(arenas, hyper(c, addon.bench.FLAG_NO_REDUCE));
        row.normTraceExtraPct = (100 * (row.oursMs - row.plainMs)) / row.plainMs;
      }
      // A step's outcome must be readable and sane after all that.
      const out = new Float64Array(8);
      const last = arenas[0];
      last.step(hyper(c), out);
      const o = new Float64Array(8);
      if (!last.readOutcome(o, last.counters()[0] - 1) || !(o[0] > 0)) throw new Error(`bad outcome after timing: ${Array.from(o)}`);
    } catch (e) {
      row.error = `${e.name}: ${e.message}`;
      failed++;
    } finally {
      for (const a of arenas) a.dispose();
    }
    if (c.api && !row.error) {
      // The same step through the public class: schedule lookup, packing, lazy StepInfo.
      const Ctor = lib.AdamW;
      const opts = [];
      try {
        for (let r = 0; r < rotate; r++) {
          const opt = new Ctor(c.sizes, { device: `cuda:${DEVICE}` });
          const data = hostData(Math.max(...c.sizes));
          c.sizes.forEach((len, i) => opt.setGrads(i, data.subarray(i, i + len)));
          opts.push(opt);
        }
        let k = 0;
        const step = () => opts[k++ % opts.length].step();
        addon.bench.cudaTimeCalls(DEVICE, WARMUP, step);
        row.apiMs = median(addon.bench.cudaTimeCalls(DEVICE, ITERS, step));
      } catch (e) {
        row.error = `api: ${e.name}: ${e.message}`;
        failed++;
      } finally {
        for (const o of opts) o.dispose();
      }
    }
    if (row.oursMs) {
      row.oursGBps = (params * bytesPerParam) / (row.oursMs * 1e-3) / 1e9;
      row.oursPctCopy = (100 * row.oursGBps) / ceiling;
    }
    row.seconds = (performance.now() - t0) / 1000;
    result.bench.push(row);
    save();
    log(
      `${c.name.padEnd(32)} ${fmt(row.oursMs)} ms  ${fmt(row.oursPctCopy, 1)}% of copy` +
        (row.plainMs ? `  | without norms+trace ${fmt(row.plainMs)} ms (norms+trace +${fmt(row.normTraceExtraPct, 2)}%)` : '') +
        (row.apiMs ? `  | via AdamW.step() ${fmt(row.apiMs)} ms` : '') +
        (rotate > 1 ? `  | ${rotate} arenas rotated` : '') +
        (row.error ? `  ERROR ${row.error}` : ''),
    );
  }
}

result.failed = failed;
save();
log(`\n${failed === 0 ? 'all CUDA checks passed' : `${failed} CUDA check(s) FAILED`}`);
process.exit(failed === 0 ? 0 : 1);
