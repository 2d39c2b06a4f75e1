/**
 * `npm run bench -- --distributed [--sizes 1e6,3e6,1e7,3e7] [--np 1,2,4] [--repeats 7] [--out DIR]`: the
 * data-parallel step under Open MPI. For each world size it runs `mpirun -np N` over this file
 * (in worker mode); every rank times, per arena size: `comm.allreduceSum` of an fp32 array of
 * the arena's size, an AdamW step without communicator, the memory floor loop, the
 * data-parallel AdamW step (rendezvous + all-reduce + fused step) and the ZeRO-1 step; and
 * reads `nativeBytes` unsharded and sharded. Rank 0 prints the medians (a markdown table;
 * `--out DIR` also writes DIR/distributed-<date>.json and .md). On a machine with fewer cores
 * than ranks the ranks share cores (--oversubscribe): no scaling can show there, only the cost
 * of the collectives beside the step.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

async function worker(sizes, repeats) {
  const { init } = await import('../../dist/distributed/index.js');
  const { AdamW } = await import('../../dist/index.js');
  const { floorArrays, floorInstance } = await import('./floor.mjs');
  const comm = init();
  const rows = [];
  for (const n of sizes) {
    const buf = new Float32Array(n).fill(1e-3);
    const dp = new AdamW([n], { lr: 1e-4, comm });
    const sharded = new AdamW([n], { lr: 1e-4, comm, shard: true });
    const solo = new AdamW([n], { lr: 1e-4 });
    const floor = floorInstance(floorArrays(n), 0);
    for (const o of [dp, sharded, solo]) o.grads[0].fill(1e-3);
    const t = { allreduce: [], step: [], dpStep: [], shardedStep: [], floor: [] };
    const time = (key, fn, r) => {
      const t0 = performance.now();
      fn();
      if (r > 0) t[key].push(performance.now() - t0);
    };
    for (let r = 0; r < repeats + 1; r++) {
      comm.barrier();
      time('allreduce', () => comm.allreduceSum(buf), r);
      time('step', () => solo.step(), r);
      time('floor', () => floor.step(), r);
      comm.barrier();
      time('dpStep', () => dp.step(), r);
      comm.barrier();
      time('shardedStep', () => sharded.step(), r);
    }
    const bytes = n * 4;
    const ar = median(t.allreduce);
    rows.push({
      params: n,
      bytes,
      allreduceMs: ar,
      msPerMB: ar / (bytes / 2 ** 20),
      stepMs: median(t.step),
      floorMs: median(t.floor),
      dataParallelStepMs: median(t.dpStep),
      shardedStepMs: median(t.shardedStep),
      ringBytesPerRank: ((2 * (comm.size - 1)) / comm.size) * bytes,
      nativeBytes: { unsharded: dp.nativeBytes, sharded: sharded.nativeBytes },
    });
    dp.dispose();
    sharded.dispose();
    solo.dispose();
  }
  if (comm.rank === 0) console.log(`RESULT ${JSON.stringify({ np: comm.size, library: comm.library.path, rows })}`);
  comm.close();
}

function list(argv, name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? dflt : argv[i + 1].split(',').map(Number);
}

/** The driver: runs mpirun for each world size and prints a table. */
export function runDistributedBench(argv, io = { stdout: (t) => process.stdout.write(t) }) {
  const sizes = list(argv, 'sizes', [1e6, 3e6, 1e7, 3e7]);
  const nps = list(argv, 'np', [1, 2, 4]);
  const repeats = list(argv, 'repeats', [7])[0];
  const outAt = argv.indexOf('--out');
  const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
  const probe = spawnSync('mpirun', ['--version'], { encoding: 'utf8', env });
  if (probe.error) throw new Error(`the distributed benchmark needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev): ${probe.error.message}`);
  const lines = [];
  const say = (t) => {
    lines.push(t);
    io.stdout(t);
  };
  say(`AdamW, fp32, medians of ${repeats}. all-reduce: comm.allreduceSum of an fp32 array of the arena's size (rendezvous + MPI_Allreduce sum). step: one process, no communicator; floor: the 28 B/param memory loop on the same pool; data-parallel: rendezvous + all-reduce + step; ZeRO-1: rendezvous + reduce-scatter + step of the slice + all-gather. ×step and ×floor: data-parallel step time over the 1-process step and over the floor.\n\n`);
  say('| np | params | MB | all-reduce ms | ms/MB | ring MB/rank | step ms | floor ms | data-parallel ms | ×step | ×floor | ZeRO-1 ms | MB/rank unsharded | MB/rank ZeRO-1 |\n');
  say('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
  const all = [];
  for (const np of nps) {
    const r = spawnSync('mpirun', ['--oversubscribe', '-np', String(np), process.execPath, self, '--worker', sizes.join(','), String(repeats)], { encoding: 'utf8', env, timeout: 600_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (r.status !== 0 || !line) throw new Error(`mpirun -np ${np} failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    const res = JSON.parse(line.slice(7));
    all.push(res);
    const mb = (b) => (b / 2 ** 20).toFixed(1);
    for (const x of res.rows) {
      const cells = [np, x.params.toExponential(0), mb(x.bytes), x.allreduceMs.toFixed(2), x.msPerMB.toFixed(3), mb(x.ringBytesPerRank), x.stepMs.toFixed(2), x.floorMs.toFixed(2), x.dataParallelStepMs.toFixed(2), (x.dataParallelStepMs / x.stepMs).toFixed(2), (x.dataParallelStepMs / x.floorMs).toFixed(2), x.shardedStepMs.toFixed(2), mb(x.nativeBytes.unsharded), mb(x.nativeBytes.sharded)];
      say(`| ${cells.join(' | ')} |\n`);
    }
  }
  say(`\ncores here: ${availableParallelism()}; with more ranks than cores the ranks time-share, so no scaling can show: these rows show the cost of the collectives beside the step.\n`);
  if (outAt >= 0) {
    const dir = argv[outAt + 1];
    const base = `${dir}/distributed-${new Date().toISOString().slice(0, 10)}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${base}.json`, `${JSON.stringify({ date: new Date().toISOString(), cores: availableParallelism(), cpu: cpus()[0]?.model, repeats, results: all }, null, 1)}\n`);
    writeFileSync(`${base}.md`, `# Data-parallel AdamW under Open MPI (${new Date().toISOString().slice(0, 10)})\n\nCPU: ${cpus()[0]?.model}, ${availableParallelism()} cores, shared. \`npm run bench -- --distributed ${argv.filter((a) => a !== '--distributed').join(' ')}\`\n\n${lines.join('')}`);
    io.stdout(`wrote ${base}.json, ${base}.md\n`);
  }
  return all;
}

if (process.argv[1] === self && process.argv[2] === '--worker') {
  await worker(process.argv[3].split(',').map(Number), Number(process.argv[4]));
}
