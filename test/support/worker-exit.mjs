// Workers that end while fused-optim is busy in them (issue 13, item 2), run by
// test/workers.test.ts in a child process: `node test/support/worker-exit.mjs <mode> <inflight>
// <rounds>`. mode: terminate (worker.terminate() from this thread), exit (process.exit() in the
// worker), throw (an uncaught error in the worker). inflight: 1 = a stepAsync is pending when
// the worker ends, 0 = none is. Prints one JSON line and exits 0; a crash of the addon aborts
// this whole process (exit 134 before the fix).
import { Worker } from 'node:worker_threads';

const dist = process.env.FUSED_OPTIM_DIST ?? new URL('../../dist/index.js', import.meta.url).href;
const [mode, inflightArg, roundsArg] = process.argv.slice(2);
const inflight = inflightArg === '1';
const rounds = Number(roundsArg ?? 20);
if (!['terminate', 'exit', 'throw'].includes(mode)) {
  console.error(`mode must be terminate, exit or throw; received ${mode}`);
  process.exit(2);
}

// The worker steps a 4M-parameter Adam (64 MiB arena, ~10 ms a step here) in a loop. With
// inflight, it reports 'ready' once a step is pending and then ends (or is terminated) while it
// runs; without, it awaits each step and ends between steps.
const body = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { Adam } = await import(workerData.dist);
  const o = new Adam([4 << 20], { threads: 2 });
  o.grads[0].fill(0.01);
  const end = () => {
    if (workerData.mode === 'exit') process.exit(0);
    if (workerData.mode === 'throw') throw new Error('uncaught in the worker');
  };
  if (workerData.inflight) {
    let pending = o.stepAsync();
    parentPort.postMessage('ready');
    if (workerData.mode !== 'terminate') setTimeout(end, 1); // the step above is still running
    for (;;) { await pending; pending = o.stepAsync(); }
  } else {
    await o.stepAsync();
    parentPort.postMessage('ready');
    if (workerData.mode !== 'terminate') { end(); return; }
    setInterval(() => {}, 1000); // idle until terminated
  }
})().catch((e) => { throw e; });
`;

let exits = 0;
let errors = 0;
const codes = {};
for (let r = 0; r < rounds; r++) {
  const w = new Worker(body, { eval: true, workerData: { dist, mode, inflight } });
  w.on('error', () => errors++);
  const exited = new Promise((resolve) => w.once('exit', resolve));
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('exit', (c) => reject(new Error(`worker exited with ${c} before it was ready`)));
  });
  if (mode === 'terminate') {
    if (!inflight) await new Promise((resolve) => setTimeout(resolve, 2));
    await w.terminate();
  }
  const code = await exited;
  codes[code] = (codes[code] ?? 0) + 1;
  exits++;
}
// The addon still works in this thread afterwards.
const { Adam } = await import(dist);
const o = new Adam([1000]);
o.grads[0].fill(1);
await o.stepAsync();
o.dispose();
console.log(JSON.stringify({ mode, inflight, rounds, exits, errors, codes }));
