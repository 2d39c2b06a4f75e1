#!/usr/bin/env node
// Soak: many steps on small tensors with memory flat, and dispose() giving native memory back.
//
//   node --expose-gc scripts/soak.mjs [steps=100000] [--warmup=N] [--json]
//
// Phase 1 (steady state): SGD (momentum), Adam and AdamW over 6 small tensors each, a schedule,
// clipping and skipNonFinite, `steps` steps each, mixing step() with stepAsync() (1 in 10),
// setGrads every step, readParams/tensorNorms/currentLr every 100, stateDict every 1000, a
// checkpoint saveSync+loadSync every 10000, resetTrace every 10000 (a trace grows by 25 bytes
// per step by design: the soak keeps it bounded as a long run would, by saving and resetting).
// Plus the functional adamStep/sgdStep on caller arrays, `steps` calls each. RSS, V8 external
// memory and ArrayBuffer memory are sampled after a gc() at the end of the warm-up (25% of the
// steps, or --warmup=N) and at the end; growth must stay under 5 MB.
//
// Phase 2 (dispose frees): creates and disposes 40 (--dispose-rounds=N) Adam optimizers of 4M parameters (64 MB of
// arena each), touching the zero-copy views; RSS must come back to within 16 MB of where it
// started. Then the same without dispose(): dropped, collected by the GC, freed by the finalizer.
//
// Uses the built package (dist/): run `npx tsc -p tsconfig.build.json` first.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Adam, AdamW, SGD, adamStep, cosineDecay, sgdStep } from '../dist/index.js';

const steps = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const json = process.argv.includes('--json');
// V8 sizes its heap to the allocation rate during the first ~10k steps (heapTotal 13 → 38 MB):
// growth is measured from the end of the warm-up, 25% of the steps by default.
const warmupArg = process.argv.find((a) => a.startsWith('--warmup='));
const warmupSteps = warmupArg ? Number(warmupArg.slice(9)) : Math.floor(steps / 4);
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc scripts/soak.mjs');
  process.exit(2);
}
const MB = 1024 * 1024;
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
};
const mem = () => {
  const m = process.memoryUsage();
  return { rss: m.rss / MB, external: m.external / MB, arrayBuffers: m.arrayBuffers / MB, heapUsed: m.heapUsed / MB, heapTotal: m.heapTotal / MB };
};
const round = (x) => Math.round(x * 100) / 100;
const log = (...a) => {
  if (!json) console.log(...a);
};

// --- phase 1 ---------------------------------------------------------------------------------------
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-soak-'));
const lengths = [1, 7, 64, 129, 1000, 33];
const schedule = cosineDecay({ peak: 1e-3, steps, warmup: Math.floor(steps / 20) });
const common = { lr: schedule, maxGradNorm: 1, skipNonFinite: true, traceCapacity: 256 };
const opts = [
  new SGD(lengths, { ...common, momentum: 0.9, nesterov: true }),
  new Adam(lengths, common),
  new AdamW(lengths, common),
];
const grads = lengths.map((n) => new Float32Array(n));
const outs = lengths.map((n) => new Float32Array(n));
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const fp = new Float32Array(257);
const fg = new Float32Array(257);
const fm = new Float32Array(257);
const fv = new Float32Array(257);
const fb = new Float32Array(257);

