/**
 * scripts/install.mjs, the package's install script: with no binary that loads and no
 * toolchain it prints what is missing, writes build/install.log and still exits 0 (a failed
 * source build never fails `npm install`); with a binary that loads it does nothing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from './support/dist.js';

let pkg: string;
let bin: string;

beforeAll(() => {
  // a package folder with the install script and nothing built: no build/, no prebuilds/
  pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-install-'));
  fs.mkdirSync(path.join(pkg, 'scripts'));
  fs.copyFileSync(path.join(root, 'scripts', 'install.mjs'), path.join(pkg, 'scripts', 'install.mjs'));
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fused-optim', type: 'module' }));
  // a PATH with node only: no cmake, no compiler
  bin = path.join(pkg, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
});
afterAll(() => fs.rmSync(pkg, { recursive: true, force: true }));

function install(env: Record<string, string> = {}) {
  const e: Record<string, string> = { PATH: bin, HOME: os.tmpdir(), ...env };
  return spawnSync(process.execPath, [path.join(pkg, 'scripts', 'install.mjs')], { cwd: pkg, encoding: 'utf8', env: e });
}

describe('scripts/install.mjs', () => {
  it('no binary and no toolchain: says what is missing, writes build/install.log, exits 0', () => {
    const r = install();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no prebuilt binary for .* in this package: building from source/);
    expect(r.stderr).toMatch(/needs what this machine lacks: cmake >= 3\.18 .*; a C\+\+17 compiler/);
    expect(r.stderr).toMatch(/the npm package cmake-js/); // the copied folder has no node_modules
    expect(r.stderr).toMatch(/FUSED_OPTIM_BUILD_FROM_SOURCE=1 npm rebuild fused-optim/);
    const log = fs.readFileSync(path.join(pkg, 'build', 'install.log'), 'utf8');
    expect(log).toMatch(/no native addon is available/);
  });

  it('a prebuild that does not load is named, and the install still exits 0', () => {
    const dir = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'fused-optim.napi.glibc.node'), 'not a shared object');
    try {
      const r = install();
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/fused-optim\.napi\.glibc\.node does not load here \(.*Error.*\)/);
    } finally {
      fs.rmSync(path.join(pkg, 'prebuilds'), { recursive: true, force: true });
    }
  });

  it('FUSED_OPTIM_BUILD_FROM_SOURCE=1 or --build-from-source asks for a source build', () => {
    for (const env of [{ FUSED_OPTIM_BUILD_FROM_SOURCE: '1' }, { npm_config_build_from_source: 'true' }] as Record<string, string>[]) {
      const r = install(env);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/building from source \(FUSED_OPTIM_BUILD_FROM_SOURCE \/ --build-from-source\)/);
    }
  });

  it.runIf(fs.existsSync(path.join(root, 'build', 'Release', 'fused_optim.node')))('a binary that loads: nothing to do, nothing printed', () => {
    fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(path.join(root, 'build', 'Release', 'fused_optim.node'), path.join(pkg, 'build', 'Release', 'fused_optim.node'));
    try {
      const r = install();
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
    } finally {
      fs.rmSync(path.join(pkg, 'build', 'Release'), { recursive: true, force: true });
    }
  });
  if (!fs.existsSync(path.join(root, 'build', 'Release', 'fused_optim.node'))) console.log('install-script: the "binary that loads" case is skipped: build/Release is not built');
});
