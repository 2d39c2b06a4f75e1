/**
 * The bad-input matrix (test/support/bad-input-cases.mjs): over 100 wrong calls across the whole
 * public API — functional steps, the optimizer classes and their methods, setOptions,
 * setGrads/readParams, state dicts and checkpoint paths, every schedule factory, refinement,
 * NormTrace, setThreads/setSimd. Each must throw a TypeError (wrong type) or RangeError (out of
 * range) whose message names the argument.
 *
 * The cases run in a child process (`node test/support/bad-input-cases.mjs`, on the built
 * package in dist/) so that a crash — an abort or a segfault in the addon — fails this test as a
 * crash, with the case that caused it, instead of taking the test runner down. dist/ is rebuilt
 * first when a source file is newer.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, expect, test } from 'vitest';

import { ensureDist, root } from './support/dist.js';

beforeAll(ensureDist);

interface CaseResult {
  id: string;
  threw: boolean;
  name?: string;
  message?: string;
  expectedType: string;
  pattern: string;
}

test('every bad input throws a TypeError/RangeError naming the argument, and none crashes the process', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'support', 'bad-input-cases.mjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lastCase = r.stderr.trim().split('\n').filter((l) => l.startsWith('case ')).pop();
  expect(r.signal, `the child was killed by ${r.signal} during ${lastCase}`).toBeNull();
  expect(r.status, `the child exited with ${r.status} during ${lastCase}:\n${r.stderr.slice(-2000)}`).toBe(0);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as CaseResult & { done?: number });
  const done = lines.pop();
  const results = lines as CaseResult[];
  expect(done?.done).toBe(results.length);
  expect(results.length).toBeGreaterThanOrEqual(60);
  const failures = results.filter((c) => !(c.threw && c.name === c.expectedType && new RegExp(c.pattern).test(c.message ?? '')));
  expect(
    failures.map((c) => `${c.id}: ${c.threw ? `${c.name}: ${c.message}` : 'did not throw'} (expected ${c.expectedType} matching /${c.pattern}/)`),
  ).toEqual([]);
  const byType = results.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.expectedType]: (acc[c.expectedType] ?? 0) + 1 }), {});
  console.log(`bad inputs: ${results.length} cases, ${JSON.stringify(byType)}, all rejected with a named argument, no crash`);
});
