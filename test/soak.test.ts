/**
 * The short soak (scripts/soak.mjs with 16,000 steps, growth measured over the last 6,000):
 * memory stays flat while stepping (RSS, V8 external and ArrayBuffer memory grow < 5 MB), and
 * dispose() gives arena memory back to the OS (10 × 64 MB arenas created and disposed: RSS
 * within 16 MB of where it started). No timing is asserted. The full run is
 * `node --expose-gc scripts/soak.mjs` (100,000 steps, docs/reliability.md).
 *
 * Runs in a child process (it needs --expose-gc and a process of its own to measure).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, test } from 'vitest';

import { ensureDist, root } from './support/dist.js';

test('memory is flat over 16,000 steps and dispose() returns arena memory', () => {
  ensureDist();
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(root, 'scripts', 'soak.mjs'), '16000', '--warmup=10000', '--dispose-rounds=10', '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 110_000,
  });
  expect(r.signal).toBeNull();
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const result = JSON.parse(line);
  console.log(`soak: ${line}`);
  expect(result.growth.rss).toBeLessThan(5);
  expect(result.growth.external).toBeLessThan(5);
  expect(result.growth.arrayBuffers).toBeLessThan(5);
  expect(result.dispose.rssAfter - result.dispose.rssBefore).toBeLessThan(16);
  expect(r.status).toBe(0);
});
