/**
 * src/fs-atomic.ts: the one atomic write. Errors name the target, never a temporary file; a
 * later save removes the temporary files a killed save left behind (and only those).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeFileAtomic, writeFileAtomicSync } from '../src/fs-atomic.js';
import { ensureDist, root } from './support/dist.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-atomic-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A process id that no longer exists: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const tempName = (base: string, pid: number, hex = 'a1b2c3d4e5f6', thread = 0): string => `.${base}.${pid}.${thread}.${hex}.tmp`;

describe('writeFileAtomic', () => {
  it('writes strings, bytes and chunks, replacing the old file whole', async () => {
    const p = path.join(dir, 'a.txt');
    await writeFileAtomic(p, 'one');
    expect(fs.readFileSync(p, 'utf8')).toBe('one');
    writeFileAtomicSync(p, new Uint8Array([0x74, 0x77, 0x6f]));
    expect(fs.readFileSync(p, 'utf8')).toBe('two');
    await writeFileAtomic(p, ['th', new Uint8Array([0x72]), 'ee']);
    expect(fs.readFileSync(p, 'utf8')).toBe('three');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
    fs.rmSync(p);
  });

  it('rejects a bad path with a TypeError/RangeError naming it', async () => {
    await expect(writeFileAtomic(3 as never, 'x')).rejects.toThrow(/^Expected a file path string for path but received 3 of type number$/);
    expect(() => writeFileAtomicSync('', 'x')).toThrow(RangeError);
  });

  it('errors name the target, never the temporary file (missing directory, target is a directory)', async () => {
    const missing = path.join(dir, 'no-such-dir', 'x.json');
    for (const attempt of [() => writeFileAtomic(missing, 'x'), async () => writeFileAtomicSync(missing, 'x')]) {
      const e = (await attempt().then(() => null, (err: unknown) => err)) as NodeJS.ErrnoException;
      expect(e).toBeInstanceOf(Error);
      expect(e.code).toBe('ENOENT');
      expect(e.message).toContain(missing);
      expect(e.message).not.toMatch(/\.tmp/);
      expect(e.stack).not.toMatch(/\.tmp/);
      expect(e.path).toBe(missing);
    }
    const isDir = path.join(dir, 'a-directory');
    fs.mkdirSync(isDir);
    for (const attempt of [() => writeFileAtomic(isDir, 'x'), async () => writeFileAtomicSync(isDir, 'x')]) {
      const e = (await attempt().then(() => null, (err: unknown) => err)) as NodeJS.ErrnoException;
      expect(e.code).toBe('EISDIR');
      expect(e.syscall).toBe('rename');
      expect(e.message).toBe(`EISDIR: illegal operation on a directory, rename '${isDir}'`);
      expect(e.path).toBe(isDir);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['a-directory']);
    fs.rmdirSync(isDir);
  });

  it('an error thrown by the content passes through unchanged; the old file stays', async () => {
    const p = path.join(dir, 'keep.json');
    fs.writeFileSync(p, 'old');
    const boom = new Error('disk on fire');
    function* failing(): Generator<string> {
      yield 'new';
      throw boom;
    }
    await expect(writeFileAtomic(p, failing())).rejects.toBe(boom);
    expect(() => writeFileAtomicSync(p, failing())).toThrow(boom);
    expect(fs.readFileSync(p, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['keep.json']);
    fs.rmSync(p);
  });

  it('a later save removes temporaries of a dead process or of this one (not in flight), and nothing else', async () => {
    const p = path.join(dir, 'ckpt.bin');
    const dead = deadPid();
    const stale = [
      tempName('ckpt.bin', dead),
      tempName('ckpt.bin', dead, '000000000000', 3),
      `.ckpt.bin.${dead}.0123456789ab.tmp`, // the naming without a thread id
      tempName('ckpt.bin', process.pid),
    ];
    const kept = [
      tempName('ckpt.bin', process.ppid), // a live process: maybe a concurrent writer
      tempName('ckpt.bin', process.pid, 'a1b2c3d4e5f6', 7), // another worker thread of this process
      tempName('other.bin', dead), // another target
      '.ckpt.bin.tmp', // not this naming
      `.ckpt.bin.${dead}.xyz.tmp`,
      'ckpt.bin.bak',
    ];
    for (const f of [...stale, ...kept]) fs.writeFileSync(path.join(dir, f), 'leftover');
    await writeFileAtomic(p, 'new');
    expect(fs.readdirSync(dir).sort()).toEqual([...kept, 'ckpt.bin'].sort());
    for (const f of stale) fs.writeFileSync(path.join(dir, f), 'leftover');
    writeFileAtomicSync(p, 'newer');
    expect(fs.readdirSync(dir).sort()).toEqual([...kept, 'ckpt.bin'].sort());
    expect(fs.readFileSync(p, 'utf8')).toBe('newer');
    for (const f of [...kept, 'ckpt.bin']) fs.rmSync(path.join(dir, f));
  });

  it('concurrent saves of this process to the same target do not remove each other’s temporaries', async () => {
    const p = path.join(dir, 'busy.json');
    // Each write yields to the event loop between its directory scan, open, writes and rename;
    // run many at once: a scan must not take another write's temporary file for a leftover.
    const writes = Array.from({ length: 20 }, (_, i) => writeFileAtomic(p, [`${i}`.padStart(3, '0'), 'x'.repeat(1 << 16)]));
    await Promise.all(writes);
    expect(fs.readFileSync(p, 'utf8')).toMatch(/^\d{3}x{65536}$/);
    expect(fs.readdirSync(dir)).toEqual(['busy.json']);
    fs.rmSync(p);
  });

  it('after a save is killed (SIGKILL mid-write), the next save cleans up its temporary file', async () => {
    ensureDist();
    const p = path.join(dir, 'killed.json');
    fs.writeFileSync(p, 'old');
    // The child opens the temporary file, writes a first chunk, then blocks for ever.
    const script = `
      const { writeFileAtomicSync } = await import(${JSON.stringify(path.join(root, 'dist', 'fs-atomic.js'))});
      function* chunks() {
        yield 'partial';
        process.stdout.write('writing\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      writeFileAtomicSync(${JSON.stringify(p)}, chunks());`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
      child.on('exit', (code) => reject(new Error(`the child exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const leftovers = fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([tempName('killed.json', child.pid!, leftovers[0]?.split('.').at(-2), 0)]);
    expect(fs.readFileSync(p, 'utf8')).toBe('old');
    await writeFileAtomic(p, 'new');
    expect(fs.readdirSync(dir)).toEqual(['killed.json']);
    expect(fs.readFileSync(p, 'utf8')).toBe('new');
    fs.rmSync(p);
  });
});
