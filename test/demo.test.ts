// The demo: data split, hand-written gradients (finite differences, TensorFlow.js), one
// training run, and the `fused-optim demo` command end to end on a tiny configuration.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { loadSplit, type Dataset } from '../src/demo/data.js';
import { loadEngine } from '../src/demo/engine.js';
import { mlp, softmaxRegression, type Model } from '../src/demo/models.js';
import { Rng } from '../src/random.js';
import { stepsFor, train } from '../src/demo/train.js';
import { linearDecay } from '../src/schedules/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fused-optim-demo-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const split = loadSplit({ nTrain: 300, nTest: 100, seed: 3 });

function rowsOf(d: Dataset, idx: number[]): Dataset {
  const x = new Float32Array(idx.length * d.dim);
  const y = new Uint8Array(idx.length);
  idx.forEach((r, k) => {
    x.set(d.x.subarray(r * d.dim, (r + 1) * d.dim), k * d.dim);
    y[k] = d.y[r];
  });
  return { ...d, x, y, n: idx.length };
}

/** Perturbed parameters, so that the MLP has active and dead units and softmax is not at 0. */
function params(model: Model, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return model.init(rng).map((p) => p.map((v) => v + 0.05 * rng.normal()));
}

describe('data', () => {
  it('a seed fixes a disjoint train/test split of real digits', () => {
    const again = loadSplit({ nTrain: 300, nTest: 100, seed: 3 });
    expect(again.train.y).toEqual(split.train.y);
    expect(again.test.x).toEqual(split.test.x);
    const other = loadSplit({ nTrain: 300, nTest: 100, seed: 4 });
    expect(other.train.y).not.toEqual(split.train.y);
    expect(split.train.x.length).toBe(300 * 784);
    expect(split.train.x.reduce((m, v) => Math.min(m, v), Infinity)).toBe(0);
    expect(split.train.x.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThanOrEqual(1);
    expect(new Set(split.train.y).size).toBe(10);
    // no test image is also a training image
    const key = (d: Dataset, i: number) => Array.from(d.x.subarray(i * 784, i * 784 + 784)).join();
    const trainKeys = new Set(Array.from({ length: 300 }, (_, i) => key(split.train, i)));
    for (let i = 0; i < 100; i++) expect(trainKeys.has(key(split.test, i))).toBe(false);
    const half = loadSplit({ nTrain: 100, nTest: 50, seed: 0, classes: [5, 6, 7, 8, 9] });
    expect(Array.from(half.train.y).every((c) => c >= 5)).toBe(true);
    expect(() => loadSplit({ nTrain: 9000, nTest: 2000, seed: 0 })).toThrow(RangeError);
  });
});

describe('hand-written gradients', () => {
  for (const model of [softmaxRegression(), mlp(16)]) {
    it(`${model.name}: loss equals the evaluated loss, gradient matches central differences`, () => {
      const p = params(model, 1);
      const grads = p.map((a) => new Float32Array(a.length));
      const idx = Int32Array.from([0, 5, 9, 17, 33, 64, 100, 150]);
      const loss = model.lossAndGrad(p, grads, split.train, idx, 0, idx.length);
      const ev = model.evaluate(p, rowsOf(split.train, Array.from(idx)));
      expect(loss).toBeCloseTo(ev.loss, 5);
      // central differences in float64 around float32 parameters, on the largest gradient
      // entries of each tensor and a few random ones
      const rng = new Rng(9);
      const f = (): number => model.evaluate(p, rowsOf(split.train, Array.from(idx))).loss;
      for (let t = 0; t < p.length; t++) {
        let big = 0;
        for (let i = 1; i < grads[t].length; i++) if (Math.abs(grads[t][i]) > Math.abs(grads[t][big])) big = i;
        for (const i of [big, rng.int(p[t].length), rng.int(p[t].length)]) {
          const h = 1e-2;
          const old = p[t][i];
          p[t][i] = old + h;
          const up = f();
          p[t][i] = old - h;
          const down = f();
          p[t][i] = old;
          const fd = (up - down) / (2 * h);
          expect(Math.abs(fd - grads[t][i])).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)) + 1e-4);
        }
      }
    });
  }

  it('TensorFlow.js (cpu) gradients equal the hand-written ones', async () => {
    const engine = await loadEngine('cpu');
    expect(engine.description).toMatch(/TensorFlow\.js .*cpu/);
    for (const base of [softmaxRegression(), mlp(16)]) {
      const viaTf = engine.wrap(base);
      const p = params(base, 2);
      const g1 = p.map((a) => new Float32Array(a.length));
      const g2 = p.map((a) => new Float32Array(a.length));
      const idx = Int32Array.from({ length: 40 }, (_, i) => i * 7);
      const l1 = base.lossAndGrad(p, g1, split.train, idx, 0, 40);
      const l2 = viaTf.lossAndGrad(p, g2, split.train, idx, 0, 40);
      expect(l2).toBeCloseTo(l1, 5);
      g1.forEach((a, t) => {
        const scale = Math.max(...a.map(Math.abs));
        a.forEach((v, i) => expect(Math.abs(v - g2[t][i])).toBeLessThan(1e-5 * scale + 1e-7));
      });
    }
  });
});

