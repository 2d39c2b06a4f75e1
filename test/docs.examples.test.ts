/**
 * Runs the ```ts examples in the TSDoc of src/refine, src/trace.ts, src/fs-atomic.ts,
 * src/validate.ts and src/optim (every file under it, so that a new example runs as soon as it
 * is written), with the conventions of test/support/doc-examples.ts: `expr; // → value`
 * asserts exactly, `// ≈ value` to about 3 significant digits. (The schedule examples have their own runner,
 * test/schedules.doc.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as lib from '../src/index.js';
import * as validate from '../src/validate.js';
import { examplesIn, runExample, type DocExample } from './support/doc-examples.js';

const root = path.join(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out.sort();
}

/** Files whose examples run; those marked `true` must have at least one. */
const FILES: [string, boolean][] = [
  ...tsFiles('src/refine').map((f): [string, boolean] => [f, f.endsWith('closed-form.ts') || f.endsWith('bound.ts') || f.endsWith('median.ts')]),
  ['src/trace.ts', true],
  ['src/fs-atomic.ts', true],
  ['src/validate.ts', true],
  ...tsFiles('src/optim').map((f): [string, boolean] => [f, false]),
];

const examples: DocExample[] = FILES.flatMap(([f]) => examplesIn(path.join(root, f), f));

describe('TSDoc examples of refine, trace, fs-atomic and optim', () => {
  it.each(FILES.filter(([, must]) => must).map(([f]) => f))('%s has examples', (f) => {
    expect(examples.filter((e) => e.where.startsWith(`${f}:`)).length).toBeGreaterThan(0);
  });

  it.each(examples.map((e) => [e.where, e] as const))('%s', async (_where, ex) => {
    expect(ex.checks, 'an example asserts at least one value (// → value or // ≈ value)').toBeGreaterThan(0);
    // validate.ts is internal: its examples also see its own exports
    const scope = ex.where.startsWith('src/validate.ts:') ? { ...lib, ...validate } : lib;
    const results = await runExample(ex, scope as unknown as Record<string, unknown>);
    expect(results.length, 'every assertion ran').toBe(ex.checks);
    for (const r of results) {
      if (r.mode === '→') expect(r.got, r.src).toEqual(r.want);
      else expect(r.ok, `${r.src}: got ${JSON.stringify(r.got)}`).toBe(true);
    }
  });
});
