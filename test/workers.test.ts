/**
 * Workers that end while an optimizer is busy in them (issue 13, item 2): worker.terminate(),
 * process.exit() in the worker and an uncaught error in the worker, 20 times each, with a
 * stepAsync in flight and without. Before the fix the in-flight cases aborted the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'", exit 134) in every run.
 * Each matrix cell runs in a child process (test/support/worker-exit.mjs) that must exit 0.
 * Also the process-wide thread pool that workers and the main thread share (item 4).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { beforeAll, describe, expect, test } from 'vitest';

import { ensureDist, root } from './support/dist.js';
import { ended, runChild } from './support/child.js';

beforeAll(ensureDist);

const ROUNDS = 20;
const expectedCode: Record<string, number> = { terminate: 1, exit: 0, throw: 1 };

describe('a worker ending with fused-optim busy in it', () => {
  for (const mode of ['terminate', 'exit', 'throw']) {
    for (const inflight of [true, false]) {
      test(`${mode}, ${inflight ? 'a stepAsync in flight' : 'no step in flight'}: ${ROUNDS} workers, the process survives`, () => {
        const r = runChild('worker-exit.mjs', [mode, inflight ? '1' : '0', String(ROUNDS)]);
        expect(r.signal, ended(r)).toBeNull();
        expect(r.status, ended(r)).toBe(0);
        expect(r.json).toMatchObject({ mode, inflight, exits: ROUNDS, codes: { [expectedCode[mode]]: ROUNDS } });
        if (mode === 'throw') expect(r.json?.errors).toBe(ROUNDS);
      });
    }
  }
});

describe('the thread pool', () => {
  // Issue 13, item 4: the pool only grew and every job woke every thread, so one step with
  // threads: 256 made every later step ~10-20x slower (1.7 → 30 ms here) for good.
  test('one step with threads: 256 does not slow the steps of another optimizer (ratio < 1.5)', () => {
    const runs: Record<string, unknown>[] = [];
    // Timing on a shared machine: a run may be disturbed; the regression it guards against
    // (a factor of 8-18, in every run) fails all three.
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = runChild('pool-timing.mjs', ['2', '256']);
      expect(r.status, ended(r)).toBe(0);
      runs.push(r.json!);
      if ((r.json!.ratio as number) < 1.5) break;
    }
    console.log(runs.map((j) => JSON.stringify(j)).join('\n'));
    const best = Math.min(...runs.map((j) => j.ratio as number));
    expect(best).toBeLessThan(1.5);
    const last = runs[runs.length - 1];
    expect(last.poolWorkers as number).toBeLessThanOrEqual((last.maxThreads as number) - 1);
  });

  test('the default thread count respects the CPU affinity mask (taskset), like os.availableParallelism()', (ctx) => {
    const probe = "import(process.argv[1]).then((m) => { const i = m.buildInfo(); console.log(JSON.stringify({ cpus: i.cpus, threads: i.threads, maxThreads: i.maxThreads, ap: require('node:os').availableParallelism() })); })";
    const dist = path.join(root, 'dist', 'index.js');
    const plain = spawnSync(process.execPath, ['-e', probe, dist], { encoding: 'utf8', env: { ...process.env, FUSED_OPTIM_THREADS: '' } });
    expect(plain.status, plain.stderr).toBe(0);
    const p = JSON.parse(plain.stdout) as { cpus: number; threads: number; maxThreads: number; ap: number };
    // At most what Node reports (a cgroup quota may lower it further), and the default.
    expect(p.cpus).toBeGreaterThanOrEqual(1);
    expect(p.cpus).toBeLessThanOrEqual(p.ap);
    expect(p.threads).toBe(p.cpus);
    expect(p.maxThreads).toBe(Math.min(256, Math.max(2, 2 * p.cpus)));
    const taskset = spawnSync('taskset', ['-c', '0', process.execPath, '-e', probe, dist], { encoding: 'utf8', env: { ...process.env, FUSED_OPTIM_THREADS: '' } });
    if (taskset.error) {
      console.log(`skipped the taskset half: taskset is not available (${taskset.error.message})`);
      ctx.skip();
    }
    expect(taskset.status, taskset.stderr).toBe(0);
    const t = JSON.parse(taskset.stdout) as { cpus: number; threads: number; ap: number };
    expect(t).toMatchObject({ cpus: 1, threads: 1, ap: 1 });
  });
});
