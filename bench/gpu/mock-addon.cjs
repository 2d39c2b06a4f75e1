// A stand-in for the addon that pretends a CUDA device exists, for dry runs of check.mjs and
// report.mjs on a machine without a GPU (it catches mistakes in the scripts before a GPU
// session spends its time on them; the numbers mean nothing):
//   FUSED_OPTIM_BINARY=bench/gpu/mock-addon.cjs node bench/gpu/check.mjs --scale 8 --out /tmp/x
// 'cuda:N' optimizers are CPU optimizers; CUDA events are performance.now(); the device
// behaviour checks fail by design (nothing is lazy or out of memory on the CPU).
'use strict';
const path = require('node:path');

const real = require(process.env.FO_REAL_ADDON || path.join(__dirname, '..', '..', 'build', 'Release', 'fused_optim.node'));

function Optimizer(kind, lengths, device, traceCapacity, threads) {
  const target = new real.Optimizer(kind, lengths, device.startsWith('cuda') ? 'cpu' : device, traceCapacity, threads);
  const outcomes = new Map();
  return new Proxy(target, {
    get(t, key) {
      if (key === 'step') {
        return (hp, out) => {
          t.step(hp, out);
          outcomes.set(t.counters()[0] - 1, Float64Array.from(out.subarray(0, real.OUT_COUNT)));
        };
      }
      if (key === 'readOutcome') {
        return (out, iteration) => {
          const o = outcomes.get(iteration);
          if (o) out.set(o);
          return Boolean(o);
        };
      }
      if (key === 'outcomeIsLazy') return false;
      const v = Reflect.get(t, key);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

module.exports = {
  ...real,
  Optimizer,
  buildInfo() {
    const b = real.buildInfo();
    return {
      ...b,
      cuda: { compiled: true, available: true, reason: null, runtimeVersion: 'mock', driverVersion: 'mock', devices: ['Mock GPU (sm_90, 1 GiB)'] },
    };
  },
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
};
