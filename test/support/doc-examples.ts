/**
 * Finds and runs the ```ts examples in TSDoc comments.
 *
 * Conventions, so that an example both reads well and asserts something:
 * - `expr; // → value` (or `expr;` then a line `// → value`) asserts that `expr` equals
 *   `value` exactly (`toEqual`; a typed array compares as the plain array of its elements,
 *   also inside objects);
 * - `// ≈ value` asserts the same to about 3 significant digits (relative 5e-3), for numbers
 *   and arrays of numbers;
 * - text after the value explains it: the value is the longest prefix that parses as an
 *   expression (`// → 0.75 (position 0.5)` asserts 0.75);
 * - every other line runs as it is, TypeScript included (types are stripped), with `await`
 *   allowed; every export of `src/index.ts` is in scope, and `fs`, `path` and `dir` (a fresh
 *   temporary directory for files) too;
 * - an example must assert at least one value.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { transformWithOxc } from 'vite';

export interface DocExample {
  /** `file:line` of the opening fence. */
  where: string;
  /** The example, rewritten with `__check(got, want, source, mode)` calls. */
  code: string;
  checks: number;
}

/** The longest prefix of `text` that parses as a JavaScript expression ('' if none). */
function leadingExpression(text: string): string {
  const t = text.trim();
  for (let end = t.length; end > 0; end--) {
    if (end < t.length && !/[\s:(,]/.test(t[end])) continue;
    const candidate = t.slice(0, end).trim();
    if (!candidate) continue;
    try {
      new Function(`return (${candidate});`);
      return candidate;
    } catch {
      /* not an expression: try a shorter prefix */
    }
  }
  return '';
}

const ASSERT = /^(.*?);?\s*\/\/\s*(→|≈)\s*(.*)$/;
const ASSERT_ALONE = /^\s*\/\/\s*(→|≈)\s*(.*)$/;

/** The ```ts blocks inside `/** … *\/` comments of a file, as runnable examples. */
export function examplesIn(file: string, label = file): DocExample[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*```ts\s*$/.test(lines[i])) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].replace(/^\s*\* ?/, ''));
    let checks = 0;
    const code: string[] = [];
    const emit = (expr: string, mode: string, want: string, src: string): void => {
      const value = leadingExpression(want);
      if (!value) throw new Error(`${label}:${i + 1}: cannot read the expected value in: ${src}`);
      code.push(`__check((${expr.replace(/;\s*$/, '')}), (${value}), ${JSON.stringify(src.trim())}, '${mode}');`);
      checks++;
    };
    for (let k = 0; k < body.length; k++) {
      const inline = ASSERT.exec(body[k]);
      const next = k + 1 < body.length ? ASSERT_ALONE.exec(body[k + 1]) : null;
      if (inline && inline[1].trim() !== '' && !/^\s*\/\//.test(body[k])) {
        emit(inline[1], inline[2], inline[3], body[k]);
      } else if (next && body[k].trim() !== '' && !/^\s*\/\//.test(body[k])) {
        emit(body[k], next[1], next[2], `${body[k]} ${body[k + 1].trim()}`);
        k++;
      } else {
        code.push(body[k]);
      }
    }
    out.push({ where: `${label}:${i + 1}`, code: code.join('\n'), checks });
    i = j;
  }
  return out;
}

/** Typed arrays become plain arrays, recursively through arrays and plain objects. */
function plain(x: unknown): unknown {
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  }
  return x;
}

/** Whether `got` is within 3 significant digits of `want` (numbers, or arrays of them). */
function close(got: unknown, want: unknown): boolean {
  if (typeof want === 'number') return typeof got === 'number' && Math.abs(got - want) <= 5e-3 * Math.abs(want) + 1e-12;
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => close(got[i], w));
  return false;
}

export interface CheckResult {
  src: string;
  mode: string;
  got: unknown;
  want: unknown;
  ok: boolean;
}

/** Runs one example with `scope` in scope; returns what each assertion saw. */
export async function runExample(ex: DocExample, scope: Record<string, unknown>): Promise<CheckResult[]> {
  const { code } = await transformWithOxc(ex.code, `${ex.where.replace(/[:/]/g, '_')}.ts`, { lang: 'ts' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-example-'));
  const results: CheckResult[] = [];
  const check = (got: unknown, want: unknown, src: string, mode: string): void => {
    const g = plain(got);
    const w = plain(want);
    const ok = mode === '≈' ? close(g, w) : isDeepStrictEqual(g, w);
    results.push({ src, mode, got: g, want: w, ok });
  };
  const names = Object.keys(scope).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  const fn = new AsyncFunction('__scope', '__check', 'fs', 'path', 'dir', `const { ${names.join(', ')} } = __scope;\n${code}`);
  try {
    await fn(scope, check, fs, path, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
