/**
 * What `refine` and `plot` share: refining a trace with command-line options, the schedule
 * file format, and the refinement figure.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { chartsSvg, type LineChartOptions } from '../plot/index.js';
import type { MedianBoundary, RefineMethod } from '../refine/index.js';
import { NORM_TRACE_FORMAT, NormTrace, OPTIMIZER_KINDS, type OptimizerKind, type SkippedPolicy } from '../trace.js';
import * as v from '../validate.js';
import { CliError, fmt, integerOption, numberOption } from './common.js';

/** The `format` field of a schedule file. */
export const SCHEDULE_FORMAT = 'fused-optim/schedule';
/** The schedule-file version written, and the newest read. */
export const SCHEDULE_VERSION = 1;

export type Solver = 'closed-form' | 'bound';

/** Options shared by `refine` and `plot` (as commander parses them). */
export interface RefineCliOptions {
  method?: RefineMethod;
  norm?: 'l2' | 'l1';
  tau?: number;
  peak?: number;
  skipped?: SkippedPolicy;
  solver?: Solver;
  iterations?: number;
  boundary?: MedianBoundary;
}

/** A refined schedule with what it came from, as written to / read from a schedule file. */
export interface Refinement {
  source: string;
  kind?: OptimizerKind;
  method: RefineMethod;
  norm?: 'l2' | 'l1';
  solver: Solver;
  tau: number;
  peak: number;
  width: number;
  skipped?: SkippedPolicy;
  skippedCount?: number;
  schedule: Float64Array;
  /** The norms refined from (after the skipped-step policy), when known. */
  norms?: Float64Array;
  smoothed?: Float64Array;
  /** Bound solver only. */
  bound?: number;
  iterations?: number;
}

/** Adds the refinement options to a command. */
export function addRefineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--method <method>', 'weights: sgd (L2 norms, ĝ⁻²) or adam (L1 norms, ĝ⁻¹); default from the trace kind').choices(['sgd', 'adam']))
    .addOption(new Option('--norm <norm>', "norms to use; default the method's (sgd: l2, adam: l1)").choices(['l2', 'l1']))
    .option('--tau <tau>', 'median-filter width as a fraction of the run, in [0, 1]', numberOption('a number in [0, 1] for --tau', (v) => v >= 0 && v <= 1), 0.1)
    .option('--peak <lr>', "largest learning rate of the schedule (default: the largest learning rate the trace recorded, else 1)", numberOption('a number > 0 for --peak', (v) => v > 0))
    .addOption(new Option('--skipped <policy>', 'skipped steps: fill (take the last applied norm) or drop').choices(['fill', 'drop']).default('fill'))
    .addOption(new Option('--solver <solver>', "closed-form (the authors' formula) or bound (minimise the last-iterate bound)").choices(['closed-form', 'bound']).default('closed-form'))
    .option('--iterations <n>', 'most L-BFGS iterations (bound solver)', integerOption('an integer >= 0 for --iterations', 0), 2000)
    .addOption(new Option('--boundary <mode>', 'median-filter boundary').choices(['authors', 'nearest', 'reflect', 'mirror']).default('authors'));
}

/**
 * The default peak of a refinement from a trace: the largest finite, positive learning rate
 * recorded on an applied (not skipped) step, or undefined when the trace records none (all NaN).
 */
export function recordedPeak(trace: NormTrace): number | undefined {
  const lr = trace.lr;
  const skipped = trace.skipped;
  let peak = 0;
  for (let t = 0; t < lr.length; t++) if (!skipped[t] && Number.isFinite(lr[t]) && lr[t] > peak) peak = lr[t];
  return peak > 0 ? peak : undefined;
}

/** Refines a trace with command-line options; without `--peak`, the peak is {@link recordedPeak} (else 1). */
export function refineTrace(trace: NormTrace, o: RefineCliOptions, source: string): Refinement {
  const peak = o.peak ?? recordedPeak(trace) ?? 1;
  const common = {
    ...(o.method !== undefined && { method: o.method }),
    ...(o.norm !== undefined && { norm: o.norm }),
    ...(o.skipped !== undefined && { skipped: o.skipped }),
    ...(o.tau !== undefined && { tau: o.tau }),
    peak,
    ...(o.boundary !== undefined && { boundary: o.boundary }),
  };
  if (trace.length < 2) throw new CliError(`${source}: a trace needs at least 2 steps to refine (it has ${trace.length})`);
  if (o.solver === 'bound') {
    const r = trace.refineByBound({ ...common, ...(o.iterations !== undefined && { iterations: o.iterations }) });
    return {
      source,
      kind: trace.kind,
      method: r.input.method,
      norm: r.input.norm,
      solver: 'bound',
      tau: o.tau ?? 0.1,
      peak,
      width: r.width,
      skipped: r.input.skipped,
      skippedCount: r.input.skippedCount,
      schedule: r.schedule,
      norms: r.input.norms,
      smoothed: r.smoothed,
      bound: r.bound,
      iterations: r.iterations,
    };
  }
  const r = trace.refineDetailed(common);
  return {
    source,
    kind: trace.kind,
    method: r.method,
    norm: r.input.norm,
    solver: 'closed-form',
    tau: r.tau,
    peak: r.peak,
    width: r.width,
    skipped: r.input.skipped,
    skippedCount: r.input.skippedCount,
    schedule: r.schedule,
    norms: r.input.norms,
    smoothed: r.smoothed,
  };
}

