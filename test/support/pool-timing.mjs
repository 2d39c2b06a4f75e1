// One step with many threads must not slow the steps that follow (issue 13, item 4). Run by
// test/workers.test.ts in a child process (its own thread pool): `node
// test/support/pool-timing.mjs [threadsOfA] [threadsOfB]`. Prints one JSON line: the median
// step time of an optimizer A (1M parameters, threadsOfA threads) over several batches before
// and after one step of an optimizer B with threadsOfB threads (then disposed), and the ratio.
const dist = process.env.FUSED_OPTIM_DIST ?? new URL('../../dist/index.js', import.meta.url).href;
const { Adam, buildInfo } = await import(dist);

const threadsA = Number(process.argv[2] ?? 2);
const threadsB = Number(process.argv[3] ?? 256);
const n = 1 << 20;

const a = new Adam([n], threadsA > 0 ? { threads: threadsA } : {});
a.grads[0].fill(0.01);

// The lower quartile over batches of the mean step time in a batch, in ms: other processes on
// a shared machine only ever add time, and the quartile ignores most of what they add.
const quartile = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 2];
function measure(batches = 16, steps = 10) {
  const t = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let s = 0; s < steps; s++) a.step();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6 / steps);
  }
  return quartile(t);
}

for (let i = 0; i < 30; i++) a.step(); // warm up: pages, pool, caches
const before = measure();
const b = new Adam([n], { threads: threadsB });
b.grads[0].fill(0.01);
b.step();
b.dispose();
const after = measure();
await new Promise((r) => setTimeout(r, 500));
const later = measure();
const info = buildInfo();
console.log(JSON.stringify({ threadsA, threadsB, cpus: info.cpus, maxThreads: info.maxThreads, poolWorkers: info.poolWorkers, beforeMs: before, afterMs: after, laterMs: later, ratio: after / before, ratioLater: later / before }));
a.dispose();
