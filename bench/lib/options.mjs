/**
 * Command-line options of the benchmark (`node bench/run.mjs ...`, `npm run bench -- ...`,
 * `fused-optim bench ...`): one table, parsed with node:util parseArgs, validated with messages
 * that name the option and the value received.
 */
import { parseArgs } from 'node:util';
import { CONTENDER_IDS } from './contenders.mjs';
import { SCENARIO_IDS } from './scenarios.mjs';

export const DEFAULT_SIZES = [1e3, 1e4, 1e5, 1e6, 1e7, 3e7];
export const QUICK_SIZES = [1e3, 1e4, 1e5, 1e6];
export const LAYOUTS = ['one', 'many'];
export const EXTRAS = ['overhead', 'norm', 'clip', 'datasync'];

const SPEC = {
  quick: { type: 'boolean', help: 'a ~1-minute run: Adam only, sizes 1e3-1e6, short budgets, small extras' },
  full: { type: 'boolean', help: 'no --slow-cap skips and a 3 s budget per entry (~25+ minutes)' },
  sizes: { type: 'string', arg: 'list', help: `parameter counts, e.g. 1e3,1e6,3e7 (default ${DEFAULT_SIZES.map(fmtSize).join(',')})` },
  scenarios: { type: 'string', arg: 'list', help: `of ${SCENARIO_IDS.join(', ')} (default all)` },
  contenders: { type: 'string', arg: 'list', help: `of ${CONTENDER_IDS.join(', ')} (default all)` },
  layouts: { type: 'string', arg: 'list', help: 'one (one tensor), many (--tensors tensors of mixed sizes) (default both)' },
  tensors: { type: 'string', arg: 'n', help: 'tensors in the "many" layout (default 200)' },
  extras: { type: 'string', arg: 'list', help: `of ${EXTRAS.join(', ')}, or none (default all)` },
  budget: { type: 'string', arg: 'seconds', help: 'timing budget per contender per case (default 1.5; --quick 0.5)' },
  'slow-cap': {
    type: 'string',
    arg: 'seconds',
    help: 'skip a contender at a size where one step is estimated above this, except in the headline case (Adam, one tensor); 0: never (default 3)',
  },
  out: { type: 'string', arg: 'dir', help: 'where the JSON, Markdown and SVG go (default bench/results)' },
  name: { type: 'string', arg: 'base', help: 'file name base (default cpu-<date>[-quick])' },
  'no-write': { type: 'boolean', help: 'print the table only; write no files' },
  seed: { type: 'string', arg: 'n', help: 'data seed (default 1)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export function fmtSize(n) {
  if (n < 1000) return String(n);
  const e = Math.floor(Math.log10(n));
  const m = n / 10 ** e;
  return Number.isInteger(m) ? (m === 1 ? `1e${e}` : `${m}e${e}`) : String(n);
}

export function helpText() {
  const lines = [
    'Usage: node bench/run.mjs [options]   (npm run bench -- [options], fused-optim bench [options])',
    '',
    'Times fused-optim CPU steps against TensorFlow.js (cpu, wasm) and a plain JS loop, beside',
    'the memory floor, checks every result against a float64 reference, and writes',
    '<out>/<name>.json, .md and .svg.',
    '',
    'Options:',
  ];
  for (const [k, s] of Object.entries(SPEC)) {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${k}${s.arg ? ` <${s.arg}>` : ''}`;
    lines.push(`  ${flag.padEnd(28)} ${s.help}`);
  }
  return `${lines.join('\n')}\n`;
}

function list(name, value, allowed) {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new RangeError(`Expected a comma-separated list for --${name} but received '${value}'`);
  for (const it of items) {
    if (!allowed.includes(it)) {
      throw new RangeError(`Expected one of ${allowed.join(', ')} in --${name} but received '${it}'`);
    }
  }
  return [...new Set(items)];
}

function positive(name, value, { integer = false, zero = false } = {}) {
  const v = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(v) && (zero ? v >= 0 : v > 0) && (!integer || Number.isInteger(v));
  if (!ok) throw new RangeError(`Expected ${integer ? 'an integer' : 'a number'} ${zero ? '>= 0' : '> 0'} for --${name} but received '${value}'`);
  return v;
}

/**
 * Parses argv (without node and the script) into resolved options. Throws TypeError/RangeError
 * with a one-line message for unknown options and bad values.
 */
export function parseOptions(argv) {
  let values;
  try {
    const options = Object.fromEntries(Object.entries(SPEC).map(([k, s]) => [k, { type: s.type, ...(s.short && { short: s.short }) }]));
    ({ values } = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true }));
  } catch (e) {
    throw new TypeError(e.message.split('\n')[0]);
  }
  const quick = !!values.quick;
  const full = !!values.full;
  if (quick && full) throw new RangeError('Expected at most one of --quick and --full but received both');
  const sizes = values.sizes
    ? values.sizes.split(',').map((s) => {
        const v = positive('sizes', s, { integer: true });
        if (v > 2 ** 31) throw new RangeError(`Expected sizes up to 2^31 in --sizes but received '${s}'`);
        return v;
      })
    : quick
      ? QUICK_SIZES
      : DEFAULT_SIZES;
  const extras = values.extras === 'none' ? [] : values.extras ? list('extras', values.extras, EXTRAS) : EXTRAS;
  return {
    quick,
    full,
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    scenarios: values.scenarios ? list('scenarios', values.scenarios, SCENARIO_IDS) : quick ? ['adam'] : SCENARIO_IDS,
    contenders: values.contenders ? list('contenders', values.contenders, CONTENDER_IDS) : CONTENDER_IDS,
    layouts: values.layouts ? list('layouts', values.layouts, LAYOUTS) : LAYOUTS,
    tensors: values.tensors ? positive('tensors', values.tensors, { integer: true }) : 200,
    extras,
    budgetMs: 1000 * (values.budget ? positive('budget', values.budget) : full ? 3 : quick ? 0.5 : 1.5),
    slowCapMs: 1000 * (values['slow-cap'] !== undefined ? positive('slow-cap', values['slow-cap'], { zero: true }) : full ? 0 : 3),
    out: values.out ?? null,
    name: values.name ?? null,
    write: !values['no-write'],
    seed: values.seed ? positive('seed', values.seed, { integer: true }) : 1,
    help: !!values.help,
  };
}
