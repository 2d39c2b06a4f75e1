#!/usr/bin/env node
/**
 * The `fused-optim` command line.
 *
 *   fused-optim refine <trace.json> [--method sgd|adam] [--tau 0.1] [--peak lr] [--out schedule.json] [--plot out.svg]
 *   fused-optim plot <schedule.json|trace.json> --out file.svg
 *   fused-optim demo | bench | info
 *   fused-optim --version
 *
 * Adding a command: write `src/cli/<name>.ts` exporting a `CliCommand` (see
 * `src/cli/common.ts`) and append it to {@link COMMANDS}. Commands write through the
 * `CliIO` they are given and report bad input by throwing (`CliError`, `TypeError`,
 * `RangeError`...): {@link runCli} prints `fused-optim: error: <message>` on one line and
 * returns exit code 1 (commander's own usage errors keep commander's one-line message).
 * Set FUSED_OPTIM_DEBUG=1 to see stack traces.
 * @module
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './cli/bench.js';
import { CliError, processIO, type CliCommand, type CliIO } from './cli/common.js';
import { demoCommand } from './cli/demo.js';
import { infoCommand, packageVersion } from './cli/info.js';
import { plotCommand } from './cli/plot.js';
import { refineCommand } from './cli/refine.js';

export { CliError, type CliCommand, type CliIO } from './cli/common.js';

/** The registered subcommands, in help order. */
export const COMMANDS: CliCommand[] = [refineCommand, plotCommand, demoCommand, benchCommand, infoCommand];

/**
 * The commander program with every command of {@link COMMANDS}. It never calls
 * `process.exit`: errors are thrown (`exitOverride`) and all output goes through `io`.
 *
 * @example
 * ```ts
 * const program = buildProgram({ stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
 * await program.parseAsync(['refine', 'run.trace.json', '--out', 's.json'], { from: 'user' });
 * ```
 */
export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command('fused-optim')
    .description('fused optimizer steps and learning-rate schedule refinement')
    .version(packageVersion(), '-V, --version', 'print the fused-optim version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (str, write) => write(`fused-optim: ${oneLine(str)}\n`) })
    .showSuggestionAfterError(true);
  for (const c of COMMANDS) c.register(program, io);
  return program;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Puts the real file name in place of the temporary file of an atomic write
 * (`dir/.s.json.17282.0.fc80440e53c1.tmp` -> `dir/s.json`; see src/fs-atomic.ts), for errors that come from a write
 * the command does not wrap itself.
 */
export function withoutTempNames(s: string): string {
  return s.replace(/(^|[\\/'"\s])\.([^\\/'"\s]+?)\.\d+(?:\.\d+)?\.[0-9a-f]{12}\.tmp\b/g, '$1$2');
}

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit code:
 * 0 on success (and for --help/--version), 1 for bad input or a failed command.
 *
 * @example
 * ```ts
 * const code = await runCli(['plot', 'schedule.json', '--out', 'refine.svg']); // 0
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed its message
    const err = e as Error;
    const debug = !!process.env.FUSED_OPTIM_DEBUG;
    const msg = err instanceof Error ? err.message : String(e);
    io.stderr(`fused-optim: error: ${withoutTempNames(oneLine(msg))}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * Exits quietly when the reader of stdout goes away (`fused-optim refine t.json | head -1`):
 * the rest of the output has nowhere to go, which is not an error of this command.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}

if (isMain()) {
  quietOnClosedPipe();
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`fused-optim: error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
