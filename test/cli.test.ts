/**
 * The `fused-optim` CLI: refine and plot in-process (runCli with collected output), error
 * handling, command registration, and the built bin spawned as a process.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, CliError, COMMANDS, runCli, withoutTempNames, type CliCommand } from '../src/cli.js';
import { writeOutput } from '../src/cli/common.js';
import { NormTrace } from '../src/trace.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let tracePath: string;
let trace: NormTrace;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-cli-'));
  trace = new NormTrace({ kind: 'adamw' });
  const T = 3000;
  for (let i = 0; i < T; i++) {
    const g = 1 + 5 * Math.exp(-i / (0.05 * T)) + 0.2 * Math.sin(i * 1.3);
    const skip = i % 500 === 77;
    trace.push(skip ? NaN : g / 10, skip ? Infinity : g * 100, skip ? 1 : 0, 3e-4);
  }
  tracePath = path.join(dir, 'run.trace.json');
  await trace.save(tracePath);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

/** Minimal well-formedness check: an <svg> root and balanced tags. */
function expectWellFormedSvg(svg: string): void {
  expect(svg.trimStart().startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
}

/** Plain, one-line error: the 'fused-optim: ' prefix, no stack trace. */
function expectOneLineError(r: { code: number; err: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.err.endsWith('\n')).toBe(true);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/^fused-optim: /);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.err).toMatch(pattern);
}

describe('fused-optim refine', () => {
  it('writes the schedule file and the plot', async () => {
    const out = path.join(dir, 's.json');
    const svg = path.join(dir, 's.svg');
    const r = await run('refine', tracePath, '--peak', '3e-4', '--out', out, '--plot', svg);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^3000 steps, adam \(L1 norms\), closed-form, tau 0.1, width 301, 6 skipped steps filled, peak 0.0003 at step \d+, last 0 -> .*s.json, plot -> .*s.svg\n$/);
    const s = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(s).toMatchObject({ format: 'fused-optim/schedule', version: 1, kind: 'adamw', method: 'adam', norm: 'l1', solver: 'closed-form', tau: 0.1, peak: 3e-4, width: 301, skipped: 'fill', skippedCount: 6, length: 3000 });
    expect(s.schedule).toEqual(Array.from(trace.refine({ peak: 3e-4 })));
    expect(s.norms).toHaveLength(3000);
    expect(s.smoothed).toHaveLength(3000);
    const text = fs.readFileSync(svg, 'utf8');
    expectWellFormedSvg(text);
    for (const label of ['raw', 'median-filtered (width 301)', 'refined', 'linear decay', 'Learning rate', 'Gradient norms (L1 norm, adamw)']) {
      expect(text).toContain(label);
    }
    expect(text.length).toBeLessThan(400_000); // downsampled
  });

  it('prints the schedule JSON to stdout without --out (summary on stderr)', async () => {
    const r = await run('refine', tracePath, '--method', 'sgd', '--tau', '0.2', '--skipped', 'drop');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.method).toBe('sgd');
    expect(s.norm).toBe('l2');
    expect(s.length).toBe(2994);
    expect(s.schedule).toEqual(Array.from(trace.refine({ method: 'sgd', tau: 0.2, skipped: 'drop', peak: 3e-4 }))); // peak: the trace's recorded lr
    expect(r.err).toMatch(/6 skipped steps dropped/);
  });

  it('--solver bound', async () => {
    const out = path.join(dir, 'b.json');
    const r = await run('refine', tracePath, '--solver', 'bound', '--iterations', '200', '--out', out);
    expect(r.code).toBe(0);
    const s = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(s.solver).toBe('bound');
    expect(s.bound).toBeGreaterThan(0);
    expect(s.schedule[2999]).toBeGreaterThan(0);
  });

  it('bad input: one clear line, non-zero exit', async () => {
    expectOneLineError(await run('refine', path.join(dir, 'missing.json')), /missing.json: no such file/);
    expectOneLineError(await run('refine', tracePath, '--tau', '2'), /Expected a number in \[0, 1\] for --tau but received '2'/);
    expectOneLineError(await run('refine', tracePath, '--peak', 'abc'), /--peak/);
    expectOneLineError(await run('refine', tracePath, '--method', 'lion'), /Allowed choices are sgd, adam/);
    expectOneLineError(await run('refine', tracePath, '--methd', 'sgd'), /unknown option '--methd' \(Did you mean --method\?\)/);
    expectOneLineError(await run('refine'), /missing required argument/);
    expectOneLineError(await run('frobnicate'), /unknown command 'frobnicate'/);
    const notJson = path.join(dir, 'not.json');
    fs.writeFileSync(notJson, '{oops');
    expectOneLineError(await run('refine', notJson), /not.json: not valid JSON/);
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, '{"hello": 1}');
    expectOneLineError(await run('refine', other), /Expected a NormTrace \(format 'fused-optim\/norm-trace'\) or a schedule .* without a format field/);
    const v2 = path.join(dir, 'v2.json');
    fs.writeFileSync(v2, JSON.stringify({ ...trace.toJSON(), version: 2 }));
    expectOneLineError(await run('refine', v2), /v2.json: .*for json.version but received 2/);
    const diverged = path.join(dir, 'diverged.json');
    NormTrace.fromArrays({ kind: 'sgd', l2: [1, NaN, 1], l1: [1, 1, 1] }).saveSync(diverged);
    expectOneLineError(await run('refine', diverged), /diverged.json: Expected a finite norm \(step 1 was not skipped\)/);
    const short = path.join(dir, 'short.json');
    NormTrace.fromArrays({ kind: 'sgd', l2: [1], l1: [1] }).saveSync(short);
    expectOneLineError(await run('refine', short), /at least 2 steps/);
    const sched = path.join(dir, 'sched.json');
    expect((await run('refine', tracePath, '--out', sched)).code).toBe(0);
    expectOneLineError(await run('refine', sched), /is a schedule file; refine needs a NormTrace/);
    expectOneLineError(await run('refine', tracePath, '--out', path.join(dir, 'no', 'such', 'dir.json')), /--out .*dir.json: the folder .*such does not exist/);
  });
});