describe('train', () => {
  it('trains softmax regression with a schedule, one trace entry and one loss per step', () => {
    const steps = stepsFor(300, 32, 3);
    expect(steps).toBe(30);
    const lr = linearDecay({ peak: 0.01, steps });
    const r = train({ model: softmaxRegression(), train: split.train, evalSets: { test: split.test }, optimizer: 'adam', lr, steps, batchSize: 32, seed: 0, evalEvery: 10 });
    expect(r.loss.length).toBe(steps);
    expect(r.trace.length).toBe(steps);
    expect(Array.from(r.lr)).toEqual(Array.from({ length: steps }, (_, t) => Math.fround(lr(t))));
    expect(r.evals.map((e) => e.step)).toEqual([0, 10, 20, 30]);
    expect(r.evals[0].sets.test.loss).toBeCloseTo(Math.log(10), 10); // zero init: uniform softmax
    expect(r.final.test.loss).toBeLessThan(1.5);
    expect(r.loss[0]).toBeCloseTo(Math.log(10), 5);
    expect(r.loss[steps - 1]).toBeLessThan(r.loss[0]);
    // same seed, same run
    const again = train({ model: softmaxRegression(), train: split.train, optimizer: 'adam', lr, steps, batchSize: 32, seed: 0 });
    expect(again.params).toEqual(r.params);
  });

  it('schedule-free AdamW: evaluations at x (eval mode) between steps at y; the run ends at x', () => {
    const steps = stepsFor(300, 32, 3);
    const o = { model: softmaxRegression(), train: split.train, evalSets: { test: split.test }, optimizer: 'schedulefree-adamw' as const, hyper: { warmupSteps: 3 }, lr: 0.01, steps, batchSize: 32, seed: 0 };
    const r = train({ ...o, evalEvery: 10 }); // a step after an evaluation left in eval mode would throw
    expect(r.evals.map((e) => e.step)).toEqual([0, 10, 20, 30]);
    expect(r.final.test.loss).toBe(softmaxRegression().evaluate(r.params, split.test).loss);
    expect(r.final.test.loss).toBeLessThan(r.evals[0].sets.test.loss);
    // evaluating in between moves y by fp32 rounding only (x → y is a lerp, as in the reference)
    const once = train(o);
    once.params.forEach((a, t) => a.forEach((x, i) => expect(Math.abs(x - r.params[t][i])).toBeLessThan(1e-5)));
  });
});

describe('fused-optim demo', () => {
  it('runs end to end on a tiny configuration: table, plots, traces, JSON', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const dir = path.join(tmp, 'out');
    const code = await runCli(['demo', '--train', '256', '--test', '100', '--epochs', '2', '--batch', '32', '--hidden', '16', '--no-progress', '--out', dir], {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
    });
    expect(err.join('')).not.toMatch(/error/);
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/final train loss\s+test accuracy %\s+time s/);
    for (const row of ['linear decay (run 1)', 'refined (run 2)', 'cosine', 'REX', 'step 30-60-90', 'schedule-free AdamW (constant)']) expect(text).toContain(row);
    for (const f of ['schedules.svg', 'loss.svg', 'results.json', 'results.md', 'trace-softmax.json', 'trace-mlp.json']) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    expect(fs.readFileSync(path.join(dir, 'schedules.svg'), 'utf8')).toMatch(/^<svg/);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(rec.format).toBe('fused-optim/demo');
    expect(rec.runs.length).toBe(12);
    expect(rec.summary.length).toBe(12);
    expect(rec.runs.filter((r: { optimizer: string }) => r.optimizer === 'schedulefree-adamw').length).toBe(2);
    expect(rec.refinement.map((r: { norm: string }) => r.norm)).toEqual(['l1', 'l1']); // Adam-type: L1 norms
    expect(rec.refinement[0].steps).toBe(16);
    for (const r of rec.runs) expect(r.trainLoss).toBeLessThan(Math.log(10));
    // the saved trace refines with the CLI
    const code2 = await runCli(['refine', path.join(dir, 'trace-mlp.json'), '--out', path.join(dir, 's.json')], { stdout: () => {}, stderr: () => {} });
    expect(code2).toBe(0);
  });

  it('rejects bad options with one-line messages', async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => err.push(s) };
    expect(await runCli(['demo', '--backend', 'gpu'], io)).toBe(1);
    expect(err.join('')).toMatch(/Expected one of js, wasm, cpu but received 'gpu'/);
    expect(await runCli(['demo', '--seeds', '1,x'], io)).toBe(1);
    expect(await runCli(['demo', '--train', '9000', '--test', '2000'], io)).toBe(1);
    expect(err.join('')).toMatch(/--train \+ --test <= 10000/);
  });
});