let skipped = 0;
let warm = null;
const samples = [];
const started = Date.now();
for (let t = 0; t < steps; t++) {
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = rand();
  if (t % 997 === 0) grads[2][5] = NaN; // a skipped step now and then
  for (const o of opts) {
    for (let i = 0; i < lengths.length; i++) o.setGrads(i, grads[i]);
    if (t % 10 === 5) await o.stepAsync();
    else if (o.step().skipped) skipped++;
    if (t % 100 === 0) {
      o.readParams(4, outs[4]);
      o.tensorNorms();
      o.currentLr;
    }
    if (t % 1000 === 999) o.stateDict();
    if (t % 10_000 === 9_999) {
      const f = path.join(dir, `${o.kind}.ckpt`);
      o.saveSync(f);
      o.loadSync(f);
      o.resetTrace();
    }
  }
  // the functional API on caller-owned arrays
  for (let i = 0; i < fg.length; i++) fg[i] = rand();
  adamStep(fp, fg, fm, fv, { lr: 1e-3, step: t + 1 });
  sgdStep(fp, fg, fb, { lr: 1e-3, momentum: 0.9, step: t + 1 });
  if (t === warmupSteps) {
    await settle();
    warm = mem();
    log('after warm-up', warm);
  }
  if (t > 0 && t % Math.floor(steps / 10) === 0) {
    await settle();
    samples.push({ step: t, ...mem() });
    log('sample', JSON.stringify(samples.at(-1), (k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
  }
}
await settle();
const end = mem();
const stepSeconds = (Date.now() - started) / 1000;
for (const o of opts) o.dispose();
fs.rmSync(dir, { recursive: true, force: true });
const growth = {
  rss: round(end.rss - warm.rss),
  external: round(end.external - warm.external),
  arrayBuffers: round(end.arrayBuffers - warm.arrayBuffers),
  heapUsed: round(end.heapUsed - warm.heapUsed),
};
const maxRss = Math.max(...samples.map((s) => s.rss));
log(`phase 1: ${steps} steps × 3 optimizers + ${2 * steps} functional steps in ${stepSeconds}s; growth after warm-up`, growth);

// --- phase 2 ---------------------------------------------------------------------------------------
await settle();
const before = mem();
const N = 4 * MB; // 4M parameters: 4 slots × 16 MB
let peak = 0;
const roundsArg = process.argv.find((a) => a.startsWith('--dispose-rounds='));
const ROUNDS = roundsArg ? Number(roundsArg.slice(17)) : 40;
for (let k = 0; k < ROUNDS; k++) {
  const o = new Adam([N]);
  o.params[0].fill(1); // touch the pages
  o.grads[0].fill(0.5);
  o.step();
  peak = Math.max(peak, process.memoryUsage().rss / MB);
  o.dispose();
}
await settle();
const afterDispose = mem();
log(`phase 2: ${ROUNDS} × Adam(4M params, ${ROUNDS * 64} MB in all) created and disposed`, { before, peak: round(peak), after: afterDispose });

// without dispose(): the finalizer frees what the GC collects
for (let k = 0; k < 10; k++) {
  const o = new Adam([N]);
  o.params[0].fill(1);
}
await settle();
await new Promise((r) => setTimeout(r, 100));
await settle();
const afterGc = mem();
log('phase 2b: 10 × Adam(4M) dropped without dispose, after gc', afterGc);

const result = {
  steps,
  optimizers: 3,
  stepSeconds,
  skippedSteps: skipped,
  warm: Object.fromEntries(Object.entries(warm).map(([k, v]) => [k, round(v)])),
  end: Object.fromEntries(Object.entries(end).map(([k, v]) => [k, round(v)])),
  growth,
  maxSampledRss: round(maxRss),
  dispose: {
    rounds: ROUNDS,
    arenaMBEach: 64,
    rssBefore: round(before.rss),
    rssPeak: round(peak),
    rssAfter: round(afterDispose.rss),
    rssReturned: round(afterDispose.rss - before.rss),
    externalBefore: round(before.external),
    externalAfter: round(afterDispose.external),
  },
  gcWithoutDispose: { rssAfter: round(afterGc.rss), rssOverBefore: round(afterGc.rss - before.rss), external: round(afterGc.external) },
  ok: growth.rss < 5 && growth.external < 5 && afterDispose.rss - before.rss < 16 && afterDispose.external - before.external < 1,
};
console.log(json ? JSON.stringify(result) : result);
process.exit(result.ok ? 0 : 1);