describe('refine: outputs and defaults', () => {
  it('--peak defaults to the largest learning rate the trace recorded', async () => {
    const out = path.join(dir, 'peak-default.json');
    const r = await run('refine', tracePath, '--out', out);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(s.peak).toBe(3e-4); // every step of the trace recorded lr 3e-4
    expect(Math.max(...s.schedule)).toBeCloseTo(3e-4, 12);
    expect(s.schedule).toEqual(Array.from(trace.refine({ peak: 3e-4 })));
    // a trace without learning rates (all NaN) keeps the old default of 1
    const nolr = path.join(dir, 'nolr.json');
    NormTrace.fromArrays({ kind: 'sgd', l2: [3, 2, 1, 1], l1: [3, 2, 1, 1] }).saveSync(nolr);
    const out2 = path.join(dir, 'nolr-sched.json');
    expect((await run('refine', nolr, '--out', out2)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(out2, 'utf8')).peak).toBe(1);
    // plot of a trace takes the same default: the learning-rate axis ends near 3e-4, not 1
    const svg = path.join(dir, 'peak-default.svg');
    expect((await run('plot', tracePath, '--out', svg)).code).toBe(0);
    expect(fs.readFileSync(svg, 'utf8')).toMatch(/0\.0003/);
  });

  it('--plot into a missing folder fails before anything is printed or written', async () => {
    const sched = path.join(dir, 'never.json');
    const r = await run('refine', tracePath, '--plot', path.join(dir, 'missing-dir', 'p.svg'));
    expectOneLineError(r, /--plot .*p\.svg: the folder .*missing-dir does not exist/);
    expect(r.out).toBe('');
    const r2 = await run('refine', tracePath, '--out', sched, '--plot', path.join(dir, 'missing-dir', 'p.svg'));
    expect(r2.code).toBe(1);
    expect(fs.existsSync(sched)).toBe(false);
    expectOneLineError(await run('refine', tracePath, '--out', dir), /--out .*: is a folder; give a file name/);
    expectOneLineError(await run('plot', tracePath, '--out', `${dir}/`), /names a folder/);
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'x');
    expectOneLineError(await run('plot', tracePath, '--out', path.join(file, 'x.svg')), /a-file is not a folder/);
  });

  it('write errors name the file, never the temporary file of the atomic write', async () => {
    const target = path.join(dir, 'gone', 'deeper', 's.json');
    const err = await writeOutput(target, 'x', '--out').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(CliError);
    expect(err?.message).toBe(`--out ${target}: cannot write (its folder does not exist)`);
    expect(err?.message).not.toMatch(/\.tmp|\.s\.json\./);
    // and errors of writes a command does not wrap: the temporary name becomes the real one
    expect(withoutTempNames("ENOENT: no such file or directory, open '/x/out/.s.json.17282.fc80440e53c1.tmp'")).toBe(
      "ENOENT: no such file or directory, open '/x/out/s.json'",
    );
    expect(withoutTempNames('rename .a.svg.1.00000000abcd.tmp -> a.svg')).toBe('rename a.svg -> a.svg');
    expect(withoutTempNames("open '/d/.s.json.4242.3.0123456789ab.tmp'")).toBe("open '/d/s.json'"); // with a thread id
    expect(withoutTempNames('plain message.tmp stays')).toBe('plain message.tmp stays');
  });
});

