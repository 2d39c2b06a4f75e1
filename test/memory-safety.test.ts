/**
 * Memory safety of the arena's lifetime (issue 13, items 1 and 3): what ordinary JavaScript can
 * do with the zero-copy views must never reach freed memory. Each attack runs in a child process
 * (test/support/memory-attacks.mjs) and must exit 0; before the fix, `transfer` and
 * `transferFreed` crashed (heap corruption, exit 134, or SIGSEGV) or read another optimizer's
 * values, `randomFill` aborted with "corrupted double-linked list" and `fsRead` crashed.
 */
import { beforeAll, describe, expect, test } from 'vitest';

import { ensureDist } from './support/dist.js';
import { ended, runChild, transferFlags } from './support/child.js';

beforeAll(ensureDist);

const attacks: [string, string][] = [
  ['transfer', 'ArrayBuffer.prototype.transfer() of a view, then dispose(), write through the transferred buffer, allocate 2,000 optimizers'],
  ['transferOriginalCollected', 'the optimizer and the original (detached) ArrayBuffer are collected; the transferred buffer keeps its memory'],
  ['transferFreed', 'the transferred 64 MiB block is freed once the buffer it went to is collected'],
  ['disposeFrees', 'dispose() returns the memory at once (RSS, no GC) while views are still referenced'],
  ['randomFill', 'crypto.randomFill(opt.grads[0], cb); opt.dispose() (40 rounds, 1 KiB to 16 MiB)'],
  ['fsRead', 'fs.read(fd, opt.params[0], cb); opt.dispose()'],
  ['disposeDuringStepAsync', 'dispose() while stepAsync runs, views held'],
];

describe('arena lifetime', () => {
  for (const [name, what] of attacks) {
    test(`${name}: ${what}`, () => {
      const r = runChild('memory-attacks.mjs', [name], ['--expose-gc', ...transferFlags()]);
      expect(r.signal, ended(r)).toBeNull();
      expect(r.status, ended(r)).toBe(0);
      expect(r.json?.case).toBe(name);
      console.log(r.stdout.trim());
    });
  }
});
