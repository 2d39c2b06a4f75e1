/**
 * `fused-optim info [--json]`: what this installation runs on. The package version and Node.js;
 * the native addon that loaded (its path, and whether it is the shipped prebuild, a local
 * build or `FUSED_OPTIM_BINARY`), what it was built with, the SIMD level and thread count in
 * use, whether CUDA is compiled in and usable (and why not). When no addon loads, it prints
 * why and what to run, with the install script's log when there is one, and exits 1.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadedAddon, loadNative, type LoadedAddon, type NativeBuildInfo } from '../native.js';
import { CliError, type CliCommand, type CliIO } from './common.js';

/**
 * The folder of fused-optim's own package.json: the nearest one above this module named
 * fused-optim (this file is dist/cli/info.js, src/cli/info.ts, or a test's private build).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'fused-optim') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`fused-optim: cannot find its own package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The version of the installed fused-optim package. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

const SOURCE_WORDS: Record<LoadedAddon['source'], string> = {
  prebuild: 'prebuilt binary shipped in the package',
  local: 'local build (build/ in the package folder)',
  env: 'FUSED_OPTIM_BINARY',
};

/** Everything `info` reports, as `--json` prints it. */
export interface InfoReport {
  version: string;
  node: string;
  platform: string;
  addon: (LoadedAddon & { build: NativeBuildInfo }) | { error: string; installLog?: string };
}

/** Collects the report; never throws (a failed load is part of the report). */
export function infoReport(): InfoReport {
  const base = { version: packageVersion(), node: process.version, platform: `${process.platform}-${process.arch}` };
  try {
    const addon = loadNative();
    return { ...base, addon: { ...loadedAddon(), build: addon.buildInfo() } };
  } catch (e) {
    // written by scripts/install.mjs when it could not provide an addon
    const log = join(packageRoot(), 'build', 'install.log');
    return { ...base, addon: { error: (e as Error).message, ...(existsSync(log) && { installLog: readFileSync(log, 'utf8').trim() }) } };
  }
}

function formatReport(r: InfoReport): string {
  const lines = [`fused-optim ${r.version} on Node.js ${r.node} (${r.platform})`];
  const a = r.addon;
  if ('error' in a) {
    lines.push('addon:     not loaded; the optimizer steps are unavailable (schedules, refine and plot work)');
    lines.push(`           ${a.error}`);
    if (a.installLog) lines.push('install log (build/install.log):', ...a.installLog.split('\n').map((l) => `  ${l}`));
    return `${lines.join('\n')}\n`;
  }
  const b = a.build;
  lines.push(`addon:     ${a.path}`);
  lines.push(`           ${SOURCE_WORDS[a.source]}; Node-API ${b.napiVersion}, built as fused-optim ${b.version}${b.compiler ? ` by g++ ${b.compiler}` : ''}`);
  for (const rej of a.rejected) lines.push(`           (skipped ${rej.path}: ${rej.reason})`);
  lines.push(`SIMD:      ${b.simd} in use; this CPU supports ${b.simdSupported.join(', ')}${process.env.FUSED_OPTIM_SIMD ? ` (FUSED_OPTIM_SIMD=${process.env.FUSED_OPTIM_SIMD})` : ''}`);
  lines.push(`threads:   ${b.threads}${process.env.FUSED_OPTIM_THREADS ? ` (FUSED_OPTIM_THREADS=${process.env.FUSED_OPTIM_THREADS})` : ''}; ${b.chunkElements} elements per chunk`);
  const c = b.cuda;
  if (!c.compiled) lines.push(`CUDA:      not compiled in${c.reason ? ` (${c.reason})` : ''}`);
  else if (!c.available) lines.push(`CUDA:      compiled in (runtime ${c.runtimeVersion ?? '?'}), not usable: ${c.reason ?? 'no reason given'}`);
  else lines.push(`CUDA:      usable: runtime ${c.runtimeVersion ?? '?'}, driver ${c.driverVersion ?? '?'}; ${c.devices.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

export const infoCommand: CliCommand = {
  name: 'info',
  register(program: Command, io: CliIO): void {
    program
      .command('info')
      .description('the package and Node.js versions, which native binary loaded (prebuilt or local build), its SIMD level, threads, and CUDA (and why not)')
      .option('--json', 'print the report as JSON')
      .action((opts: { json?: boolean }) => {
        const r = infoReport();
        io.stdout(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatReport(r));
        if ('error' in r.addon) throw new CliError('the native addon did not load (see above)');
      });
  },
};
