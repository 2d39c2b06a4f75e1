// A stand-in for the addon that pretends a CUDA device exists, for dry runs of the GPU check on
// a machine without a GPU: `FO_MOCK=1 bash bench/gpu/run.sh OUT` runs run.sh, check.mjs and
// report.mjs end to end with it (it catches mistakes in the scripts before a GPU session spends
// its minutes on them; the timings mean nothing).
//
// 'cuda:N' optimizers are CPU optimizers behind the device protocol: no zero-copy views
// (slotBuffer is null), lazy outcomes kept in a ring of OUTCOME_RING steps and forgotten when
// the counters are set, out of memory (a CudaError with code cudaErrorMemoryAllocation) above
// MOCK_GIB of arenas alive at once. CUDA events are performance.now().
'use strict';
const path = require('node:path');

const real = require(process.env.FO_REAL_ADDON || path.join(__dirname, '..', '..', 'build', 'Release', 'fused_optim.node'));

const MOCK_GIB = 1;
const OUTCOME_RING = 1024;
let CudaErrorCtor = null;
let liveBytes = 0;

const OUT_COUNT = real.layout.out.count;

function Optimizer(rule, lengths, tensorGroup, groups, device, traceCapacity, threads, stream, streamPriority) {
  if (!device.startsWith('cuda')) return new real.Optimizer(rule, lengths, tensorGroup, groups, device, traceCapacity, threads, stream, streamPriority);
  const info = real.rules.find((r) => r.id === rule);
  const slots = 2 + (info ? info.slots.length : 2);
  const bytes = lengths.reduce((a, n) => a + n, 0) * 4 * slots;
  if (liveBytes + bytes > MOCK_GIB * 2 ** 30) {
    const msg = `fused-optim: CUDA error cudaErrorMemoryAllocation (out of memory) in cudaMalloc of ${bytes} bytes (mock device of ${MOCK_GIB} GiB)`;
    throw CudaErrorCtor ? new CudaErrorCtor(msg, 'cudaErrorMemoryAllocation') : new Error(msg);
  }
  const target = new real.Optimizer(rule, lengths, tensorGroup, groups, 'cpu', traceCapacity, threads);
  liveBytes += bytes;
  let held = bytes;
  const outcomes = new Map();
  return new Proxy(target, {
    get(t, key) {
      switch (key) {
        case 'device':
          return t.disposed ? null : device;
        case 'outcomeIsLazy':
          return true;
        case 'slotBuffer':
          return () => null;
        case 'step':
          return (hp, out) => {
            t.step(hp, out);
            const it = t.counters()[0] - 1;
            outcomes.set(it, Float64Array.from(out.subarray(0, OUT_COUNT)));
            outcomes.delete(it - OUTCOME_RING);
            out.fill(NaN, 0, OUT_COUNT);
          };
        case 'stepAsync':
          return async (hp, out) => {
            await t.stepAsync(hp, out);
            const it = t.counters()[0] - 1;
            outcomes.set(it, Float64Array.from(out.subarray(0, OUT_COUNT)));
            outcomes.delete(it - OUTCOME_RING);
            out.fill(NaN, 0, OUT_COUNT);
          };
        case 'readOutcome':
          return (out, iteration) => {
            if (t.disposed) throw new Error('fused-optim: this optimizer has been disposed');
            const o = outcomes.get(iteration);
            if (o) out.set(o);
            return Boolean(o);
          };
        case 'setCounters':
          return (iteration, applied) => {
            t.setCounters(iteration, applied);
            outcomes.clear();
          };
        case 'dispose':
          return () => {
            liveBytes -= held;
            held = 0;
            t.dispose();
          };
        default: {
          const v = Reflect.get(t, key);
          return typeof v === 'function' ? v.bind(t) : v;
        }
      }
    },
  });
}

module.exports = {
  ...real,
  Optimizer,
  setErrorClasses(ctor) {
    CudaErrorCtor = ctor;
    real.setErrorClasses(ctor);
  },
  buildInfo() {
    const b = real.buildInfo();
    return {
      ...b,
      cuda: { compiled: true, available: true, reason: null, runtimeVersion: 'mock', driverVersion: 'mock', devices: [`Mock GPU (sm_90, ${MOCK_GIB} GiB)`] },
    };
  },
  bench: {
    ...real.bench,
    cudaCopyTimes(device, bytes, iters) {
    const a = new Float32Array(bytes / 4).fill(1.25);
    const b = new Float32Array(bytes / 4);
    return Float64Array.from({ length: iters }, () => {
      const t0 = performance.now();
      b.set(a);
      return performance.now() - t0;
    });
    },
    cudaTimeCalls(device, iters, fn) {
      return Float64Array.from({ length: iters }, () => {
        const t0 = performance.now();
        fn();
        return performance.now() - t0;
      });
    },
  },
};
