/**
 * Every `@example` in the TSDoc of src/refine, src/trace.ts and src/optim is run (the
 * schedules' examples have their own test, test/schedules.doc.test.ts), in a temporary folder,
 * with a few fixtures for the names the examples leave to the reader (`norms`, `trace`,
 * `l2FromDevice`...). A comment that states a value is checked against the line it annotates:
 *
 *   expr; // 3                          the value of expr
 *   expr;
 *   // Float64Array [1, 2/3, 1/3, 0]    (a comment line after it; `Float64Array` is dropped)
 *   a(0); a(2); // 0.1, 0.05            one value per statement
 *   // p ≈ [0.9, 2.1]                   a variable
 *   // → { gradNormL2: 0.7071…, ... }   the last expression; listed keys only
 *
 * `≈`, `(rounded)` or `…` compare to the digits written; otherwise to 1e-12 (relative). A
 * comment that does not parse as a value is prose and checks nothing; a trailing
 * `(parenthetical)` and a `prose:` prefix are ignored.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import { nativeAvailable } from '../src/native.js';
import * as refine from '../src/refine/index.js';
import * as trace from '../src/trace.js';

const src = path.join(import.meta.dirname, '..', 'src');
const FILES = [
  ...fs.readdirSync(path.join(src, 'refine')).filter((f) => f.endsWith('.ts')).map((f) => `refine/${f}`),
  'trace.ts',
  ...fs.readdirSync(path.join(src, 'optim')).filter((f) => f.endsWith('.ts')).map((f) => `optim/${f}`),
].sort();

interface Example {
  file: string;
  line: number;
  lines: string[];
}

/** The @example bodies of a file: a fenced block, or the comment lines up to the next tag. */
function examplesOf(file: string): Example[] {
  const lines = fs.readFileSync(path.join(src, file), 'utf8').split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i])) continue;
    const body: string[] = [];
    let j = i + 1;
    const fenced = j < lines.length && /^\s*\*\s*```/.test(lines[j]);
    if (fenced) j++;
    for (; j < lines.length; j++) {
      const l = lines[j];
      if (fenced ? /^\s*\*\s*```/.test(l) : /^\s*\*\/|^\s*\*\s*@\w+/.test(l)) break;
      body.push(l.replace(/^\s*\*\/?\s?/, ''));
    }
    out.push({ file, line: i + 1, lines: body });
  }
  return out;
}

