// The CPU side of a CUDA step, measured without a GPU: what the host spends per step before and
// around the CUDA calls, and whether it grows with the tensor count.
//
// A CUDA step on the host is: the JavaScript of AdamW.step() (schedule, packing the
// hyperparameters into a Float64Array, the lazy StepInfo, the trace bookkeeping), one N-API call,
// and in native/cuda/optimizer.cc building two argument blocks and 2-3 kernel launches plus one
// event record. The chunk table, the fold items of the finalize kernel and all buffers are built
// once, at construction: nothing in a step loops over tensors or chunks. The CUDA calls need a
// driver and are not measured here (no GPU).
//
// usage: node bench/gpu/host-path.mjs [--tensors 2000] [--steps 200000]
// (reads ../../dist: `npm run build:ts` first)
import * as lib from '../../dist/index.js';
import { OUT, loadNative } from '../../dist/native.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const TENSORS = opt('--tensors', 2000);
const STEPS = opt('--steps', 200000);

function logUniformSizes(n, lo, hi, seed) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => Math.max(1, Math.round(2 ** (lo + (hi - lo) * rand()))));
}

/**
 * ns per call of fn over `n` calls, the median of `reps` runs: { wall, cpu }. The CPU time of
 * the process (all its threads, GC included) is the steadier figure on a shared machine.
 */
function nsPerCall(fn, n, reps = 5) {
  for (let i = 0; i < Math.min(n, 20000); i++) fn(); // warm up (JIT)
  const wall = [];
  const cpu = [];
  for (let k = 0; k < reps; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    wall.push(Number(process.hrtime.bigint() - t0) / n);
    const c = process.cpuUsage(c0);
    cpu.push(((c.user + c.system) * 1000) / n);
  }
  const med = (a) => a.sort((x, y) => x - y)[(a.length - 1) >> 1];
  return { wall: med(wall), cpu: med(cpu) };
}

const addon = loadNative();
const RealOptimizer = addon.Optimizer;

// A native optimizer with CUDA's protocol (lazy outcomes, no host views) whose step does no work:
// AdamW.step() over it costs exactly the JavaScript side of a CUDA step plus a JS call.
class StubDeviceOptimizer {
  constructor(kind, lengths) {
    this.n = lengths.length;
    this.it = 0;
  }
  get outcomeIsLazy() { return true; }
  get device() { return 'cuda:0'; }
  get nativeBytes() { return 0; }
  step(hp, out) { this.it++; out.fill(NaN, 0, OUT.count); }
  readOutcome(out, iteration) { out.fill(0); out[OUT.l2] = 1; out[OUT.applied] = iteration + 1; return iteration < this.it; }
  readTrace() { return 0; }
  counters() { return Float64Array.of(this.it, this.it, 0); }
  writeSlot() {}
  dispose() {}
}

const rows = [];
const row = (what, t, note = '') => {
  rows.push({ what, ...t, note });
  const us = (x) => (x / 1000).toFixed(2).padStart(9);
  console.log(`${what.padEnd(62)} ${us(t.cpu)} µs CPU ${us(t.wall)} µs wall${note ? `  (${note})` : ''}`);
};

console.log(`Node ${process.version}, ${TENSORS} tensors of 2^8..2^16 (the GPU check's small-tensor case); ns per call, median of 5 runs\n`);
const sizes = logUniformSizes(TENSORS, 8, 16, 11);

// 1. The JavaScript of a step, through the public class, with a stub native step.
addon.Optimizer = StubDeviceOptimizer;
try {
  for (const [label, lens] of [['1 tensor', [1 << 20]], [`${TENSORS} tensors`, sizes]]) {
    const a = new lib.AdamW(lens, { lr: 1e-3, traceCapacity: 4096 });
    row(`AdamW.step(), JS side (stub native step), ${label}`, nsPerCall(() => a.step(), STEPS));
    const sched = lib.cosineDecay({ peak: 1e-3, steps: 1e9, warmup: 100 });
    const b = new lib.AdamW(lens, { lr: sched, maxGradNorm: 1 });
    row(`  ... with a cosine schedule and clipping, ${label}`, nsPerCall(() => b.step(), STEPS));
    const c = new lib.AdamW(lens, { lr: 1e-3 });
    row(`  ... and reading one lazy field (gradNormL2), ${label}`, nsPerCall(() => c.step().gradNormL2, STEPS));
  }
} finally {
  addon.Optimizer = RealOptimizer;
}

// 2. One N-API call into the real addon with a Float64Array argument (readOutcome of a step
//    that is not held: argument checks, the call, no work), as step() makes one.
{
  const n = new RealOptimizer(1, Float64Array.from(sizes), new Float64Array(sizes.length), 1, 'cpu', 16, 1); // 1: the Adam rule
  const buf = new Float64Array(OUT.count);
  row('one N-API call (readOutcome of no step), real addon', nsPerCall(() => n.readOutcome(buf, 1e9), STEPS));
  n.dispose();
}

// 3. What is per tensor or per chunk on the host: construction only (layout, chunk table,
//    finalize fold items; here with the CPU arena's allocation and zeroing).
{
  const t = nsPerCall(() => new lib.AdamW(sizes, { device: 'cpu' }).dispose(), 10, 3);
  const params = sizes.reduce((x, y) => x + y, 0);
  row(`construction, ${TENSORS} tensors (${(params / 1e6).toFixed(1)}M params), once`, t, 'layout + chunk table + CPU allocation; not per step');
}

console.log('\nPer step, nothing on the host depends on the tensor or chunk count: compare the two rows of 1.');
console.log('Not measured (no GPU here): cudaLaunchKernel x2-3 and cudaEventRecord x1 per step.');
export { rows };
