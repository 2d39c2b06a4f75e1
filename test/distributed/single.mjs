// Run by test/distributed.test.ts in a plain node child (no MPI launcher): init()'s errors.
// Prints one JSON line: { name: { ok, message } } for each case.
import { Worker } from 'node:worker_threads';

import { DistributedError, init, ncclInfo } from '../../dist/distributed/index.js';
import { loadNative } from '../../dist/native.js';

const out = {};
function expectThrow(name, fn, test) {
  try {
    fn();
    out[name] = { ok: false, message: 'did not throw' };
  } catch (e) {
    out[name] = { ok: test(e), message: `${e.name}: ${e.message}${e.code ? ` [${e.code}]` : ''}` };
  }
}

for (const k of ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE', 'PMI_RANK']) delete process.env[k];
expectThrow('no launcher', () => init(), (e) => e instanceof DistributedError && e.code === 'ERR_FUSED_OPTIM_NO_LAUNCHER' && /mpirun/.test(e.message));
expectThrow('unknown option', () => init({ nodes: 2 }), (e) => e instanceof TypeError && /options\.nodes/.test(e.message));
expectThrow('bad backend', () => init({ backend: 'nccl' }), (e) => e instanceof RangeError && /options\.backend/.test(e.message) && /nccl/.test(e.message));
expectThrow('bad library', () => init({ library: 3 }), (e) => e instanceof TypeError && /options\.library/.test(e.message));
expectThrow('bad timeoutMs', () => init({ timeoutMs: '5s' }), (e) => e instanceof TypeError && /options\.timeoutMs/.test(e.message) && /5s/.test(e.message));
expectThrow('timeoutMs not positive', () => init({ timeoutMs: 0 }), (e) => e instanceof RangeError && /options\.timeoutMs/.test(e.message) && /received 0/.test(e.message));
// Pretend a launcher, but name libraries that cannot serve: nothing reaches MPI_Init.
process.env.OMPI_COMM_WORLD_SIZE = '1';
expectThrow('missing libmpi', () => init({ library: '/nonexistent/libmpi.so.40' }), (e) => e.code === 'ERR_FUSED_OPTIM_NO_MPI' && /nonexistent/.test(e.message) && /apt-get install/.test(e.message));
expectThrow('not an MPI library', () => init({ library: 'libc.so.6' }), (e) => e.code === 'ERR_FUSED_OPTIM_NO_MPI' && /not an MPI library/.test(e.message));
delete process.env.OMPI_COMM_WORLD_SIZE;

const w = new Worker(
  `import('${new URL('../../dist/distributed/index.js', import.meta.url).href}').then(({ init }) => {
     try { init(); require('node:worker_threads').parentPort.postMessage('no error'); }
     catch (e) { require('node:worker_threads').parentPort.postMessage(e.code + ': ' + e.message); }
   });`,
  { eval: true },
);
const msg = await new Promise((resolve, reject) => {
  w.once('message', resolve);
  w.once('error', reject);
});
await w.terminate();
out['worker thread'] = { ok: /^ERR_FUSED_OPTIM_MPI_THREAD: .*main thread/.test(msg), message: msg };
// NCCL: the probe answers either way; here (no libnccl) it says why.
const nccl = ncclInfo();
out['nccl probe'] = {
  ok: nccl.available ? typeof nccl.version === 'number' && nccl.reason === null : /libnccl\.so\.2/.test(nccl.reason) && nccl.version === null,
  message: JSON.stringify(nccl),
};
// nccl.uniqueId(): 128 bytes with NCCL, a clear error naming the probe's reason without it.
if (nccl.available) {
  let id = null;
  try {
    id = loadNative().nccl.uniqueId();
  } catch (e) {
    id = e;
  }
  out['nccl uniqueId'] = { ok: id instanceof Uint8Array && id.length === 128, message: String(id?.length ?? id) };
} else {
  expectThrow('nccl uniqueId', () => loadNative().nccl.uniqueId(), (e) => e.code === 'ERR_FUSED_OPTIM_NO_NCCL' && /NCCL is unavailable/.test(e.message) && e.message.includes(nccl.reason));
}
console.log(JSON.stringify(out));
