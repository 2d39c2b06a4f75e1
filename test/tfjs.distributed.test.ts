/**
 * fused-optim/tfjs with fused-optim/distributed: FusedTfOptimizer's `comm` and `shard` options.
 * The option checks run here; the data-parallel runs use the built package (dist/) under
 * `mpirun -np 2` and `-np 3` (test/distributed/tfjs-cases.mjs: a small tfjs model trained with
 * minimize and with model.fit, each rank on its equal shard of every global batch, against one
 * process on the whole batch; ZeRO-1 sharding, its collective getWeights/setWeights). Every run
 * has a watchdog timeout, so a hang fails instead of stalling the suite. Without mpirun the MPI
 * cases are skipped and the reason is printed.
 */
import * as path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { FusedTfOptimizer } from '../src/tfjs/index.js';
import { ensureDist, root } from './support/dist.js';
import { expectRanksOk, mpiMissing, mpirun } from './support/mpi.js';
import { useTfCpuBackend } from './support/tfjs-model.js';

useTfCpuBackend();

const missing = mpiMissing();
if (missing) console.log(`[tfjs.distributed] skipping the MPI tests: ${missing}`);

interface Measured {
  maxAbsDiff: number;
  maxAbsWeight: number;
  relative: number;
}
interface RankResult {
  rank: number;
  size: number;
  ok: boolean;
  checks: number;
  tolerance: number;
  measured: { minimize: Measured; shard: Measured; fit: Measured; shardVsUnsharded: Measured; stateVsUnsharded?: number };
}

describe('FusedTfOptimizer comm and shard options without MPI', () => {
  it('refuse a value that is not a communicator, a shard that is not a boolean, and shard without comm', () => {
    expect(() => new FusedTfOptimizer({ comm: {} as never })).toThrow(TypeError);
    expect(() => new FusedTfOptimizer({ comm: {} as never })).toThrow(/communicator from fused-optim\/distributed's init\(\) for config\.comm but received/);
    expect(() => new FusedTfOptimizer({ comm: null as never })).toThrow(/config\.comm but received null/);
    expect(() => new FusedTfOptimizer({ shard: true })).toThrow(RangeError);
    expect(() => new FusedTfOptimizer({ shard: true })).toThrow(/Expected false without config\.comm .* for config\.shard but received true/);
    expect(() => new FusedTfOptimizer({ shard: 'yes' as never })).toThrow(TypeError);
    expect(() => new FusedTfOptimizer({ shard: 'yes' as never })).toThrow(/a boolean for config\.shard but received 'yes'/);
    // shard: false without comm is the default, accepted; neither is saved by getConfig()
    const opt = new FusedTfOptimizer({ optimizer: 'sgd', shard: false });
    expect(opt.getConfig()).not.toHaveProperty('comm');
    expect(opt.getConfig()).not.toHaveProperty('shard');
    opt.dispose();
  });
});

describe.skipIf(missing !== null)('FusedTfOptimizer data parallel under mpirun', () => {
  beforeAll(() => ensureDist());

  for (const np of [2, 3]) {
    it(`-np ${np}: minimize and model.fit on each rank's shard of the batch: weights bitwise identical on every rank, within 1e-5 (relative) of one process on the whole batch; shard: true the same, collective getWeights/setWeights resume bit for bit; broadcastWeights gives every rank the root's weights`, () => {
      const r = mpirun<RankResult>(np, [path.join(root, 'test', 'distributed', 'tfjs-cases.mjs')], 120_000);
      expectRanksOk(r, np, () => 34);
      for (const x of r.results) {
        for (const m of [x.measured.minimize, x.measured.shard, x.measured.fit]) expect(m.relative).toBeLessThan(1e-5);
      }
      const m = r.results[0].measured;
      console.log(
        `[tfjs.distributed] -np ${np}: max |w − w_one process| minimize ${m.minimize.maxAbsDiff}, shard ${m.shard.maxAbsDiff}, fit+shard+clip ${m.fit.maxAbsDiff} (largest weight ${m.minimize.maxAbsWeight}); sharded vs unsharded ${m.shardVsUnsharded.maxAbsDiff}`,
      );
    });
  }
});
