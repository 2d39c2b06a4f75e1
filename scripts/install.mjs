#!/usr/bin/env node
// The package's `install` script (npm runs it after unpacking fused-optim).
//
// 1. Unless a source build is asked for, look for a binary that loads here: a build in the
//    package folder (build/Release), then the prebuild shipped in prebuilds/<platform>-<arch>/.
//    If one loads, there is nothing to do.
// 2. Otherwise, or when asked (FUSED_OPTIM_BUILD_FROM_SOURCE=1, or
//    `npm install|rebuild fused-optim --build-from-source`), build from source with cmake-js.
// 3. A failed or impossible build never fails `npm install`: the JavaScript-only parts
//    (schedules, refine, plot, the CLI's refine/plot) work without the addon, and the first
//    native call throws a NativeAddonError that says what to run. What is missing is printed
//    here (npm shows it with --foreground-scripts) and written to build/install.log, which
//    `npx fused-optim info` prints.
//
// Plain JavaScript with no imports from dist/: in a clone, npm runs this before `prepare`
// has compiled the TypeScript.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const say = (line) => process.stderr.write(`fused-optim install: ${line}\n`);

/** True for 1/true/yes (any case); npm passes `--build-from-source` as npm_config_build_from_source=true. */
function truthy(v) {
  return v !== undefined && /^(1|true|yes|on)$/i.test(String(v).trim());
}

export function sourceBuildRequested(env = process.env) {
  return truthy(env.FUSED_OPTIM_BUILD_FROM_SOURCE) || truthy(env.npm_config_build_from_source);
}

/** The binaries the loader would try (src/native.ts `addonCandidates`, without FUSED_OPTIM_BINARY). */
function candidates() {
  const out = [join(root, 'build', 'Release', 'fused_optim.node')];
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (existsSync(dir)) {
    for (const n of readdirSync(dir).sort()) if (n.endsWith('.node') && n.split('.').includes('napi')) out.push(join(dir, n));
  }
  return out.filter((p) => existsSync(p));
}

/** Loads a candidate in a child process (a crash there cannot take npm down); null when it loads, else the reason. */
function loadProblem(path) {
  const code = `const a = require(${JSON.stringify(path)}); if (typeof a.buildInfo !== 'function') throw new Error('not a fused-optim addon'); a.buildInfo();`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const msg = (r.stderr || '').split('\n').find((l) => /Error/.test(l)) ?? `exit code ${r.status}`;
  return msg.trim();
}

/** Whether an executable is on PATH (no shell, no `which`). */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return true;
  }
  return false;
}

/** What a source build needs and this machine lacks. */
export function missingPrerequisites() {
  const missing = [];
  if (!onPath('cmake')) missing.push('cmake >= 3.18 (e.g. `apt-get install cmake`, `dnf install cmake`, `pip install cmake`)');
  const cxx = process.env.CXX ? [process.env.CXX.split(' ')[0]] : ['c++', 'g++', 'clang++'];
  if (!cxx.some((c) => (c.includes('/') ? existsSync(c) : onPath(c)))) {
    missing.push(`a C++17 compiler (${process.env.CXX ? `CXX=${process.env.CXX} not found` : 'g++ or clang++; e.g. `apt-get install g++`'})`);
  }
  for (const dep of ['cmake-js/package.json', 'node-addon-api', 'node-api-headers']) {
    try {
      require.resolve(dep);
    } catch {
      missing.push(`the npm package ${dep.split('/')[0]} (a dependency of fused-optim; reinstall it)`);
    }
  }
  return missing;
}

function writeLog(text) {
  try {
    mkdirSync(join(root, 'build'), { recursive: true });
    writeFileSync(join(root, 'build', 'install.log'), text);
  } catch {
    // the log is a convenience; a read-only folder must not fail the install
  }
}

function giveUp(lines) {
  const text = [
    'fused-optim: no native addon is available, so the optimizer steps will throw a NativeAddonError.',
    ...lines,
    'The JavaScript-only parts (fused-optim/schedules, /refine, /plot; `fused-optim refine|plot`) work without it.',
    'Fix the above, then run `FUSED_OPTIM_BUILD_FROM_SOURCE=1 npm rebuild fused-optim`.',
  ].join('\n');
  for (const l of text.split('\n')) say(l);
  writeLog(`${new Date().toISOString()}\n${text}\n`);
}

function main() {
  const requested = sourceBuildRequested();
  const problems = [];
  if (!requested) {
    for (const c of candidates()) {
      const problem = loadProblem(c);
      if (problem === null) return; // a binary loads: nothing to build
      problems.push(`${c} does not load here (${problem})`);
    }
    if (problems.length === 0) problems.push(`no prebuilt binary for ${process.platform}-${process.arch} in this package`);
    say(`${problems.join('; ')}: building from source`);
  } else {
    say('building from source (FUSED_OPTIM_BUILD_FROM_SOURCE / --build-from-source)');
  }
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    giveUp([...problems, `A source build needs what this machine lacks: ${missing.join('; ')}.`]);
    return;
  }
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const started = Date.now();
  const r = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    const tail = log.trimEnd().split('\n').slice(-25);
    giveUp([...problems, `The source build failed (cmake-js compile, exit ${r.status ?? r.signal}); its last lines:`, ...tail.map((l) => `  ${l}`)]);
    return;
  }
  const built = join(root, 'build', 'Release', 'fused_optim.node');
  const problem = existsSync(built) ? loadProblem(built) : 'not written';
  if (problem !== null) {
    giveUp([...problems, `The source build finished but ${built} does not load (${problem}).`]);
    return;
  }
  say(`built ${built} from source in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeLog(`${new Date().toISOString()}\nbuilt from source\n${log}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (e) {
    // never fail npm install
    say(`unexpected error, continuing without a native build: ${e instanceof Error ? e.message : String(e)}`);
  }
}