const CHUNK = 65536;

function* arrayChunks(a: Float64Array): Generator<string> {
  yield '[';
  for (let i = 0; i < a.length; i += CHUNK) {
    const part: string[] = [];
    for (let k = i; k < Math.min(a.length, i + CHUNK); k++) part.push(String(a[k]));
    yield (i === 0 ? '' : ',') + part.join(',');
  }
  yield ']';
}

/**
 * The schedule file, in chunks: `{ format: 'fused-optim/schedule', version: 1, source,
 * kind, method, norm, solver, tau, peak, width, skipped, skippedCount, length, schedule,
 * norms, smoothed }` (bound solver: also `bound`, `iterations`). All numbers are finite.
 */
export function* scheduleFileChunks(r: Refinement): Generator<string> {
  const head: Record<string, unknown> = {
    format: SCHEDULE_FORMAT,
    version: SCHEDULE_VERSION,
    source: r.source,
    kind: r.kind,
    method: r.method,
    norm: r.norm,
    solver: r.solver,
    tau: r.tau,
    peak: r.peak,
    width: r.width,
    skipped: r.skipped,
    skippedCount: r.skippedCount,
    bound: r.bound,
    iterations: r.iterations,
    length: r.schedule.length,
  };
  const json = JSON.stringify(head);
  yield json.slice(0, -1);
  for (const key of ['schedule', 'norms', 'smoothed'] as const) {
    const a = r[key];
    if (!a) continue;
    yield `,\n${JSON.stringify(key)}:`;
    yield* arrayChunks(a);
  }
  yield '}\n';
}

