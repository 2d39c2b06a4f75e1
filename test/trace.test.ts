/**
 * NormTrace: recording, growth, views, validation, JSON/CSV files (atomic, versioned) and
 * refinement with the skipped-step policy.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refineSchedule } from '../src/refine/index.js';
import { writeFileAtomic, writeFileAtomicSync } from '../src/fs-atomic.js';
import { NORM_TRACE_FORMAT, NORM_TRACE_VERSION, NormTrace, refineMethodForKind } from '../src/trace.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-trace-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Files in the test directory other than the expected ones: leftover temporaries. */
function strayFiles(...expected: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !expected.includes(f));
}

function sample(kind: 'sgd' | 'adam' | 'adamw', T: number): NormTrace {
  const t = new NormTrace({ kind, capacity: 4 });
  for (let i = 0; i < T; i++) {
    const g = 1 + 5 * Math.exp(-i / (0.05 * T)) + 0.1 * Math.sin(i);
    const skip = i % 97 === 13 ? 1 : 0;
    t.push(skip ? NaN : g, skip ? Infinity : 40 * g, skip, 1e-3);
  }
  return t;
}

describe('NormTrace recording', () => {
  it('starts empty with the given kind', () => {
    const t = new NormTrace({ kind: 'adamw' });
    expect(t.kind).toBe('adamw');
    expect(t.length).toBe(0);
    expect(t.l2.length).toBe(0);
    expect(t.capacity).toBe(1024);
  });

  it('push and appendBatch append, with doubling growth', () => {
    const t = new NormTrace({ kind: 'sgd', capacity: 2 });
    t.push(1, 2, 0, 0.1);
    t.push(3, 4, 1, 0.2);
    expect(t.capacity).toBe(2);
    t.push(5, 6, 0, 0.3);
    expect(t.capacity).toBe(16); // max(needed, 2·cap, 16)
    t.appendBatch(new Float32Array([7, 8]), new Float32Array([9, 10]), new Uint8Array([0, 1]), [0.4, 0.5]);
    expect(t.length).toBe(5);
    expect(Array.from(t.l2)).toEqual([1, 3, 5, 7, 8]);
    expect(Array.from(t.l1)).toEqual([2, 4, 6, 9, 10]);
    expect(Array.from(t.skipped)).toEqual([0, 1, 0, 0, 1]);
    expect(Array.from(t.lr)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    const big = new Float64Array(100).fill(1);
    t.appendBatch(big, big, new Uint8Array(100), big);
    expect(t.length).toBe(105);
    expect(t.capacity).toBe(105); // a batch larger than double: exactly what is needed
    t.push(1, 1, 0, 1);
    expect(t.capacity).toBe(210);
  });

  it('appending 1e6 steps in batches of 1000 grows the buffers by doubling (amortised O(1))', () => {
    // Speed is the bench's business; here: the contents, and that capacity only ever doubles.
    const t = new NormTrace({ kind: 'adam' });
    const a = new Float32Array(1000).fill(1.5);
    const s = new Uint8Array(1000);
    const capacities = new Set<number>([t.capacity]);
    for (let k = 0; k < 1000; k++) {
      t.appendBatch(a, a, s, a);
      capacities.add(t.capacity);
    }
    expect(t.length).toBe(1_000_000);
    expect([...capacities]).toEqual([1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576]);
    expect(t.l1[999_999]).toBe(1.5);
  });

  it('getters are views of the filled part', () => {
    const t = new NormTrace({ kind: 'sgd' });
    t.push(1, 2, 0, 0.1);
    const v = t.l2;
    expect(v).toBeInstanceOf(Float64Array);
    expect(v.length).toBe(1);
    expect(t.skipped).toBeInstanceOf(Uint8Array);
    t.push(2, 2, 0, 0.1);
    expect(t.l2.length).toBe(2);
    t.clear();
    expect(t.length).toBe(0);
  });

  it('records NaN and +Infinity norms (skipped steps), and NaN lr (not recorded)', () => {
    const t = new NormTrace({ kind: 'sgd' });
    t.push(NaN, Infinity, 1, NaN);
    expect(t.l2[0]).toBeNaN();
    expect(t.l1[0]).toBe(Infinity);
  });

  it('validates, names the index, and appends nothing from a bad batch', () => {
    const t = new NormTrace({ kind: 'sgd' });
    expect(() => t.appendBatch([1, 2], [1], [0, 0], [1, 1])).toThrow(/Expected an array of length 2 \(as l2\) for l1 but received Array\(1\)/);
    expect(() => t.appendBatch([1, -2], [1, 1], [0, 0], [1, 1])).toThrow(/Expected a norm >= 0 \(or NaN, \+Infinity\) for l2\[1\] but received -2/);
    expect(() => t.appendBatch([1, 2], [1, 1], [0, 2], [1, 1])).toThrow(/Expected 0 or 1 for skipped\[1\] but received 2/);
    expect(() => t.appendBatch([1, 2], [1, 1], [0, 0], [1, Infinity])).toThrow(/lr\[1\]/);
    expect(() => t.appendBatch([1, '2'] as never, [1, 1], [0, 0], [1, 1])).toThrow(TypeError);
    expect(() => t.appendBatch('12' as never, [1, 1], [0, 0], [1, 1])).toThrow(TypeError);
    expect(() => t.push(1, 1, 0.5, 1)).toThrow(RangeError);
    expect(() => t.push(1, 1, true as never, 1)).toThrow(TypeError);
    expect(t.length).toBe(0);
  });

  it('constructor and fromArrays', () => {
    expect(() => new NormTrace(undefined as never)).toThrow(TypeError);
    expect(() => new NormTrace({ kind: 'lion' as never })).toThrow(/Expected one of 'sgd', 'adam', 'adamw'(, '[a-z-]+')* for options.kind but received 'lion'/);
    expect(() => new NormTrace({ kind: 'sgd', capacity: -1 })).toThrow(RangeError);
    expect(() => new NormTrace({ kind: 'sgd', l2: [1] })).toThrow(/options.l1/);
    const t = NormTrace.fromArrays({ kind: 'sgd', l2: [3, 2, 1], l1: [30, 20, 10] });
    expect(t.length).toBe(3);
    expect(Array.from(t.skipped)).toEqual([0, 0, 0]);
    expect(t.lr.every(Number.isNaN)).toBe(true);
    const u = new NormTrace({ kind: 'adam', l2: [1], l1: [2], skipped: [1], lr: [0.5] });
    expect([u.l2[0], u.l1[0], u.skipped[0], u.lr[0]]).toEqual([1, 2, 1, 0.5]);
  });

  it('refineMethodForKind', () => {
    expect(refineMethodForKind('sgd')).toBe('sgd');
    expect(refineMethodForKind('adam')).toBe('adam');
    expect(refineMethodForKind('adamw')).toBe('adam');
  });
});

describe('NormTrace JSON and files', () => {
  it('toJSON / fromJSON round-trip exactly, non-finite values included', () => {
    const t = NormTrace.fromArrays({ kind: 'adamw', l2: [0.1, NaN, 1e-310], l1: [Infinity, 2, 3], skipped: [0, 1, 0], lr: [3e-4, NaN, 1 / 3] });
    const json = t.toJSON();
    expect(json.format).toBe(NORM_TRACE_FORMAT);
    expect(json.version).toBe(NORM_TRACE_VERSION);
    expect(json.l2[1]).toBe('NaN');
    expect(json.l1[0]).toBe('Infinity');
    const back = NormTrace.fromJSON(JSON.parse(JSON.stringify(t)));
    expect(back.kind).toBe('adamw');
    expect(Array.from(back.l2)).toEqual(Array.from(t.l2));
    expect(Array.from(back.l1)).toEqual(Array.from(t.l1));
    expect(Array.from(back.skipped)).toEqual([0, 1, 0]);
    expect(Array.from(back.lr)).toEqual(Array.from(t.lr));
    expect(NormTrace.fromJSON(JSON.stringify(t)).length).toBe(3);
  });

  it('fromJSON errors are clear', () => {
    const good = NormTrace.fromArrays({ kind: 'sgd', l2: [1, 2], l1: [1, 2] }).toJSON();
    expect(() => NormTrace.fromJSON({ ...good, format: 'x' })).toThrow(/Expected 'fused-optim\/norm-trace' \(is this a NormTrace file\?\) for json.format but received 'x'/);
    expect(() => NormTrace.fromJSON({ ...good, version: 2 })).toThrow(/Expected a format version <= 1 .* for json.version but received 2/);
    expect(() => NormTrace.fromJSON({ ...good, version: '1' })).toThrow(TypeError);
    expect(() => NormTrace.fromJSON({ ...good, length: 3 })).toThrow(/Expected an array of length 3 \(json.length\) for json.l2 but received Array\(2\)/);
    expect(() => NormTrace.fromJSON({ ...good, lr: [1] })).toThrow(/json.lr/);
    expect(() => NormTrace.fromJSON({ ...good, l1: [1, 'x'] })).toThrow(/json.l1\[1\]/);
    expect(() => NormTrace.fromJSON({ ...good, skipped: [0, 3] })).toThrow(/skipped\[1\]/);
    expect(() => NormTrace.fromJSON({ ...good, kind: 'rmsprop' })).toThrow(/json.kind/);
    expect(() => NormTrace.fromJSON('{not json')).toThrow(SyntaxError);
    expect(() => NormTrace.fromJSON([])).toThrow(TypeError);
  });

  it('save / load round-trip (async and sync), atomically: no temporary files left', async () => {
    const t = sample('adam', 3000);
    const p = path.join(dir, 'a.trace.json');
    await t.save(p);
    const back = await NormTrace.load(p);
    expect(back.length).toBe(3000);
    expect(Array.from(back.l1)).toEqual(Array.from(t.l1));
    expect(Array.from(back.l2)).toEqual(Array.from(t.l2));
    t.saveSync(p); // overwrite in place
    expect(Array.from(NormTrace.loadSync(p).skipped)).toEqual(Array.from(t.skipped));
    expect(JSON.parse(fs.readFileSync(p, 'utf8')).version).toBe(1);
    expect(strayFiles('a.trace.json')).toEqual([]);
    fs.rmSync(p);
  });

  it('round-trips through save, load and refine', async () => {
    const t = sample('adamw', 5000);
    const p = path.join(dir, 'r.trace.json');
    await t.save(p);
    const loaded = await NormTrace.load(p);
    const a = t.refine({ peak: 3e-4 });
    const b = loaded.refine({ peak: 3e-4 });
    expect(b).toEqual(a);
    expect(b.length).toBe(5000);
    expect(Math.max(...b)).toBe(3e-4);
    fs.rmSync(p);
  });

  it('load errors name the file', async () => {
    const p = path.join(dir, 'bad.json');
    fs.writeFileSync(p, '{"format":"fused-optim/norm-trace","version":1,"kind":"sgd","length":2,"l2":[1],"l1":[1,2],"skipped":[0,0],"lr":[1,1]}');
    await expect(NormTrace.load(p)).rejects.toThrow(new RegExp(`Cannot read a NormTrace from ${p.replace(/[\\/.]/g, '.')}: Expected an array of length 2`));
    expect(() => NormTrace.loadSync(p)).toThrow(RangeError);
    fs.writeFileSync(p, '{"format": "fused-optim/norm-trace", "version": 9}');
    expect(() => NormTrace.loadSync(p)).toThrow(/json.version but received 9/);
    fs.writeFileSync(p, 'nope');
    expect(() => NormTrace.loadSync(p)).toThrow(/not JSON/);
    expect(() => NormTrace.loadSync(path.join(dir, 'missing.json'))).toThrow(/ENOENT/);
    fs.rmSync(p);
  });

  it('a failed save leaves the old file and no temporary file', async () => {
    const p = path.join(dir, 'keep.json');
    fs.writeFileSync(p, 'old');
    function* failing(): Generator<string> {
      yield 'new';
      throw new Error('disk on fire');
    }
    await expect(writeFileAtomic(p, failing())).rejects.toThrow('disk on fire');
    expect(() => writeFileAtomicSync(p, failing())).toThrow('disk on fire');
    expect(fs.readFileSync(p, 'utf8')).toBe('old');
    expect(strayFiles('keep.json')).toEqual([]);
    await expect(writeFileAtomic(path.join(dir, 'no-such-dir', 'x.json'), 'x')).rejects.toThrow(/ENOENT/);
    fs.rmSync(p);
  });

  it('CSV export', async () => {
    const t = NormTrace.fromArrays({ kind: 'sgd', l2: [2, NaN], l1: [3, Infinity], skipped: [0, 1], lr: [0.1, 0.1] });
    expect(t.toCSV()).toBe('step,l2,l1,skipped,lr\n0,2,3,0,0.1\n1,"NaN","Infinity",1,0.1\n');
    expect(NormTrace.fromArrays({ kind: 'sgd', l2: [2], l1: [3], lr: [0.1] }).toCSV()).toBe('step,l2,l1,skipped,lr\n0,2,3,0,0.1\n');
    const p = path.join(dir, 't.csv');
    await t.saveCSV(p);
    expect(fs.readFileSync(p, 'utf8')).toBe(t.toCSV());
    t.saveCSVSync(p);
    expect(fs.readFileSync(p, 'utf8').split('\n').length).toBe(4);
    fs.rmSync(p);
  });
});

describe('NormTrace.refine', () => {
  it('uses L2 norms for SGD and L1 norms for Adam-type traces', () => {
    const l2 = Array.from({ length: 200 }, (_, i) => 1 + 5 * Math.exp(-i / 10));
    const l1 = Array.from({ length: 200 }, (_, i) => 100 + 20 * Math.sin(i / 30));
    const sgd = NormTrace.fromArrays({ kind: 'sgd', l2, l1 });
    const adamw = NormTrace.fromArrays({ kind: 'adamw', l2, l1 });
    expect(sgd.refine()).toEqual(refineSchedule(l2, { method: 'sgd' }));
    expect(adamw.refine()).toEqual(refineSchedule(l1, { method: 'adam' }));
    expect(adamw.refine({ method: 'sgd' })).toEqual(refineSchedule(l2, { method: 'sgd' }));
    expect(adamw.refine({ norm: 'l2' })).toEqual(refineSchedule(l2, { method: 'adam' }));
    expect(sgd.refine({ tau: 0.3, peak: 0.5 })).toEqual(refineSchedule(l2, { method: 'sgd', tau: 0.3, peak: 0.5 }));
  });

  it("skipped steps: 'fill' (default) takes the last applied norm, 'drop' removes the step", () => {
    const t = NormTrace.fromArrays({ kind: 'sgd', l2: [1, 1, NaN, 1, 1], l1: [9, 9, NaN, 9, 9], skipped: [0, 0, 1, 0, 0] });
    expect(Array.from(t.refine())).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const d = t.refine({ skipped: 'drop' });
    expect(d.length).toBe(4);
    d.forEach((v, i) => expect(v).toBeCloseTo([1, 2 / 3, 1 / 3, 0][i], 15));
    const n = t.refinementNorms();
    expect(Array.from(n.norms)).toEqual([1, 1, 1, 1, 1]);
    expect(n.skippedCount).toBe(1);
    expect(Array.from(t.refinementNorms({ skipped: 'drop' }).steps)).toEqual([0, 1, 3, 4]);
  });

  it("'fill' uses the first applied norm for leading skipped steps", () => {
    const t = NormTrace.fromArrays({ kind: 'adam', l2: [NaN, NaN, 2, 3], l1: [NaN, Infinity, 5, 6], skipped: [1, 1, 0, 0] });
    expect(Array.from(t.refinementNorms().norms)).toEqual([5, 5, 5, 6]);
  });

  it('a non-finite norm on an applied step, an all-skipped trace, a short trace: clear errors', () => {
    const t = NormTrace.fromArrays({ kind: 'sgd', l2: [1, NaN, 1], l1: [1, 1, 1] });
    expect(() => t.refine()).toThrow(/Expected a finite norm \(step 1 was not skipped\) for trace.l2\[1\] but received NaN/);
    expect(t.refine({ norm: 'l1' }).length).toBe(3);
    const all = NormTrace.fromArrays({ kind: 'sgd', l2: [NaN, NaN], l1: [NaN, NaN], skipped: [1, 1] });
    expect(() => all.refine()).toThrow(/at least one applied \(not skipped\) step/);
    expect(() => new NormTrace({ kind: 'sgd' }).refine()).toThrow(RangeError);
    expect(() => NormTrace.fromArrays({ kind: 'sgd', l2: [1], l1: [1] }).refine()).toThrow(/at least 2 norms/);
    expect(() => t.refine({ skipped: 'zero' as never })).toThrow(/options.skipped/);
  });

  it('unknown option keys are rejected, by the constructor, fromArrays and every refine method', () => {
    expect(() => new NormTrace({ kind: 'sgd', capacty: 8 } as never)).toThrow(
      /^Unknown option options\.capacty; expected one of 'kind', 'capacity', 'l2', 'l1', 'skipped', 'lr'$/,
    );
    expect(() => NormTrace.fromArrays({ kind: 'sgd', l2: [1, 1], l1: [1, 1], l3: [] } as never)).toThrow(/^Unknown option arrays\.l3;/);
    const t = NormTrace.fromArrays({ kind: 'adam', l2: [1, 2, 3], l1: [1, 2, 3] });
    for (const call of [
      () => t.refine({ peek: 1 } as never),
      () => t.refineDetailed({ peek: 1 } as never),
      () => t.refinementNorms({ peek: 1 } as never),
      () => t.refineByBound({ peek: 1 } as never),
    ]) {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(/^Unknown option options\.peek; expected one of 'method', 'tau', 'peak', 'boundary', /);
    }
    // refineByBound knows the bound solver's keys; refine does not
    expect(t.refineByBound({ iterations: 3 }).schedule.length).toBe(3);
    expect(() => t.refine({ iterations: 3 } as never)).toThrow(/Unknown option options\.iterations/);
  });

  it('reads each option once (a getter cannot say one thing to validation and another to use)', () => {
    const t = NormTrace.fromArrays({ kind: 'sgd', l2: [1, 1, 1, 1], l1: [1, 1, 1, 1] });
    let reads = 0;
    const opts = {
      get peak(): number {
        reads++;
        return reads === 1 ? 0.5 : -1;
      },
    };
    expect(t.refine(opts)[0]).toBe(0.5);
    expect(reads).toBe(1);
  });

  it('refineByBound on a trace uses the same norms', () => {
    const t = sample('sgd', 400);
    const r = t.refineByBound({ iterations: 50 });
    expect(r.input.norm).toBe('l2');
    expect(r.schedule.length).toBe(400);
    expect(Math.max(...r.schedule)).toBeCloseTo(1, 12);
  });
});