/** A stated value: parsed, with whether it is approximate. Undefined for prose. */
function parseValue(text: string): { value: unknown; approx: boolean } | undefined {
  let t = text.trim().replace(/^→\s*/, '');
  if (!t) return undefined;
  let approx = /≈|\(rounded\)|…/.test(t);
  t = t.replace(/^≈\s*/, '').replace(/\s*\([^()]*\)\s*$/, '').replace(/…/g, '');
  const candidates = [t];
  const colon = t.indexOf(': ');
  if (colon > 0 && !/[[{'"]/.test(t.slice(0, colon))) candidates.push(t.slice(colon + 2));
  for (const c of candidates) {
    const js = c.replace(/\b(Float64Array|Float32Array|Uint8Array)\s+\[/g, '[').replace(/\s*\([^()]*\)\s*$/, '');
    try {
      const value = new Function(`'use strict'; return (${js});`)() as unknown;
      if (value === undefined || typeof value === 'function') continue;
      approx ||= /\d\.\d{2,}/.test(js) && /≈|rounded/.test(text);
      return { value, approx };
    } catch {
      // prose
    }
  }
  return undefined;
}

/** Top-level comma split of a value list ("0.1, 0.05, 0, 0"). */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if ('[{('.includes(ch)) depth++;
    if (']})'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim());
}

function close(got: unknown, want: unknown, approx: boolean, where: string, f32 = false): void {
  if (typeof want === 'number') {
    expect(typeof got, where).toBe('number');
    const g = got as number;
    const digits = (String(want).split('.')[1] ?? '').length;
    // exact to 1e-12 (float32 values: to float32 precision), or written rounded to >= 3 decimals
    const exact = Math.abs(g - want) <= (f32 ? 2 ** -23 : 1e-12) * Math.max(1, Math.abs(want));
    if (exact) return;
    if (!approx && digits < 3) {
      expect(g, `${where}: ${g} vs ${want}`).toBe(want);
      return;
    }
    expect(Math.abs(g - want), `${where}: ${g} vs ${want} (to ${digits} decimals)`).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-12);
    return;
  }
  if (Array.isArray(want)) {
    const isF32 = got instanceof Float32Array;
    const g = ArrayBuffer.isView(got) ? Array.from(got as unknown as ArrayLike<number>) : got;
    expect(Array.isArray(g), `${where}: an array`).toBe(true);
    expect((g as unknown[]).length, `${where}: length`).toBe(want.length);
    want.forEach((w, k) => close((g as unknown[])[k], w, approx, `${where}[${k}]`, isF32));
    return;
  }
  if (want !== null && typeof want === 'object') {
    for (const [k, w] of Object.entries(want)) close((got as Record<string, unknown>)[k], w, approx, `${where}.${k}`);
    return;
  }
  expect(got, where).toBe(want);
}

interface Compiled {
  code: string;
  checks: number;
}

/**
 * The example as the body of an async function: each annotated expression becomes
 * `__check(expr, want, approx, where)`.
 */
function compile(ex: Example): Compiled {
  const code: string[] = [];
  let checks = 0;
  let lastExpr: string | undefined; // the last expression statement, for a following comment line
  let lastExprIndex = -1;
  const check = (expr: string, v: { value: unknown; approx: boolean }, where: string) => {
    checks++;
    return `__check((${expr}), ${JSON.stringify(v.value)}, ${v.approx}, ${JSON.stringify(where)});`;
  };
  ex.lines.forEach((raw, k) => {
    const where = `${ex.file}:${ex.line + k + 1}`;
    const commentOnly = /^\s*\/\/\s?(.*)$/.exec(raw);
    if (commentOnly) {
      const text = commentOnly[1];
      const named = /^(\w+)\s*≈\s*(.*)$/.exec(text);
      if (named) {
        const v = parseValue(`≈ ${named[2]}`);
        if (v) code.push(check(named[1], v, where));
        return;
      }
      const v = parseValue(text);
      if (v && lastExpr !== undefined) {
        code[lastExprIndex] = `const __v${lastExprIndex} = (${lastExpr});`;
        code.push(check(`__v${lastExprIndex}`, v, where));
      }
      return;
    }
    const m = /^(.*?)\s*\/\/\s?(.*)$/.exec(raw);
    const stmt = (m ? m[1] : raw).trim();
    const namedAfter = m ? /^(\w+)\s*(=|≈)\s*(.*)$/.exec(m[2]) : null;
    if (namedAfter) {
      // `stmt; // p = [0.8]`: run the statement, then check the variable
      const v = parseValue(`${namedAfter[2] === '≈' ? '≈ ' : ''}${namedAfter[3]}`);
      code.push(stmt.endsWith(';') ? stmt : `${stmt};`);
      if (v) code.push(check(namedAfter[1], v, where));
      lastExpr = undefined;
      return;
    }
    const statements = stmt.split(';').map((s) => s.trim()).filter(Boolean);
    const isExpr = (s: string) => !/^(const|let|var|await\s+\w+\.save|import|for|if)\b/.test(s) && !/^\w+(\.\w+)*\s*=[^=]/.test(s);
    if (m && statements.length > 0 && statements.every(isExpr)) {
      const values = statements.length === 1 ? [m[2]] : splitTop(m[2]);
      const parsed = values.map((t) => parseValue(t));
      if (values.length === statements.length && parsed.every((p) => p !== undefined)) {
        statements.forEach((s, i) => code.push(check(s, parsed[i]!, where)));
        lastExpr = undefined;
        return;
      }
    }
    code.push(raw);
    if (statements.length === 1 && isExpr(statements[0]) && !m) {
      lastExpr = statements[0];
      lastExprIndex = code.length - 1;
    } else if (statements.length > 0) {
      lastExpr = undefined;
    }
  });
  return { code: code.join('\n'), checks };
}

/** Names the examples use without defining them: stand-ins of the right kind. */
function fixtures(): Record<string, unknown> {
  const n = 200;
  const norms = Float64Array.from({ length: n }, (_, i) => 1 + 4 * Math.exp(-i / 20));
  const t = new trace.NormTrace({ kind: 'adamw' });
  for (let i = 0; i < 50; i++) t.push(norms[i], 10 * norms[i], 0, 1e-3);
  return {
    norms,
    trace: t,
    l2FromDevice: norms.subarray(0, 10),
    l1FromDevice: norms.subarray(0, 10).map((v) => 10 * v),
    skippedFromDevice: new Uint8Array(10),
    lrUsed: new Float64Array(10).fill(3e-4),
    data: { hello: 1 },
    svg: '<svg xmlns="http://www.w3.org/2000/svg"/>',
  };
}

const lib: Record<string, unknown> = { ...root, ...refine, ...trace };
const all = FILES.flatMap(examplesOf);
const hasNative = nativeAvailable();
const needsNative = (ex: Example) => ex.file.startsWith('optim/');
if (!hasNative) console.log('doc examples of src/optim are skipped: the native addon does not load here (run `npm run build:native`)');

let dir: string;
let cwd: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-doc-examples-'));
  fs.mkdirSync(path.join(dir, 'runs'));
  cwd = process.cwd();
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(cwd);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('TSDoc examples in src/refine, src/trace.ts and src/optim', () => {
  it('finds them, and enough of them state checkable values', () => {
    expect(all.length).toBeGreaterThanOrEqual(20);
    const checks = all.reduce((s, ex) => s + compile(ex).checks, 0);
    expect(checks).toBeGreaterThanOrEqual(25);
  });

  for (const ex of all) {
    it.runIf(hasNative || !needsNative(ex))(`${ex.file}:${ex.line}`, async () => {
      const { code } = compile(ex);
      const scope = { ...lib, ...fixtures() };
      const names = Object.keys(scope).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && !new RegExp(`\\b(const|let|var)\\s+${k}\\b`).test(code));
      const checks: { got: unknown; want: unknown; approx: boolean; where: string }[] = [];
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
      const fn = new AsyncFunction('__scope', '__check', `const { ${names.join(', ')} } = __scope;\n${code}`);
      try {
        await fn(scope, (got: unknown, want: unknown, approx: boolean, where: string) => checks.push({ got, want, approx, where }));
      } catch (e) {
        throw new Error(`example ${ex.file}:${ex.line} threw: ${(e as Error).message}\n${code}`, { cause: e });
      }
      for (const c of checks) close(c.got, c.want, c.approx, c.where);
    });
  }
});
