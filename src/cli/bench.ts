/**
 * `fused-optim bench [options]`: the CPU benchmark of `bench/run.mjs` (fused steps against
 * TensorFlow.js and a plain JS loop, beside the memory floor). The runner is plain JavaScript
 * shipped in the package's `bench/` folder and imported on demand, so the CLI loads it (and
 * TensorFlow.js) only for this command. Options are the runner's own: `fused-optim bench --help`.
 * Results go to `./fused-optim-bench/` unless `--out` says otherwise.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, type CliCommand, type CliIO } from './common.js';

interface BenchRunner {
  runBench(argv: string[], io: CliIO, defaults?: { out?: string }): Promise<unknown>;
}

/** bench/run.mjs relative to the package root (this file is dist/cli/bench.js). */
export const BENCH_RUNNER = new URL('../../bench/run.mjs', import.meta.url);

export const benchCommand: CliCommand = {
  name: 'bench',
  register(program: Command, io: CliIO): void {
    program
      .command('bench')
      .description(
        'benchmark the fused CPU steps against TensorFlow.js (cpu, wasm) and a JS loop beside the memory floor, ' +
          'checking every result; writes JSON, Markdown and SVG (fused-optim bench --help for the options)',
      )
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .argument('[options...]', 'benchmark options (see fused-optim bench --help)')
      .action(async (args: string[]) => {
        const path = fileURLToPath(BENCH_RUNNER);
        if (!existsSync(path)) throw new CliError(`fused-optim: the benchmark runner is missing (looked for ${path})`);
        const runner = (await import(BENCH_RUNNER.href)) as BenchRunner;
        await runner.runBench(args, io, { out: 'fused-optim-bench' });
      });
  },
};
