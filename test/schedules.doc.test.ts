/**
 * Every `@example` in src/schedules is executed: a line `// → <value>` after an expression
 * (or at the end of its line) asserts the expression's exact value. Examples must be plain JS.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../src/schedules/index.js';

const dir = joinPath(import.meta.dirname, '..', 'src', 'schedules');

interface Example {
  file: string;
  line: number;
  code: string;
  checks: number;
}

function examples(): Example[] {
  const out: Example[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const lines = readFileSync(joinPath(dir, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\*\s*@example\b/.test(lines[i])) continue;
      // collect the fenced block that follows
      let j = i + 1;
      while (j < lines.length && !/^\s*\*\s*```/.test(lines[j])) j++;
      const body: string[] = [];
      for (j++; j < lines.length && !/^\s*\*\s*```/.test(lines[j]); j++) {
        body.push(lines[j].replace(/^\s*\* ?/, ''));
      }
      let checks = 0;
      const code: string[] = [];
      for (let k = 0; k < body.length; k++) {
        const inline = /^(.*?);?\s*\/\/ → (.*)$/.exec(body[k]);
        const next = k + 1 < body.length ? /^\s*\/\/ → (.*)$/.exec(body[k + 1]) : null;
        if (inline && inline[1].trim() !== '') {
          code.push(`__check((${inline[1]}), (${inline[2]}), ${JSON.stringify(body[k])});`);
          checks++;
        } else if (next && !/^\s*\/\//.test(body[k])) {
          code.push(`__check((${body[k].replace(/;\s*$/, '')}), (${next[1]}), ${JSON.stringify(body[k])});`);
          checks++;
          k++;
        } else {
          code.push(body[k]);
        }
      }
      out.push({ file, line: i + 1, code: code.join('\n'), checks });
    }
  }
  return out;
}

const all = examples();

describe('TSDoc examples in src/schedules', () => {
  it('finds an example for every exported factory', () => {
    const names = Object.keys(lib).filter((k) => typeof (lib as Record<string, unknown>)[k] === 'function');
    const text = all.map((e) => e.code).join('\n');
    for (const name of names) expect(text, `example using ${name}`).toMatch(new RegExp(`\\b${name}\\(`));
  });

  for (const ex of all) {
    it(`${ex.file}:${ex.line}`, () => {
      expect(ex.checks, 'an example asserts at least one value').toBeGreaterThan(0);
      const results: { got: unknown; want: unknown; src: string }[] = [];
      const check = (got: unknown, want: unknown, src: string) => results.push({ got, want, src });
      const names = Object.keys(lib);
      const fn = new Function('__lib', '__check', `const { ${names.join(', ')} } = __lib;\n${ex.code}`);
      fn(lib, check);
      expect(results.length).toBe(ex.checks);
      for (const r of results) expect(r.got, r.src).toEqual(r.want);
    });
  }
});
