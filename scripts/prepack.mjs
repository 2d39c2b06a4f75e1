#!/usr/bin/env node
// `npm pack` / `npm publish` run this (package.json "prepack"). It makes what the tarball
// ships and checks it:
//
// 1. dist/ compiled afresh from src/ (a stale dist/ file could otherwise ship);
// 2. the prebuilt binary prebuilds/<platform>-<arch>/fused-optim.napi.glibc.node:
//    build/Release/fused_optim.node when it qualifies (this package version, CUDA compiled in,
//    libstdc++ linked in, glibc floor kept), else a fresh cmake-js build in build-prebuild/
//    with FUSED_OPTIM_CUDA=ON; stripped of debug symbols;
// 3. every source map in dist/ points at a file that ships (src/ ships for that reason).
//
// FUSED_OPTIM_PREBUILD_CPU_ONLY=1 accepts a binary without the CUDA backend (a machine
// without nvcc); the published package is built with it compiled in.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_FLOOR, glibcNeeds } from './check-glibc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const cpuOnly = /^(1|true|yes)$/i.test(process.env.FUSED_OPTIM_PREBUILD_CPU_ONLY ?? '');
const say = (s) => process.stderr.write(`prepack: ${s}\n`);
const fail = (s) => {
  say(`error: ${s}`);
  process.exit(1);
};

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

// 1. dist/
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:ts']);

// 2. the prebuild
/** Why `file` cannot be the prebuild, or null when it can. */
function unfit(file) {
  if (!existsSync(file)) return 'not built';
  const probe = spawnSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(file)}).buildInfo())`], { encoding: 'utf8' });
  if (probe.status !== 0) return `does not load (${probe.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? probe.status})`;
  const info = JSON.parse(probe.stdout);
  if (info.version !== pkg.version) return `built for version ${info.version}, the package is ${pkg.version}`;
  if (!info.cuda.compiled && !cpuOnly) return 'built without the CUDA backend (set FUSED_OPTIM_PREBUILD_CPU_ONLY=1 to accept that)';
  let needs;
  try {
    needs = glibcNeeds(file);
  } catch (e) {
    fail(`objdump (binutils) is needed to check the glibc floor: ${e.message}`);
  }
  if (needs.libraries.some((l) => l.startsWith('libstdc++'))) return 'links libstdc++ dynamically (built with FUSED_OPTIM_STATIC_RUNTIME=OFF?)';
  if (needs.above.length > 0) return `needs glibc above ${GLIBC_FLOOR}: ${needs.above.join(', ')}`;
  return null;
}

const local = join(root, 'build', 'Release', 'fused_optim.node');
let source = local;
let why = unfit(local);
if (why !== null) {
  say(`build/Release/fused_optim.node is not fit to ship (${why}); building the prebuild in build-prebuild/`);
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  run(process.execPath, [cmakeJs, 'compile', '--out', 'build-prebuild'], { FUSED_OPTIM_CUDA: cpuOnly ? 'AUTO' : 'ON' });
  source = join(root, 'build-prebuild', 'Release', 'fused_optim.node');
  why = unfit(source);
  if (why !== null) fail(`the fresh build ${relative(root, source)} is not fit to ship either: ${why}`);
}
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const target = join(dir, 'fused-optim.napi.glibc.node');
copyFileSync(source, target);
try {
  execFileSync('strip', ['--strip-debug', target]);
} catch {
  say('strip not found: the prebuild keeps its debug symbols');
}
why = unfit(target);
if (why !== null) fail(`${relative(root, target)}: ${why}`);
const needs = glibcNeeds(target);
say(`${relative(root, target)} from ${relative(root, source)}: ${(statSync(target).size / 1e6).toFixed(2)} MB, glibc >= ${needs.highest}, needs ${needs.libraries.join(' ')}`);

// 3. source maps
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
const shipped = new Set(pkg.files);
for (const map of walk(join(root, 'dist')).filter((f) => f.endsWith('.map'))) {
  for (const s of JSON.parse(readFileSync(map, 'utf8')).sources) {
    const abs = resolve(dirname(map), s);
    const top = relative(root, abs).split(/[\\/]/)[0];
    if (!existsSync(abs) || !shipped.has(top)) fail(`${relative(root, map)} points at ${relative(root, abs)}, which the package does not ship`);
  }
}
say('dist/, the prebuild and the source maps are ready');