/** Runs checks of `src/validate.ts` on a file's fields: a TypeError/RangeError becomes a one-line CliError naming the file. */
function inFile<T>(path: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

function finiteArray(path: string, key: string, a: unknown, length: number): Float64Array {
  return inFile(path, () => {
    if (!Array.isArray(a)) throw v.typeError(key, 'an array', a);
    if (a.length !== length) throw v.rangeError(key, `${length} values (length)`, a);
    return Float64Array.from(v.numberList(key, a, v.finite));
  });
}

/** Reads a schedule file written by `refine --out`. */
export function parseScheduleFile(path: string, j: Record<string, unknown>): Refinement {
  const version = inFile(path, () => v.integer('version', j.version, 1));
  if (version > SCHEDULE_VERSION) {
    throw new CliError(`${path}: schedule format version ${version} is newer than this fused-optim reads (${SCHEDULE_VERSION}); upgrade fused-optim`);
  }
  const length = inFile(path, () => v.integer('length', j.length, 1));
  const schedule = finiteArray(path, 'schedule', j.schedule, length);
  const norms = j.norms === undefined ? undefined : finiteArray(path, 'norms', j.norms, length);
  const smoothed = j.smoothed === undefined ? undefined : finiteArray(path, 'smoothed', j.smoothed, length);
  const str = <T extends string>(k: string, choices: readonly T[], fallback?: T): T =>
    j[k] === undefined && fallback !== undefined ? fallback : inFile(path, () => v.oneOf(k, j[k], choices));
  const num = (k: string, fallback: number): number => (typeof j[k] === 'number' && Number.isFinite(j[k]) ? (j[k] as number) : fallback);
  let max = 0;
  for (const v of schedule) max = Math.max(max, v);
  return {
    source: typeof j.source === 'string' ? j.source : path,
    ...(j.kind !== undefined && { kind: str('kind', OPTIMIZER_KINDS) }),
    method: str('method', ['sgd', 'adam'] as const),
    ...(j.norm !== undefined && { norm: str('norm', ['l2', 'l1'] as const) }),
    solver: str('solver', ['closed-form', 'bound'] as const, 'closed-form'),
    tau: num('tau', NaN),
    peak: num('peak', max),
    width: num('width', NaN),
    ...(j.skipped !== undefined && { skipped: str('skipped', ['fill', 'drop'] as const) }),
    ...(typeof j.skippedCount === 'number' && { skippedCount: j.skippedCount }),
    schedule,
    ...(norms && { norms }),
    ...(smoothed && { smoothed }),
    ...(typeof j.bound === 'number' && { bound: j.bound }),
    ...(typeof j.iterations === 'number' && { iterations: j.iterations }),
  };
}

/**
 * Reads a trace file (and refines it with `o`) or a schedule file. Errors are one line and
 * name the file.
 */
export function readRefinementInput(path: string, o: RefineCliOptions, accept: 'trace' | 'any' = 'any'): Refinement {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new CliError(`${path}: no such file`);
    if (err.code === 'EISDIR') throw new CliError(`${path}: is a directory, not a JSON file`);
    throw new CliError(`${path}: cannot read (${err.message})`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const format = j !== null && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>).format : undefined;
  if (format === NORM_TRACE_FORMAT) {
    let trace: NormTrace;
    try {
      trace = NormTrace.fromJSON(j);
    } catch (e) {
      throw new CliError(`${path}: ${(e as Error).message}`);
    }
    try {
      return refineTrace(trace, o, path);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${path}: ${(e as Error).message}`);
    }
  }
  if (format === SCHEDULE_FORMAT) {
    if (accept === 'trace') throw new CliError(`${path}: is a schedule file; refine needs a NormTrace (format '${NORM_TRACE_FORMAT}')`);
    return parseScheduleFile(path, j as Record<string, unknown>);
  }
  throw new CliError(
    `${path}: Expected a NormTrace (format '${NORM_TRACE_FORMAT}') or a schedule (format '${SCHEDULE_FORMAT}') but received ${
      format === undefined ? 'a JSON value without a format field' : `format ${JSON.stringify(format)}`
    }`,
  );
}

/** One-line description of a refinement, for the terminal. */
export function describeRefinement(r: Refinement): string {
  const s = r.schedule;
  let arg = 0;
  for (let t = 1; t < s.length; t++) if (s[t] > s[arg]) arg = t;
  const parts = [
    `${s.length} steps`,
    `${r.method}${r.norm ? ` (${r.norm.toUpperCase()} norms)` : ''}`,
    r.solver,
    Number.isFinite(r.tau) ? `tau ${fmt(r.tau)}, width ${r.width}` : undefined,
    r.skippedCount ? `${r.skippedCount} skipped steps ${r.skipped === 'drop' ? 'dropped' : 'filled'}` : undefined,
    `peak ${fmt(s[arg])} at step ${arg}`,
    `last ${fmt(s[s.length - 1])}`,
    r.bound !== undefined ? `bound ${fmt(r.bound)} after ${r.iterations} iterations` : undefined,
  ];
  return parts.filter((p) => p !== undefined).join(', ');
}

/**
 * The refinement figure: raw and median-filtered norms above (log scale when they span more
 * than a factor 20), the refined schedule beside linear decay from the same peak below.
 */
export async function refinementSvg(r: Refinement, title?: string): Promise<string> {
  const T = r.schedule.length;
  const x = new Float64Array(T);
  for (let t = 0; t < T; t++) x[t] = t;
  const xLabel = r.skipped === 'drop' ? 'applied step' : 'step';
  let peak = 0;
  for (const v of r.schedule) peak = Math.max(peak, v);
  const linear = new Float64Array(T);
  for (let t = 0; t < T; t++) linear[t] = T === 1 ? peak : (peak * (T - 1 - t)) / (T - 1);
  const charts: LineChartOptions[] = [];
  if (r.norms || r.smoothed) {
    let lo = Infinity;
    let hi = 0;
    for (const a of [r.norms, r.smoothed]) {
      if (!a) continue;
      for (const v of a) {
        if (v > 0 && v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    let allPositive = true;
    for (const v of r.norms ?? []) if (!(v > 0)) allPositive = false;
    const logY = allPositive && hi / lo > 20;
    const normName = r.norm ? `${r.norm.toUpperCase()} norm` : 'norm';
    charts.push({
      title: `Gradient norms (${normName}${r.kind ? `, ${r.kind}` : ''})`,
      xLabel,
      yLabel: normName + (logY ? ' (log scale)' : ''),
      logY,
      series: [
        ...(r.norms ? [{ name: 'raw', x, y: r.norms, width: 1, color: '#9ecae1' }] : []),
        ...(r.smoothed ? [{ name: `median-filtered (width ${r.width})`, x, y: r.smoothed, color: '#ff7f0e' }] : []),
      ],
    });
  }
  charts.push({
    title: 'Learning rate',
    xLabel,
    yLabel: 'learning rate',
    series: [
      { name: r.solver === 'bound' ? 'refined (bound minimiser)' : 'refined', x, y: r.schedule, color: '#1f77b4' },
      { name: 'linear decay', x, y: linear, dashed: true, color: '#555555', width: 1.5 },
    ],
  });
  const heading =
    title ??
    `Refined schedule: ${r.method}, ${r.solver}${Number.isFinite(r.tau) ? `, tau ${fmt(r.tau)}` : ''} (${r.source.split(/[\\/]/).pop()})`;
  return chartsSvg({ title: heading, charts });
}
