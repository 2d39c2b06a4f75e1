/**
 * Running the built package under Open MPI's `mpirun` from a test: the environment (root allowed,
 * oversubscription), the reason the MPI tests skip, and a run with a watchdog timeout that
 * collects every rank's `RESULT {json}` line.
 */
import { spawnSync } from 'node:child_process';

import { expect } from 'vitest';

import { root } from './dist.js';

export const mpiEnv = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1' };

/** Why the MPI tests cannot run here, or null. */
export function mpiMissing(): string | null {
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8', env: mpiEnv, timeout: 20_000 });
  if (r.error) return `mpirun not found (${(r.error as Error).message}); install Open MPI (apt-get install openmpi-bin libopenmpi-dev)`;
  if (!/Open MPI|OpenRTE/i.test(`${r.stdout}${r.stderr}`)) return `mpirun is not Open MPI's (${r.stdout.split('\n')[0]}): only Open MPI is supported`;
  return null;
}

/**
 * `mpirun -np N node ...args` in the package root; `timeout` ms is the watchdog (SIGTERM).
 * `extraEnv` is set here and forwarded to the ranks (`-x`).
 */
export function mpirun<R = { rank: number; size: number; ok: boolean; checks: number }>(np: number, args: string[], timeout: number, extraEnv: Record<string, string> = {}) {
  const started = Date.now();
  const forward = Object.keys(extraEnv).flatMap((k) => ['-x', k]);
  const r = spawnSync('mpirun', ['--oversubscribe', ...forward, '-np', String(np), process.execPath, ...args], { cwd: root, env: { ...mpiEnv, ...extraEnv }, encoding: 'utf8', timeout, killSignal: 'SIGTERM' });
  const results = (r.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice('RESULT '.length)) as R);
  return { ...r, results, ms: Date.now() - started };
}

/** A run where every rank printed an ok RESULT with at least `minChecks` checks, and exited 0 before the watchdog. */
export function expectRanksOk(r: ReturnType<typeof mpirun<{ rank: number; size: number; ok: boolean; checks: number }>>, np: number, minChecks: (rank: number) => number): void {
  const why = `status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`;
  expect(r.signal, `watchdog: the run hung (${why})`).toBeNull();
  expect(r.status, why).toBe(0);
  expect(r.results.map((x) => x.rank).sort((a, b) => a - b)).toEqual(Array.from({ length: np }, (_, i) => i));
  for (const x of r.results) {
    expect(x.size).toBe(np);
    expect(x.ok).toBe(true);
    expect(x.checks, why).toBeGreaterThanOrEqual(minChecks(x.rank));
  }
}
