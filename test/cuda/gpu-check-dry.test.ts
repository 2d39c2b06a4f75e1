/**
 * The GPU check (bench/gpu/run.sh → check.mjs → report.mjs) end to end in one call, against
 * the mock addon (bench/gpu/mock-addon.cjs: CPU optimizers behind the CUDA protocol), so that a
 * session that is lent a GPU does not spend its minutes on a broken script. Runs everywhere; on
 * dist/ (the scripts are plain Node for the GPU host), so it needs `npm run build:ts` first.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-gpu-dry-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
const missing = ['dist/index.js', 'build/Release/fused_optim.node'].filter((f) => !fs.existsSync(path.join(root, f)));
if (missing.length) console.log(`[gpu-check-dry] skipped: ${missing.join(', ')} missing (npm run build)`);

describe.skipIf(missing.length > 0)('bash bench/gpu/run.sh with FO_MOCK=1', () => {
  it('runs every stage and reports every case', async () => {
    const cases = 'odd length|lazy outcomes|clipping \\+ skip';
    const { CASES } = await import('../../bench/gpu/parity.mjs');
    const selected = CASES.filter((c) => new RegExp(cases).test(c.name)).length;
    expect(selected).toBeGreaterThanOrEqual(4);
    const env: NodeJS.ProcessEnv = { ...process.env, FO_MOCK: '1', FO_CASES: cases, FUSED_OPTIM_BINARY: '' };
    delete env.FUSED_OPTIM_TEST_HOOKS;
    const r = spawnSync('bash', ['bench/gpu/run.sh', out], { cwd: root, env, encoding: 'utf8', timeout: 280_000 });
    const log = `${r.stdout}\n${r.stderr}`;
    expect(r.status, log.slice(-3000)).toBe(0);
    expect(log).toMatch(/MOCK RUN/);
    expect(log).toMatch(/all CUDA checks passed/);
    const ours = JSON.parse(fs.readFileSync(path.join(out, 'ours.json'), 'utf8'));
    expect(ours.parity.length).toBe(selected);
    expect(ours.parity.every((p: { ok: boolean }) => p.ok)).toBe(true);
    expect(ours.checks.length).toBe(7);
    expect(ours.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(ours.bench.length).toBe(8);
    for (const b of ours.bench) expect(b.oursMs, b.name).toBeGreaterThan(0);
    // Clipping reads the gradient twice: 32 B/param for AdamW, not 28.
    const clip = ours.bench.find((b: { clip: number | null }) => b.clip !== null);
    expect(clip.bytesPerParam).toBe(32);
    expect(ours.bench.find((b: { name: string }) => b.name === 'AdamW 2^28').bytesPerParam).toBe(28);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    // No nvidia-smi here, so run.sh passes an empty GPU name: the title falls back to the device.
    expect(md.split('\n')[0]).toBe('# fused-optim CUDA check: Mock GPU (sm_90, 1 GiB)');
    expect(md).toContain('| AdamW 2000 tensors 2^8..2^16 |');
    expect(fs.readFileSync(path.join(out, 'run.log'), 'utf8')).toContain('== report');
  });
});
