/**
 * fused-optim/distributed: data-parallel steps over Open MPI. The MPI cases run the built
 * package (dist/) under `mpirun -np 2` and `-np 3` (test/distributed/cases.mjs: every rule
 * class, groups, sync and async, exact and inexact sums, clip, NaN on one rank, mismatched
 * layouts; ZeRO-1 sharding against the unsharded run, its consolidated checkpoint, its bytes per
 * rank; a rank that disposes early, mismatched operations, a stalled rank against
 * comm.timeoutMs); each run has a watchdog timeout, so a hang fails instead of stalling the suite.
 * Without mpirun these are skipped and the reason is printed. init()'s errors outside a
 * launcher are checked in a plain child process (test/distributed/single.mjs).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';

import { Adam, AdamW, SGD } from '../src/index.js';
import { ensureDist, root } from './support/dist.js';
import { expectRanksOk, mpiMissing, mpirun } from './support/mpi.js';

const missing = mpiMissing();
if (missing) console.log(`[distributed] skipping the MPI tests: ${missing}`);

beforeAll(() => ensureDist());

describe('comm and shard options without MPI', () => {
  it('refuse a value that is not a communicator, shard without comm, and comm in a group', () => {
    expect(() => new Adam([4], { comm: {} as never })).toThrow(TypeError);
    expect(() => new Adam([4], { comm: {} as never })).toThrow(/options\.comm/);
    expect(() => new AdamW([4], { shard: true })).toThrow(RangeError);
    expect(() => new AdamW([4], { shard: true })).toThrow(/without options\.comm.*for options\.shard/);
    expect(() => new SGD([4], { shard: 'yes' as never })).toThrow(TypeError);
    expect(() => new SGD([4], { broadcastParams: true })).toThrow(/options\.broadcastParams/);
    expect(() => new SGD([4], { broadcastParams: true })).toThrow(RangeError);
    expect(() => new SGD([{ params: [4], comm: {} } as never])).toThrow(/params\[0\]\.comm cannot be set per group/);
    const opt = new Adam([4]);
    expect(opt.comm).toBeNull();
    expect(opt.sharded).toBe(false);
    opt.dispose();
  });
});

describe('init() without a launcher (child process)', () => {
  it('throws typed errors: no launcher, bad options, missing or non-MPI library, worker thread; the NCCL probe reports unavailable with the reason', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'test', 'distributed', 'single.mjs')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, { ok: boolean; message: string }>;
    expect(Object.keys(out).sort()).toEqual(['bad backend', 'bad library', 'bad timeoutMs', 'missing libmpi', 'nccl probe', 'nccl uniqueId', 'no launcher', 'not an MPI library', 'timeoutMs not positive', 'unknown option', 'worker thread']);
    for (const [name, c] of Object.entries(out)) expect(c.ok, `${name}: ${c.message}`).toBe(true);
    console.log(`[distributed] NCCL here: ${out['nccl probe'].message}`);
  });
});

describe.skipIf(missing !== null)('data-parallel steps under mpirun', () => {
  for (const np of [2, 3, 4]) {
    it(`-np ${np}: every rule equal across ranks and to one process (and sharded to unsharded), async, clip, NaN on one rank skips everywhere, mismatched layouts refused; ZeRO-1 shard equal to unsharded, consolidated checkpoint round trip, state bytes per rank`, () => {
      const r = mpirun(np, [path.join(root, 'test', 'distributed', 'cases.mjs'), 'all'], 90_000);
      expectRanksOk(r, np, () => 230);
      const bytes = (r.results[0] as unknown as { sharded: { unshardedBytes: number; shardedBytes: number } }).sharded;
      console.log(`[distributed] -np ${np}: Adam over 1e6 parameters, native bytes per rank ${bytes.unshardedBytes} unsharded, ${bytes.shardedBytes} sharded`);
      expect(bytes.shardedBytes).toBeLessThan(bytes.unshardedBytes);
    });
  }

  it('examples/data-parallel.mjs: -np 2 and -np 4, and -np 3 with --shard (ZeRO-1), reach the final loss of one process with the same global batch', () => {
    const args = [path.join(root, 'examples', 'data-parallel.mjs'), '--steps', '40', '--train', '1024', '--hidden', '32'];
    const parse = (stdout: string): { size: number; finalLoss: number } => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, stdout).toBeDefined();
      return JSON.parse((line as string).slice('RESULT '.length)) as { size: number; finalLoss: number };
    };
    const one = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 90_000 });
    expect(one.status, one.stderr).toBe(0);
    const ref = parse(one.stdout);
    expect(ref.size).toBe(1);
    for (const [np, extra] of [[2, []], [4, []], [3, ['--shard']]] as const) {
      const r = mpirun(np, [...args, ...extra], 90_000);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const got = parse(r.stdout);
      expect(got.size).toBe(np);
      // Equal up to the order the shards' gradients are summed in (fp32 rounding, amplified a little by 40 Adam steps).
      expect(Math.abs(got.finalLoss - ref.finalLoss) / ref.finalLoss, `np ${np} ${extra.join(' ')}: ${got.finalLoss} vs ${ref.finalLoss}`).toBeLessThan(1e-5);
    }
  });

  for (const np of [2, 3, 4]) {
    it(`-np ${np}: a rank that disposes early (or closes the communicator) gives the others ERR_FUSED_OPTIM_RANK_LEFT, not a hang; mismatched operations and iterations give ERR_FUSED_OPTIM_MPI_MISMATCH and change nothing`, () => {
      const r = mpirun(np, [path.join(root, 'test', 'distributed', 'cases.mjs'), 'left'], 60_000);
      expectRanksOk(r, np, (rank) => (rank === np - 1 ? 10 : 26));
    });
  }

  it('a rank that never arrives: the others get ERR_FUSED_OPTIM_MPI_TIMEOUT after comm.timeoutMs, and mpirun ends the job', () => {
    const r = mpirun(2, [path.join(root, 'test', 'distributed', 'cases.mjs'), 'timeout'], 60_000);
    const why = `status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`;
    expect(r.signal, `watchdog: the run hung (${why})`).toBeNull();
    // Rank 0 exits without MPI_Finalize (MPI is unusable after a timeout): mpirun reports it and ends the job.
    expect(r.status, why).not.toBe(0);
    expect(r.results.map((x) => x.rank), why).toEqual([0]);
    expect(r.results[0].ok).toBe(true);
    expect(r.ms, why).toBeLessThan(30_000);
    console.log(`[distributed] timeout case: rank 0 failed after ${(r.results[0] as unknown as { timeoutMs: number }).timeoutMs.toFixed(0)} ms (timeoutMs 1500); mpirun ended in ${r.ms} ms`);
  });

  it('npm run bench -- --distributed (tiny sizes): a row per world size and size, with the ratios and bytes per rank; --out writes json and md', async () => {
    const { runDistributedBench } = (await import(pathToFileURL(path.join(root, 'bench', 'lib', 'distributed.mjs')).href)) as {
      runDistributedBench(argv: string[], io: { stdout(t: string): void }): { np: number; rows: { params: number; dataParallelStepMs: number; shardedStepMs: number; nativeBytes: { unsharded: number; sharded: number } }[] }[];
    };
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-dist-bench-'));
    let text = '';
    try {
      const all = runDistributedBench(['--distributed', '--sizes', '1000,20000', '--np', '1,2', '--repeats', '1', '--out', out], { stdout: (t) => (text += t) });
      expect(all.map((r) => r.np)).toEqual([1, 2]);
      for (const r of all) {
        expect(r.rows.map((x) => x.params)).toEqual([1000, 20000]);
        for (const x of r.rows) {
          expect(x.dataParallelStepMs).toBeGreaterThan(0);
          expect(x.shardedStepMs).toBeGreaterThan(0);
          if (r.np === 2) expect(x.nativeBytes.sharded).toBeLessThan(x.nativeBytes.unsharded);
        }
      }
      expect(text).toMatch(/\| np \| params \|/);
      const files = fs.readdirSync(out).sort();
      expect(files).toEqual([expect.stringMatching(/^distributed-\d{4}-\d\d-\d\d\.json$/), expect.stringMatching(/^distributed-\d{4}-\d\d-\d\d\.md$/)]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('a rank that never steps: the watchdog turns the hang into a failure and the job is torn down', () => {
    const r = mpirun(2, [path.join(root, 'test', 'distributed', 'cases.mjs'), 'hang'], 6_000);
    expect(r.signal ?? (r.error as NodeJS.ErrnoException | undefined)?.code).toBeTruthy();
    expect(r.results).toEqual([]);
    // No rank survives mpirun (give it a moment to reap them).
    const deadline = Date.now() + 5_000;
    let left = '';
    do {
      left = spawnSync('pgrep', ['-f', 'test/distributed/cases.mjs hang'], { encoding: 'utf8' }).stdout.trim();
    } while (left !== '' && Date.now() < deadline && !spawnSync('sleep', ['0.2']).error);
    expect(left, 'ranks left running after the watchdog').toBe('');
  });
});