describe('fused-optim plot', () => {
  it('plots a schedule file', async () => {
    const sched = path.join(dir, 'p.json');
    expect((await run('refine', tracePath, '--out', sched)).code).toBe(0);
    const svg = path.join(dir, 'p.svg');
    const r = await run('plot', sched, '--out', svg, '--title', 'My run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/plot -> .*p.svg/);
    const text = fs.readFileSync(svg, 'utf8');
    expectWellFormedSvg(text);
    expect(text).toContain('My run');
    expect(text).toContain('median-filtered');
  });

  it('plots a trace directly (refining it with the options)', async () => {
    const svg = path.join(dir, 't.svg');
    const r = await run('plot', tracePath, '--out', svg, '--method', 'sgd');
    expect(r.code).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expectWellFormedSvg(text);
    expect(text).toContain('L2 norm');
  });

  it('plots a schedule file without norms (only the learning-rate panel)', async () => {
    const sched = path.join(dir, 'bare.json');
    fs.writeFileSync(sched, JSON.stringify({ format: 'fused-optim/schedule', version: 1, method: 'sgd', length: 3, schedule: [1, 0.5, 0] }));
    const svg = path.join(dir, 'bare.svg');
    expect((await run('plot', sched, '--out', svg)).code).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expectWellFormedSvg(text);
    expect(text).not.toContain('Gradient norms');
  });

  it('errors', async () => {
    expectOneLineError(await run('plot', tracePath), /required option '--out <file.svg>' not specified/);
    const bad = path.join(dir, 'bad-sched.json');
    fs.writeFileSync(bad, JSON.stringify({ format: 'fused-optim/schedule', version: 1, method: 'sgd', length: 3, schedule: [1, 'x', 0] }));
    expectOneLineError(await run('plot', bad, '--out', path.join(dir, 'x.svg')), /Expected a finite number for schedule\[1\] but received 'x' of type string/);
    fs.writeFileSync(bad, JSON.stringify({ format: 'fused-optim/schedule', version: 3, method: 'sgd', length: 1, schedule: [1] }));
    expectOneLineError(await run('plot', bad, '--out', path.join(dir, 'x.svg')), /version 3 is newer/);
    fs.writeFileSync(bad, JSON.stringify({ format: 'fused-optim/schedule', version: 1, method: 'sgd', length: 2, schedule: [1] }));
    expectOneLineError(await run('plot', bad, '--out', path.join(dir, 'x.svg')), /Expected 2 values \(length\) for schedule but received Array\(1\)/);
  });
});

describe('program structure', () => {
  it('buildProgram registers every command of COMMANDS; --help exits 0', async () => {
    const program = buildProgram({ stdout: () => undefined, stderr: () => undefined });
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    expect(COMMANDS.map((c) => c.name).slice(0, 2)).toEqual(['refine', 'plot']);
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/refine \[options\] <trace.json>/);
    expect(r.out).toMatch(/plot \[options\] <file.json>/);
    expect((await run('refine', '--help')).out).toMatch(/--tau <tau>/);
  });

  it('a new command module plugs in', async () => {
    const hello: CliCommand = {
      name: 'hello',
      register(program, io) {
        program
          .command('hello')
          .argument('<who>')
          .action((who: string) => {
            if (who === 'nobody') throw new RangeError('Expected somebody for who but received nobody');
            io.stdout(`hello ${who}\n`);
          });
      },
    };
    COMMANDS.push(hello);
    try {
      expect(await run('hello', 'world')).toEqual({ code: 0, out: 'hello world\n', err: '' });
      expectOneLineError(await run('hello', 'nobody'), /^fused-optim: error: Expected somebody for who but received nobody\n$/);
    } finally {
      COMMANDS.pop();
    }
  });
});

