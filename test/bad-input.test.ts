/**
 * The bad-input matrix (test/support/bad-input-cases.mjs): over 100 wrong calls across the whole
 * public API — functional steps, the optimizer classes and their methods, setOptions,
 * setGrads/readParams, state dicts and checkpoint paths, every schedule factory, refinement,
 * NormTrace, setThreads/setSimd. Each must throw a TypeError (wrong type) or RangeError (out of
 * range) whose message names the argument. Every case is reported as its own test.
 *
 * The cases run in one child process (`node test/support/bad-input-cases.mjs`, on the built
 * package in dist/) so that a crash — an abort or a segfault in the addon — fails as a crash,
 * naming the case that caused it, instead of taking the test runner down. The child runs once,
 * while this file is collected; dist/ is rebuilt first when a source file is newer.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';

import { ensureDist, root } from './support/dist.js';

interface CaseResult {
  id: string;
  threw: boolean;
  name?: string;
  message?: string;
  returned?: string;
  expectedType: string;
  pattern: string;
}

ensureDist();
const child = spawnSync(process.execPath, [path.join(root, 'test', 'support', 'bad-input-cases.mjs')], {
  cwd: root,
  encoding: 'utf8',
  timeout: 60_000,
});
const lines = child.stdout
  .trim()
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as Partial<CaseResult> & { ids?: string[]; done?: number });
const ids = lines.find((l) => l.ids !== undefined)?.ids ?? [];
const results = new Map<string, CaseResult>();
for (const l of lines) if (l.id !== undefined) results.set(l.id, l as CaseResult);
const done = lines.find((l) => l.done !== undefined)?.done;
const lastStarted = child.stderr
  .trim()
  .split('\n')
  .filter((l) => l.startsWith('case '))
  .pop();

describe('the bad-input child process', () => {
  test('lists its cases, runs them all and exits cleanly', () => {
    expect(child.signal, `the child was killed by ${child.signal} during ${lastStarted}`).toBeNull();
    expect(child.status, `the child exited with ${child.status} during ${lastStarted}:\n${child.stderr.slice(-2000)}`).toBe(0);
    expect(ids.length).toBeGreaterThanOrEqual(100);
    expect(new Set(ids).size, 'case ids are unique').toBe(ids.length);
    expect(done).toBe(ids.length);
  });
});

describe('every bad input throws a TypeError/RangeError naming the argument', () => {
  test.each(ids)('%s', (id) => {
    const c = results.get(id);
    expect(c, `not reached: the child stopped during ${lastStarted}`).toBeDefined();
    const r = c as CaseResult;
    expect(r.threw, `returned ${r.returned} instead of throwing`).toBe(true);
    expect(r.name, r.message).toBe(r.expectedType);
    expect(r.message).toMatch(new RegExp(r.pattern));
  });
});
