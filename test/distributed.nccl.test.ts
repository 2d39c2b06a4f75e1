/**
 * fused-optim/distributed on CUDA arenas: the gradient all-reduce with NCCL (loaded at run
 * time). Three levels, each run where it can be:
 *  - everywhere: the addon's NCCL surface without a GPU: ncclInfo() says why NCCL is
 *    unavailable, nccl.uniqueId() throws a clear error, attachNccl refuses a CPU arena;
 *  - where Open MPI's mpirun exists: test/distributed/nccl-cases.mjs as a dry run on CPU arenas
 *    under `mpirun -np 2` (the same cases and references, the MPI all-reduce instead of NCCL);
 *    and, with a C compiler, a stand-in libnccl.so.2 (test/distributed/nccl-stub.c) under
 *    `mpirun -np 2`: the probe loads it, nccl.uniqueId() returns its bytes, rank 0's unique id
 *    reaches every rank intact, a failure on rank 0 is reported on every rank
 *    (test/distributed/nccl-stub-cases.mjs);
 *  - where mpirun exists, ncclInfo().available and at least 2 CUDA devices are usable: the
 *    real thing, `mpirun -np 2` with rank r on cuda:r (AdamW, different gradients per rank,
 *    against a float64 reference and one CPU process; bitwise equal across ranks).
 * What is skipped says why (printed, and vitest lists it as skipped). Each mpirun has a watchdog
 * timeout, so a hang (e.g. in ncclCommInitRank) fails instead of stalling the suite.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { buildInfo } from '../src/index.js';
import { ncclInfo } from '../src/distributed/index.js';
import { loadNative } from '../src/native.js';
import { ensureDist, root } from './support/dist.js';
import { expectRanksOk, mpiMissing, mpirun } from './support/mpi.js';

const nccl = ncclInfo();
const cuda = buildInfo().cuda;
const mpi = mpiMissing();
const deviceSkip =
  mpi ??
  (!nccl.available
    ? `NCCL is unavailable: ${nccl.reason}`
    : !cuda.available
      ? `CUDA is unavailable: ${cuda.reason}`
      : cuda.devices.length < 2
        ? `the NCCL test needs 2 CUDA devices, ${cuda.devices.length} found (${cuda.devices.join(', ')})`
        : null);
if (mpi) console.log(`[nccl] skipping the dry run: ${mpi}`);
if (deviceSkip) console.log(`[nccl] skipping the 2-GPU run: ${deviceSkip}`);

type NcclResult = { rank: number; size: number; ok: boolean; checks: number; device: string; plain: { vs64: number; vsCpu: number } };


beforeAll(() => ensureDist());

describe('NCCL surface without a usable NCCL', () => {
  it.skipIf(nccl.available)('ncclInfo() reports unavailable with the reason; nccl.uniqueId() throws a clear error', () => {
    expect(nccl.available).toBe(false);
    expect(nccl.version).toBeNull();
    expect(nccl.reason).toMatch(/libnccl\.so\.2/);
    const native = loadNative() as unknown as { nccl: { uniqueId(): Uint8Array; uniqueIdBytes: number } };
    expect(native.nccl.uniqueIdBytes).toBe(128);
    let err: (Error & { code?: string }) | null = null;
    try {
      native.nccl.uniqueId();
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err).toBeInstanceOf(Error);
    expect(err?.code).toBe('ERR_FUSED_OPTIM_NO_NCCL');
    expect(err?.message).toMatch(/NCCL is unavailable/);
    expect(err?.message).toContain(nccl.reason as string);
  });

  it('attachNccl refuses a CPU arena and a malformed unique id', () => {
    const addon = loadNative();
    const o = new addon.Optimizer(0, Float64Array.from([8]), new Float64Array(1), 1, 'cpu', 0, 1);
    try {
      expect(() => o.attachNccl(new Uint8Array(128), 0, 1)).toThrow(/NCCL.*CUDA arena|CUDA arena/);
      expect(() => o.attachNccl(new Uint8Array(127), 0, 1)).toThrow(RangeError);
      expect(() => o.attachNccl(new Float32Array(128) as never, 0, 1)).toThrow(TypeError);
      expect(() => o.attachNccl(new Uint8Array(128), 2, 2)).toThrow(RangeError);
    } finally {
      o.dispose();
    }
  });
});

describe.skipIf(mpi !== null)('test/distributed/nccl-cases.mjs, dry run on CPU arenas (mpirun -np 2)', () => {
  it('AdamW data parallel against the float64 reference and one CPU process, sync and async, clipped', () => {
    const r = mpirun<NcclResult>(2, [path.join(root, 'test', 'distributed', 'nccl-cases.mjs'), 'cpu'], 90_000);
    expectRanksOk(r, 2, () => 61);
    for (const x of r.results) expect(x.device).toBe('cpu');
  });
});

const ccMissing = spawnSync('cc', ['--version'], { encoding: 'utf8', timeout: 20_000 }).error ? 'no C compiler (cc) to build the stand-in libnccl.so.2' : null;
const stubSkip = mpi ?? ccMissing;
if (stubSkip) console.log(`[nccl] skipping the stand-in NCCL run: ${stubSkip}`);

describe.skipIf(stubSkip !== null)('a stand-in libnccl.so.2 (mpirun -np 2): loading, uniqueId, the id over MPI', () => {
  it('the probe loads it; rank 0 unique id reaches every rank byte for byte; a failure on rank 0 is reported everywhere', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-nccl-stub-'));
    try {
      const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', path.join(dir, 'libnccl.so.2'), path.join(root, 'test', 'distributed', 'nccl-stub.c')], { encoding: 'utf8', timeout: 60_000 });
      expect(cc.status, cc.stderr).toBe(0);
      const ld = [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
      const r = mpirun(2, [path.join(root, 'test', 'distributed', 'nccl-stub-cases.mjs')], 60_000, { LD_LIBRARY_PATH: ld });
      const why = `status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`;
      expect(r.signal, `watchdog: the run hung (${why})`).toBeNull();
      expect(r.status, why).toBe(0);
      expect(r.results.map((x) => x.rank).sort()).toEqual([0, 1]);
      for (const x of r.results) expect(x.ok && x.checks >= 7, why).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(deviceSkip !== null)('NCCL all-reduce on 2 CUDA devices (mpirun -np 2)', () => {
  it('AdamW on cuda:0 and cuda:1 with comm: equal across ranks, to the float64 reference of the averaged gradient, and to one CPU process', () => {
    const r = mpirun<NcclResult>(2, [path.join(root, 'test', 'distributed', 'nccl-cases.mjs'), 'cuda'], 180_000);
    expectRanksOk(r, 2, () => 61);
    expect(r.results.map((x) => x.device).sort()).toEqual(['cuda:0', 'cuda:1']);
    console.log(`[nccl] max |param - float64 reference| ${r.results[0].plain.vs64}, vs one CPU process ${r.results[0].plain.vsCpu}`);
  });
});
