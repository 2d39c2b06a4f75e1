/**
 * Shared pieces of the `fused-optim` command line: the command-module contract, output
 * streams, option parsers and the user-error type.
 * @module
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { writeFileAtomic } from '../fs-atomic.js';

/** Where a command writes. Tests pass collectors; the bin passes process.stdout/stderr. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's own streams. */
export const processIO: CliIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/**
 * One subcommand. To add a command (`bench`, `demo`, ...): write a module in `src/cli/`
 * exporting a `CliCommand`, and add it to `COMMANDS` in `src/cli.ts`. `register` adds the
 * subcommand to `program` (with `program.command(name)`, so it inherits the error handling)
 * and must write only through `io`. Throw {@link CliError} (or any TypeError/RangeError with
 * a clear message) for bad input: `runCli` prints it as one line and exits with code 1.
 */
export interface CliCommand {
  name: string;
  register(program: Command, io: CliIO): void;
}

/** A user error: printed as `fused-optim: error: <message>`, exit code 1, no stack. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Commander parser for a finite number, optionally bounded. */
export function numberOption(what: string, check: (v: number) => boolean = () => true) {
  return (value: string): number => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new InvalidArgumentError(`Expected ${what} but received '${value}'.`);
    return v;
  };
}

/** Commander parser for an integer in [min, max]. */
export function integerOption(what: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const v = Number(value);
    if (!/^\s*[+-]?\d+\s*$/.test(value) || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`Expected ${what} but received '${value}'.`);
    }
    return v;
  };
}

/** Formats a number for messages: up to 6 significant digits. */
export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/**
 * Fails early, before any work or output, when `file` cannot be written: its folder is
 * missing or not a folder, or `file` is a folder. `option` names the option in the message
 * (e.g. `--plot`).
 */
export function checkOutputPath(file: string, option: string): void {
  if (/[\\/]$/.test(file)) throw new CliError(`${option} ${file}: names a folder; give a file name`);
  const dir = dirname(resolve(file));
  let st: Stats | undefined;
  try {
    st = statSync(dir);
  } catch {
    throw new CliError(`${option} ${file}: the folder ${dir} does not exist (create it first)`);
  }
  if (!st.isDirectory()) throw new CliError(`${option} ${file}: ${dir} is not a folder`);
  try {
    if (statSync(file).isDirectory()) throw new CliError(`${option} ${file}: is a folder; give a file name`);
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
}

/** Why a write failed, in words that never name the temporary file of an atomic write. */
function writeProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'its folder does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return code ?? (e instanceof Error ? e.name : String(e));
  }
}

/**
 * Writes `file` atomically (a temporary file renamed into place). Errors name `file` and the
 * cause, never the temporary file: `--out x/s.json: cannot write (its folder does not exist)`.
 */
export async function writeOutput(file: string, data: string | Iterable<string>, option: string): Promise<void> {
  try {
    await writeFileAtomic(file, data);
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException | undefined)?.code !== 'string') throw e; // a TypeError/RangeError of the path itself
    throw new CliError(`${option} ${file}: cannot write (${writeProblem(e)})`);
  }
}
