/**
 * Facts about the run: date, machine (CPU model, cores, SIMD level, memory, load), Node and
 * package versions, git commit. Load averages are sampled during the run: the machine is
 * shared, and a busy moment shows there.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInfo } from '../../dist/index.js';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

export function loadAverage() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** Which binary ran: its path, build time and a short hash (the addon is rebuilt as native/ changes). */
function addonFile(path) {
  try {
    return {
      path: path.startsWith(PACKAGE_ROOT) ? path.slice(PACKAGE_ROOT.length + 1) : path,
      built: statSync(path).mtime.toISOString(),
      sha256: createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16),
    };
  } catch {
    return { path };
  }
}

export function machineInfo() {
  const info = buildInfo();
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  const commit = git(['rev-parse', '--short', 'HEAD']);
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    simd: info.simd,
    simdSupported: info.simdSupported,
    threadsAll: info.threads,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    package: `${pkg.name}@${pkg.version}`,
    addon: {
      version: info.version,
      compiler: info.compiler ?? null,
      chunkElements: info.chunkElements,
      ...addonFile(info.addon),
    },
    cuda: info.cuda,
    git: commit,
    gitDirty: commit ? git(['status', '--porcelain', '--', 'native', 'src']) !== '' : null,
  };
}
