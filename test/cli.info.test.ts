/**
 * `fused-optim info` and the addon loader's report of which binary loaded: in-process for
 * the report, in a child process for the failure paths (the loader caches per process).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { infoReport } from '../src/cli/info.js';
import { addonCandidates, loadedAddon, nativeAvailable, prebuildDir } from '../src/native.js';
import { ensureDist, root } from './support/dist.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const haveAddon = nativeAvailable();
if (!haveAddon) console.log('cli.info: the in-process report tests are skipped: no native addon loads here (run `npm run build:native`)');

describe('fused-optim info', () => {
  it.runIf(haveAddon)('names the binary, where it came from, SIMD, threads and CUDA', async () => {
    const r = await run('info');
    expect(r.code, r.err).toBe(0);
    const which = loadedAddon();
    expect(r.out).toContain(`addon:     ${which.path}`);
    expect(r.out).toMatch(/^fused-optim \d+\.\d+\.\d+ on Node\.js v\d+/);
    expect(r.out).toMatch(/(prebuilt binary shipped in the package|local build|FUSED_OPTIM_BINARY)/);
    expect(r.out).toMatch(/SIMD:      (avx512|avx2|baseline) in use; this CPU supports /);
    expect(r.out).toMatch(/threads:   \d+/);
    expect(r.out).toMatch(/CUDA:      (not compiled in|compiled in .*not usable: .+|usable: )/);
    const j = JSON.parse((await run('info', '--json')).out);
    expect(j.addon.path).toBe(which.path);
    expect(['env', 'local', 'prebuild']).toContain(j.addon.source);
    expect(j.addon.build.napiVersion).toBe(8);
    expect(infoReport().version).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });

  it('candidates: FUSED_OPTIM_BINARY alone, else build/Release, build/Debug, then the prebuilds', () => {
    const saved = process.env.FUSED_OPTIM_BINARY;
    try {
      process.env.FUSED_OPTIM_BINARY = 'some/where.node';
      expect(addonCandidates()).toEqual([{ path: path.resolve('some/where.node'), source: 'env' }]);
      delete process.env.FUSED_OPTIM_BINARY;
      const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-cand-'));
      try {
        const dir = prebuildDir(fake);
        fs.mkdirSync(dir, { recursive: true });
        for (const n of ['fused-optim.napi.glibc.node', 'fused-optim.napi.musl.node', 'fused-optim.abi115.node', 'notes.txt']) fs.writeFileSync(path.join(dir, n), '');
        const c = addonCandidates(fake);
        expect(c.slice(0, 2)).toEqual([
          { path: path.join(fake, 'build', 'Release', 'fused_optim.node'), source: 'local' },
          { path: path.join(fake, 'build', 'Debug', 'fused_optim.node'), source: 'local' },
        ]);
        // napi only; the libc tag must match this process (glibc here, as on every CI machine)
        const glibc = !!(process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
        expect(c.slice(2)).toEqual([{ path: path.join(dir, `fused-optim.napi.${glibc ? 'glibc' : 'musl'}.node`), source: 'prebuild' }]);
      } finally {
        fs.rmSync(fake, { recursive: true, force: true });
      }
    } finally {
      if (saved === undefined) delete process.env.FUSED_OPTIM_BINARY;
      else process.env.FUSED_OPTIM_BINARY = saved;
    }
  });

  it('without an addon: says why and what to run, exits 1 (child process)', () => {
    ensureDist();
    const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'info'], {
      encoding: 'utf8',
      env: { ...process.env, FUSED_OPTIM_BINARY: '/nonexistent/fused_optim.node' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/addon: +not loaded/);
    expect(r.stdout).toMatch(/FUSED_OPTIM_BINARY is set to \/nonexistent\/fused_optim.node, which does not exist/);
    expect(r.stdout).toMatch(/FUSED_OPTIM_BUILD_FROM_SOURCE=1 npm rebuild fused-optim/);
    expect(r.stderr).toBe('fused-optim: error: the native addon did not load (see above)\n');
  });

  it('a binary that fails to load is named with the reason (child process)', () => {
    ensureDist();
    const bad = path.join(os.tmpdir(), `fo-bad-${process.pid}.node`);
    fs.writeFileSync(bad, 'not an ELF file');
    try {
      const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'info', '--json'], { encoding: 'utf8', env: { ...process.env, FUSED_OPTIM_BINARY: bad } });
      expect(r.status).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.addon.error).toMatch(new RegExp(`the native addon failed to load \\(${bad.replace(/[.]/g, '\\.')}: .+\\)`));
    } finally {
      fs.rmSync(bad, { force: true });
    }
  });
});