describe('the built bin (node dist/cli.js)', () => {
  // Built into a private folder so that concurrent builds of dist/ do not race with it.
  const out = path.join(repo, 'tmp', `cli-test-${process.pid}`);
  const bin = path.join(out, 'cli.js');

  beforeAll(() => {
    try {
      execFileSync(path.join(repo, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], {
        cwd: repo,
        stdio: 'pipe',
      });
    } catch {
      // type errors elsewhere in the project do not stop tsc from emitting
    }
  }, 180_000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('starts with a shebang and runs refine', () => {
    expect(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const sched = path.join(dir, 'bin.json');
    const r = spawnSync(process.execPath, [bin, 'refine', tracePath, '--out', sched], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(sched, 'utf8')).length).toBe(3000);
  });

  it('runs through a symlink (as npm installs bins), and exits 1 with one line on bad input', () => {
    const link = path.join(dir, 'fused-optim');
    fs.symlinkSync(bin, link);
    const r = spawnSync(process.execPath, [link, 'refine', path.join(dir, 'nope.json')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^fused-optim: error: .*nope.json: no such file\n$/);
    const u = spawnSync(process.execPath, [link, 'refine', tracePath, '--bogus'], { encoding: 'utf8' });
    expect(u.status).toBe(1);
    expect(u.stderr).toBe("fused-optim: error: unknown option '--bogus'\n");
  });

  it('--version prints the package version', () => {
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version}\n`);
  });

  it('a closed pipe (refine t.json | head -1) ends quietly', async () => {
    // a trace long enough that the schedule JSON outgrows the pipe buffer
    const long = path.join(dir, 'long.trace.json');
    const t = new NormTrace({ kind: 'sgd' });
    for (let i = 0; i < 200_000; i++) t.push(1 + 1 / (1 + i), 2, 0, 0.1);
    await t.save(long);
    const child = spawn(process.execPath, [bin, 'refine', long], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => void (err += d));
    // read the first chunk, then close our end, as `head -1` does
    await new Promise<void>((done) => child.stdout.once('data', () => (child.stdout.destroy(), done())));
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(err).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(code).toBe(0);
  });

  it('importing the module does not run the CLI', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(bin)}).then(m => console.log(typeof m.buildProgram))`], {
      encoding: 'utf8',
    });
    expect(r.stdout.trim()).toBe('function');
    expect(r.stderr).toBe('');
  });
});
