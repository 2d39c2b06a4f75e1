/**
 * Shared pieces of the `fused-optim` command line: the command-module contract, output
 * streams, option parsers and the user-error type.
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander';

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
