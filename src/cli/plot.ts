/**
 * `fused-optim plot <schedule.json|trace.json> --out file.svg`
 * @module
 */
import type { Command } from 'commander';
import { checkOutputPath, writeOutput, type CliCommand, type CliIO } from './common.js';
import { addRefineOptions, describeRefinement, readRefinementInput, refinementSvg, type RefineCliOptions } from './refinement.js';

interface PlotCommandOptions extends RefineCliOptions {
  out: string;
  title?: string;
}

export const plotCommand: CliCommand = {
  name: 'plot',
  register(program: Command, io: CliIO): void {
    const cmd = program
      .command('plot')
      .description(
        'plot raw and median-filtered norms and the refined schedule beside linear decay, from a schedule file ' +
          '(written by refine --out) or a trace (refined with the options below)',
      )
      .argument('<file.json>', 'a schedule file or a NormTrace file')
      .requiredOption('--out <file.svg>', 'the SVG to write')
      .option('--title <title>', 'figure title');
    addRefineOptions(cmd).action(async (input: string, opts: PlotCommandOptions) => {
      checkOutputPath(opts.out, '--out');
      const r = readRefinementInput(input, opts, 'any');
      await writeOutput(opts.out, await refinementSvg(r, opts.title), '--out');
      io.stdout(`${describeRefinement(r)}, plot -> ${opts.out}\n`);
    });
  },
};
