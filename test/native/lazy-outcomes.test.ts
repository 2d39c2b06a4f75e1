/**
 * native/core/lazy_outcomes.h (the CUDA backend's outcome-slot bookkeeping and its guess of the
 * device's applied-step count) as a plain C++ program: test/native/lazy_outcomes_test.cc,
 * compiled here with the C++ compiler that builds the addon ($CXX or c++).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const cxx = process.env.CXX || 'c++';
const probe = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
const noCompiler = probe.status === 0 ? null : `no C++ compiler: '${cxx} --version' failed (${probe.error?.message ?? probe.stderr})`;
if (noCompiler) console.log(`[test/native/lazy-outcomes] skipped: ${noCompiler}`);

describe.skipIf(noCompiler !== null)('LazyOutcomes (C++ unit test)', () => {
  it('passes every check', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-lazy-outcomes-'));
    try {
      const exe = path.join(dir, 'lazy_outcomes_test');
      execFileSync(cxx, ['-std=c++17', '-Wall', '-Wextra', '-Werror', '-O1', '-o', exe, path.join(here, 'lazy_outcomes_test.cc')], { stdio: 'pipe' });
      const r = spawnSync(exe, [], { encoding: 'utf8' });
      expect(r.stdout).toContain('all checks passed');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
