#!/usr/bin/env node
// The long fuzz run: `node scripts/fuzz.mjs [runs=10000] [seed]`.
// Runs test/fuzz.test.ts under vitest with FUZZ_RUNS and FUSED_OPTIM_TEST_SEED (the given seed to
// replay a failure, else a fresh one: the long run explores, while `npm test` uses a fixed seed) and
// prints the summary line (seed, configurations, worst relative error and where, timing).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = process.argv[2] ?? '10000';
const seed = process.argv[3] ?? String(Math.floor(Math.random() * 2 ** 32));
const env = { ...process.env, FUZZ_RUNS: runs, FUSED_OPTIM_TEST_SEED: seed };
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', 'test/fuzz.test.ts'], { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 28 });
const out = `${r.stdout}${r.stderr}`;
const summary = out.split('\n').find((l) => l.includes('FUZZ_SUMMARY'));
if (r.status !== 0) {
  process.stdout.write(out);
  console.error(`fuzz: FAILED (exit ${r.status})`);
  process.exit(1);
}
console.log(summary ? summary.slice(summary.indexOf('FUZZ_SUMMARY')) : out);
