/**
 * `fused-optim refine <trace.json> [--method] [--tau] [--peak] [--out schedule.json] [--plot out.svg]`
 * @module
 */
import type { Command } from 'commander';
import { checkOutputPath, writeOutput, type CliCommand, type CliIO } from './common.js';
import { addRefineOptions, describeRefinement, readRefinementInput, refinementSvg, scheduleFileChunks, type RefineCliOptions } from './refinement.js';

interface RefineCommandOptions extends RefineCliOptions {
  out?: string;
  plot?: string;
}

export const refineCommand: CliCommand = {
  name: 'refine',
  register(program: Command, io: CliIO): void {
    const cmd = program
      .command('refine')
      .description('refine a learning-rate schedule from the gradient norms in a NormTrace file')
      .argument('<trace.json>', 'a trace saved by NormTrace.save')
      .option('--out <schedule.json>', 'write the schedule file here (default: print it to stdout)')
      .option('--plot <out.svg>', 'also write the refinement figure (SVG)');
    addRefineOptions(cmd).action(async (tracePath: string, opts: RefineCommandOptions) => {
      // fail on an unwritable --out / --plot before refining or printing anything
      if (opts.out !== undefined) checkOutputPath(opts.out, '--out');
      if (opts.plot !== undefined) checkOutputPath(opts.plot, '--plot');
      const r = readRefinementInput(tracePath, opts, 'trace');
      // the figure first: when stdout carries the schedule, a failed plot must not leave it half-used
      const svg = opts.plot !== undefined ? await refinementSvg(r) : undefined;
      if (opts.plot !== undefined) await writeOutput(opts.plot, svg as string, '--plot');
      if (opts.out !== undefined) {
        await writeOutput(opts.out, scheduleFileChunks(r), '--out');
      } else {
        for (const chunk of scheduleFileChunks(r)) io.stdout(chunk);
      }
      // the summary goes to stderr when stdout carries the schedule
      const say = opts.out !== undefined ? io.stdout : io.stderr;
      say(`${describeRefinement(r)}${opts.out !== undefined ? ` -> ${opts.out}` : ''}${opts.plot !== undefined ? `, plot -> ${opts.plot}` : ''}\n`);
    });
  },
};
