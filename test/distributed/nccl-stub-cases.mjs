// Run by test/distributed.nccl.test.ts under `mpirun -np 2` with a stand-in libnccl.so.2
// (test/distributed/nccl-stub.c) on LD_LIBRARY_PATH, on a machine without a GPU: the NCCL
// bootstrap as far as it goes without a device. Prints `RESULT {json}` per rank.
import { AdamW, buildInfo } from '../../dist/index.js';
import { ncclInfo } from '../../dist/distributed/index.js';
import { attachNccl } from '../../dist/distributed/mpi.js';
import { loadNative } from '../../dist/native.js';
import { check, checks, comm, rank, size } from './harness.mjs';

function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

const info = ncclInfo();
check(info.available && info.reason === null && info.version === 21903, `the stand-in NCCL loads (${JSON.stringify(info)})`);
const id = loadNative().nccl.uniqueId();
check(id instanceof Uint8Array && id.length === 128 && id.every((b, i) => b === ((i * 37 + 11) & 255)), 'nccl.uniqueId(): the 128 bytes of ncclGetUniqueId');

// The unique id's trip: rank 0's bytes reach every rank through comm.allreduce; then each rank
// attaches with its rank and the world size (a recording stand-in for the native optimizer).
const calls = [];
attachNccl(comm, { attachNccl: (bytes, r, n) => calls.push({ bytes: Array.from(bytes), r, n }) }, 'test');
check(calls.length === 1 && calls[0].r === rank && calls[0].n === size, 'attachNccl: called once with this rank and the world size');
check(calls[0].bytes.every((b, i) => b === ((i * 37 + 11) & 255)), "attachNccl: every rank has rank 0's unique id, byte for byte");

// ncclGetUniqueId failing on rank 0: every rank throws (none waits in the all-reduce).
process.env.FO_NCCL_STUB_FAIL_RANK = '0';
const err = thrown(() => attachNccl(comm, { attachNccl: () => calls.push('unexpected') }, 'test'));
delete process.env.FO_NCCL_STUB_FAIL_RANK;
if (rank === 0) check(err?.code === 'ncclSystemError' && /ncclGetUniqueId/.test(err.message), `rank 0: ncclGetUniqueId's error (${err?.message})`);
else check(err?.code === 'ERR_FUSED_OPTIM_MPI' && /rank 0 could not make an NCCL unique id/.test(err.message), `rank ${rank}: told that rank 0 failed (${err?.message})`);
check(calls.length === 1, 'no attach after a failed unique id');

// A CPU arena refuses to attach; without a GPU a CUDA arena with comm gets past the NCCL check
// and is refused for CUDA itself (before any collective).
const native = new (loadNative().Optimizer)(0, Float64Array.from([8]), new Float64Array(1), 1, 'cpu', 0, 1);
check(/CUDA arena/.test(thrown(() => native.attachNccl(id, rank, size))?.message ?? ''), 'attachNccl on a CPU arena: refused');
native.dispose();
if (!buildInfo().cuda.available) {
  const e = thrown(() => new AdamW([4], { comm, device: 'cuda:0' }));
  check(e instanceof RangeError && /CUDA is unavailable/.test(e.message) && !/NCCL is unavailable/.test(e.message), `CUDA arena with comm, NCCL present, no GPU: refused for CUDA (${e?.message})`);
}

comm.barrier();
console.log(`RESULT ${JSON.stringify({ rank, size, ok: true, checks: checks.length })}`);
comm.close();
