// Attacks on the lifetime of an optimizer's arena, each run in its own child process by
// test/memory-safety.test.ts (a use-after-free shows as a crash or heap corruption of the child,
// not of the test runner): `node [--expose-gc] test/support/memory-attacks.mjs <case>`.
// Prints one JSON line of measurements and exits 0; any check that fails throws (exit 1).
// Node 20 needs --harmony-rab-gsab-transfer for ArrayBuffer.prototype.transfer().
import { randomFill } from 'node:crypto';
import { closeSync, openSync, read, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';

const dist = process.env.FUSED_OPTIM_DIST ?? new URL('../../dist/index.js', import.meta.url).href;
const { Adam, SGD } = await import(dist);

const MiB = 1024 * 1024;
const rssMiB = () => process.memoryUsage.rss() / MiB;

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/** Churns the allocator: what a freed arena would be reused by. */
function churn(rounds = 2000) {
  for (let i = 0; i < rounds; i++) {
    const o = new Adam([1000 + i]);
    o.grads[0].fill(7);
    o.dispose();
  }
}

async function collect() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await tick(); // Node runs the ArrayBuffer finalizers from an immediate after the GC
  }
}

const cases = {
  // Issue 13, item 1: a transferred zero-copy buffer outlives dispose(); its memory stays valid
  // (and keeps its values) until it is collected.
  async transfer() {
    const out = {};
    for (const n of [1024, 1 << 20, 4 << 20]) {
      const opt = new Adam([n]);
      const p = opt.params[0];
      for (let i = 0; i < n; i += 97) p[i] = i;
      const stale = new Float32Array(p.buffer.transfer());
      check(p.length === 0, 'the original view is detached by transfer()');
      opt.dispose();
      churn(n > 4096 ? 200 : 2000);
      for (let i = 0; i < n; i += 97) check(stale[i] === i, `stale[${i}] kept its value after dispose (n = ${n})`);
      stale.fill(0); // a write into freed memory would corrupt the heap here
      churn(200);
      check(stale[0] === 0 && stale[n - 1] === 0, 'stale buffer writable');
      out[`n${n}`] = 'ok';
    }
    return out;
  },

  // The original ArrayBuffer (detached by transfer()) and the optimizer are collected while the
  // transferred buffer lives on: it keeps the memory.
  async transferOriginalCollected() {
    check(typeof globalThis.gc === 'function', 'needs --expose-gc');
    const make = (n) => {
      const opt = new Adam([n]);
      opt.params[0].fill(3);
      const stale = new Float32Array(opt.params[0].buffer.transfer());
      opt.dispose();
      return stale;
    };
    const out = {};
    for (const n of [1024, 1 << 20]) {
      const stale = make(n);
      await collect();
      for (let i = 0; i < 300; i++) {
        const o = new Adam([n]);
        o.params[0].fill(9);
        o.dispose();
      }
      let wrong = 0;
      for (let i = 0; i < n; i++) if (stale[i] !== 3) wrong++;
      check(wrong === 0, `${wrong} of ${n} values of the transferred buffer changed`);
      out[`n${n}`] = 'ok';
    }
    return out;
  },

  // The transferred block is freed when the buffer it went to is collected (not leaked).
  async transferFreed() {
    check(typeof globalThis.gc === 'function', 'needs --expose-gc');
    const n = 16 << 20; // 64 MiB per slot
    await collect();
    const before = rssMiB();
    let stale = null;
    {
      const opt = new SGD([n]);
      opt.params[0].fill(1);
      stale = new Float32Array(opt.params[0].buffer.transfer());
      opt.dispose();
    }
    const held = rssMiB();
    check(stale[n - 1] === 1, 'transferred buffer readable');
    stale = null;
    await collect();
    const after = rssMiB();
    check(held - before > 48, `the transferred 64 MiB stay resident while referenced (+${(held - before).toFixed(1)} MiB)`);
    check(after - before < 16, `freed once collected (+${(after - before).toFixed(1)} MiB)`);
    return { beforeMiB: before, heldMiB: held, afterMiB: after };
  },

  // dispose() gives the memory back at once (no GC) even while JavaScript still holds views.
  async disposeFrees() {
    const n = 4 << 20;
    const before = rssMiB();
    let peak = 0;
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      const opt = new Adam([n]);
      const views = [opt.params[0], opt.grads[0]];
      views[0].fill(1);
      views[1].fill(0.5);
      opt.step();
      peak = Math.max(peak, rssMiB());
      opt.dispose();
      check(views[0].length === 0 && views[1].length === 0, 'views detached by dispose');
    }
    const after = rssMiB();
    check(after - before < 40, `RSS after ${rounds} × 64 MiB arenas disposed: +${(after - before).toFixed(1)} MiB`);
    return { beforeMiB: before, peakMiB: peak, afterMiB: after };
  },

  // Issue 13, item 3: dispose() while a Node API writes into a view on a libuv thread.
  async randomFill() {
    let rounds = 0;
    for (const n of [256, 1024, 1 << 18, 1 << 20, 4 << 20]) {
      for (let r = 0; r < 8; r++) {
        const opt = new Adam([n]);
        await new Promise((resolve, reject) => {
          randomFill(opt.grads[0], (err) => (err ? reject(err) : resolve()));
          opt.dispose();
        });
        rounds++;
      }
      churn(100);
    }
    await collect();
    churn(500);
    return { rounds };
  },

  // The same with fs.read into a view (the read lands after dispose).
  async fsRead() {
    const dir = mkdtempSync(join(tmpdir(), 'fo-attack-'));
    try {
      const file = join(dir, 'data');
      writeFileSync(file, Buffer.alloc(4 * MiB, 1));
      const fd = openSync(file, 'r');
      let rounds = 0;
      for (const n of [1024, 1 << 20]) {
        for (let r = 0; r < 8; r++) {
          const opt = new SGD([n]);
          await new Promise((resolve, reject) => {
            read(fd, opt.params[0], 0, n * 4, 0, (err) => (err ? reject(err) : resolve()));
            opt.dispose();
          });
          rounds++;
        }
        churn(200);
      }
      closeSync(fd);
      await collect();
      churn(500);
      return { rounds };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  // dispose() during stepAsync, with views held and written to meanwhile.
  async disposeDuringStepAsync() {
    for (let r = 0; r < 20; r++) {
      const opt = new Adam([1 << 20]);
      const g = opt.grads[0];
      g.fill(0.1);
      const p = opt.stepAsync();
      opt.dispose();
      await p.then(
        () => {
          throw new Error('stepAsync resolved after dispose');
        },
        (e) => check(/disposed during stepAsync/.test(e.message), `rejects: ${e.message}`),
      );
      check(g.length === 0, 'views detached once the step ended');
    }
    churn(500);
    return { rounds: 20 };
  },
};

const name = process.argv[2];
if (!(name in cases)) {
  console.error(`unknown case ${name}; one of ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}
const result = await cases[name]();
console.log(JSON.stringify({ case: name, ...result }));
