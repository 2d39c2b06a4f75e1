/**
 * `npm run bench -- --distributed [--sizes 1e6,3e6,1e7] [--np 1,2,4] [--repeats 7]`: the
 * data-parallel step under Open MPI. For each world size it runs `mpirun -np N` over this file
 * (in worker mode); every rank times, per arena size, a bare `MPI_Allreduce` of the fp32
 * gradient (sum), an AdamW step without communicator, and the data-parallel AdamW step
 * (all-reduce + fused step). Rank 0 prints the medians. On a machine with fewer cores than
 * ranks the ranks share cores (--oversubscribe): no scaling can show there, only the cost of
 * the all-reduce beside the step.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

async function worker(sizes, repeats) {
  const { init } = await import('../../dist/distributed/index.js');
  const { AdamW } = await import('../../dist/index.js');
  const comm = init();
  const rows = [];
  for (const n of sizes) {
    const buf = new Float32Array(n).fill(1e-3);
    const dp = new AdamW([n], { lr: 1e-4, comm });
    const solo = new AdamW([n], { lr: 1e-4 });
    dp.grads[0].fill(1e-3);
    solo.grads[0].fill(1e-3);
    const t = { allreduce: [], step: [], dpStep: [] };
    for (let r = 0; r < repeats + 1; r++) {
      comm.barrier();
      let t0 = performance.now();
      comm.allreduceSum(buf);
      const a = performance.now() - t0;
      t0 = performance.now();
      solo.step();
      const s = performance.now() - t0;
      comm.barrier();
      t0 = performance.now();
      dp.step();
      const d = performance.now() - t0;
      if (r > 0) {
        t.allreduce.push(a);
        t.step.push(s);
        t.dpStep.push(d);
      }
    }
    const bytes = n * 4;
    const ar = median(t.allreduce);
    rows.push({ params: n, bytes, allreduceMs: ar, msPerMB: ar / (bytes / 2 ** 20), stepMs: median(t.step), dataParallelStepMs: median(t.dpStep), ringBytesPerRank: (2 * (comm.size - 1) / comm.size) * bytes });
    dp.dispose();
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
  const sizes = list(argv, 'sizes', [1e6, 3e6, 1e7]);
  const nps = list(argv, 'np', [1, 2, 4]);
  const repeats = list(argv, 'repeats', [7])[0];
  const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
  const probe = spawnSync('mpirun', ['--version'], { encoding: 'utf8', env });
  if (probe.error) throw new Error(`the distributed benchmark needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev): ${probe.error.message}`);
  io.stdout(`AdamW, fp32; all-reduce = MPI_Allreduce(MPI_FLOAT, MPI_SUM) of the whole gradient; medians of ${repeats}\n`);
  io.stdout('np  params     MB      all-reduce ms  ms/MB   ring bytes/rank MB  step ms (1 process)  data-parallel step ms\n');
  const all = [];
  for (const np of nps) {
    const r = spawnSync('mpirun', ['--oversubscribe', '-np', String(np), process.execPath, self, '--worker', sizes.join(','), String(repeats)], { encoding: 'utf8', env, timeout: 600_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (r.status !== 0 || !line) throw new Error(`mpirun -np ${np} failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    const res = JSON.parse(line.slice(7));
    all.push(res);
    for (const x of res.rows) {
      io.stdout(
        `${String(np).padEnd(4)}${x.params.toExponential(0).padEnd(11)}${(x.bytes / 2 ** 20).toFixed(1).padEnd(8)}${x.allreduceMs.toFixed(2).padEnd(15)}${x.msPerMB.toFixed(3).padEnd(8)}${(x.ringBytesPerRank / 2 ** 20).toFixed(1).padEnd(20)}${x.stepMs.toFixed(2).padEnd(21)}${x.dataParallelStepMs.toFixed(2)}\n`,
      );
    }
  }
  io.stdout(`cores here: ${availableParallelism()}; with more ranks than cores the ranks time-share, so no scaling can show.\n`);
  return all;
}

if (process.argv[1] === self && process.argv[2] === '--worker') {
  await worker(process.argv[3].split(',').map(Number), Number(process.argv[4]));
}
