/**
 * Atomic file writes, the one implementation used by checkpoints, traces, the CLI and the demo.
 *
 * A write goes to a temporary file next to the target (same directory, so the same file
 * system), which is written, fsynced, closed and renamed over the target; then the directory is
 * fsynced where the platform allows. Readers see the old file or the new one, never a torn one.
 *
 * Temporary files are named `.<name>.<pid>.<thread id>.<12 hex digits>.tmp`. Two promises hold:
 * - Errors never show a temporary name: an `fs` error keeps its class, `code`, `errno` and
 *   `syscall`, but its message, stack and `path` name the target file.
 * - A save that was killed (SIGKILL, power loss) leaves its temporary file behind; the next
 *   save to the same target removes such leftovers: temporary files of this naming for that
 *   target whose process no longer exists, or that belong to this thread of this process but
 *   to no write in flight. A temporary file of another live process, or of another worker
 *   thread of this one (a concurrent writer), is left alone.
 * @module
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { threadId } from 'node:worker_threads';

import { filePath } from './validate.js';

/** What {@link writeFileAtomic} writes: a string (UTF-8), bytes, or an iterable of chunks. */
export type AtomicContent = string | Uint8Array | Iterable<string | Uint8Array>;

/** Temporary files of this process that a write is using right now. */
const inFlight = new Set<string>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tempPathFor(target: string): string {
  const dir = nodePath.dirname(target);
  const base = nodePath.basename(target);
  return nodePath.join(dir, `.${base}.${process.pid}.${threadId}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Whether a process with this id exists (EPERM: it exists but belongs to someone else). */
function processExists(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The leftover temporary files for `target` among the names in its directory (full paths):
 * this module's naming for this target, from a dead process, or from this thread of this
 * process but not in flight. (Names without a thread id, `.<name>.<pid>.<hex>.tmp`, count as
 * thread 0.)
 */
function staleTemps(target: string, names: readonly string[]): string[] {
  const dir = nodePath.dirname(target);
  const pattern = new RegExp(`^\\.${escapeRegExp(nodePath.basename(target))}\\.(\\d+)(?:\\.(\\d+))?\\.[0-9a-f]{12}\\.tmp$`);
  const out: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const full = nodePath.join(dir, name);
    const pid = Number(m[1]);
    const thread = m[2] === undefined ? 0 : Number(m[2]);
    const stale = pid === process.pid ? thread === threadId && !inFlight.has(full) : !processExists(pid);
    if (stale) out.push(full);
  }
  return out;
}

async function removeStaleTemps(target: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(nodePath.dirname(target));
  } catch {
    return; // the write itself reports a missing or unreadable directory
  }
  await Promise.all(staleTemps(target, names).map((p) => fsp.unlink(p).catch(() => undefined)));
}

function removeStaleTempsSync(target: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(nodePath.dirname(target));
  } catch {
    return;
  }
  for (const p of staleTemps(target, names)) {
    try {
      fs.unlinkSync(p);
    } catch {
      /* removed by someone else meanwhile */
    }
  }
}

/**
 * Rewrites an `fs` error of the temporary file so that it names the target instead (message,
 * stack, `path`; a rename's "'tmp' -> 'target'" becomes "'target'"). Other errors, e.g. one
 * thrown by the content iterable, pass unchanged.
 */
function inTermsOfTarget(e: unknown, tmp: string, target: string): unknown {
  if (!(e instanceof Error)) return e;
  const fix = (s: string): string => s.split(`'${tmp}' -> '${target}'`).join(`'${target}'`).split(tmp).join(target);
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (err.message.includes(tmp)) err.message = fix(err.message);
  if (err.stack?.includes(tmp)) err.stack = fix(err.stack);
  if (err.path === tmp) err.path = target;
  if (err.dest === target && err.syscall === 'rename') delete err.dest;
  return err;
}

function* chunksOf(content: AtomicContent): Generator<Uint8Array> {
  const chunks = typeof content === 'string' || content instanceof Uint8Array ? [content] : content;
  for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const dh = await fsp.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* directories cannot be fsynced on every platform */
  }
}

function fsyncDirSync(dir: string): void {
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* directories cannot be fsynced on every platform */
  }
}

/**
 * Writes a file atomically (see the module comment): readers see the old file or the new one,
 * never a partial one. On error the temporary file is removed and the old file is intact; the
 * error names `path`, never the temporary file.
 *
 * @param path - the file to create or replace.
 * @param content - a string (written as UTF-8), bytes, or an iterable of chunks written in
 *   order (a generator lets a large file be written without one huge string).
 * @throws TypeError/RangeError for a bad `path`; the `fs` error (with `code`) when the
 *   directory is missing, not writable, or the disk is full.
 * @example
 * ```ts
 * const file = path.join(dir, 'schedule.json');
 * await writeFileAtomic(file, JSON.stringify({ lr: [0.1, 0.05, 0] }));
 * fs.readFileSync(file, 'utf8'); // → '{"lr":[0.1,0.05,0]}'
 * ```
 */
export async function writeFileAtomic(path: string, content: AtomicContent): Promise<void> {
  const target = filePath('path', path);
  await removeStaleTemps(target);
  const tmp = tempPathFor(target);
  inFlight.add(tmp);
  try {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(tmp, 'wx', 0o644);
    } catch (e) {
      throw inTermsOfTarget(e, tmp, target);
    }
    try {
      for (const c of chunksOf(content)) {
        let off = 0;
        while (off < c.length) off += (await fh.write(c, off, c.length - off)).bytesWritten;
      }
      await fh.sync();
      await fh.close();
      await fsp.rename(tmp, target);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fsp.unlink(tmp).catch(() => undefined);
      throw inTermsOfTarget(e, tmp, target);
    }
  } finally {
    inFlight.delete(tmp);
  }
  await fsyncDir(nodePath.dirname(target));
}

/**
 * {@link writeFileAtomic}, synchronously.
 * @example
 * ```ts
 * const file = path.join(dir, 'out.txt');
 * writeFileAtomicSync(file, ['line 1\n', 'line 2\n']);
 * fs.readFileSync(file, 'utf8'); // → 'line 1\nline 2\n'
 * ```
 */
export function writeFileAtomicSync(path: string, content: AtomicContent): void {
  const target = filePath('path', path);
  removeStaleTempsSync(target);
  const tmp = tempPathFor(target);
  inFlight.add(tmp);
  try {
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx', 0o644);
    } catch (e) {
      throw inTermsOfTarget(e, tmp, target);
    }
    let closed = false;
    try {
      for (const c of chunksOf(content)) {
        let off = 0;
        while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
      }
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      closed = true;
      fs.renameSync(tmp, target);
    } catch (e) {
      if (!closed) {
        try {
          fs.closeSync(fd);
        } catch {
          /* already failed */
        }
      }
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* may not exist */
      }
      throw inTermsOfTarget(e, tmp, target);
    }
  } finally {
    inFlight.delete(tmp);
  }
  fsyncDirSync(nodePath.dirname(target));
}
