// Reads the raw records that paper1.mjs, paper2.mjs and paper3.mjs wrote into
// bench/results/experiments/ and
//   - writes bench/results/experiments-summary.json: one record per (paper, problem,
//     optimizer, schedule) with peaks, bestPeak, seeds, finalLoss {mean, ci95} at the best
//     peak and diffVsLinear {mean, ci95} (paired by seed, each schedule at its own best peak;
//     null for linear itself and for paper 2, which has no linear schedule);
//   - prints the Markdown tables of bench/results/experiments.md.
// Every ± below is the half-width of a t-based 95% confidence interval over the seeds.
//   node bench/experiments/report.mjs > bench/results/experiments/tables.md
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_DIR, fmtCi, fmtDiff, meanCi, stats } from './common.mjs';

const load = (name) => {
  const f = path.join(RESULTS_DIR, `${name}.json`);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : null;
};
const fmtLr = (x) => String(+x.toPrecision(4));
const out = [];
const p = (s = '') => out.push(s);
const summary = [];
const edges = [];
const round = (x) => (Number.isFinite(x) ? +x.toPrecision(6) : x);
const mc = (xs) => {
  const m = meanCi(xs);
  return { mean: round(m.mean), ci95: round(m.ci95) };
};

/** Rows of a sweep at a peak, by seed. */
const at = (sw, peak) => new Map(sw.runs.filter((r) => r.peak === peak).map((r) => [r.seed, r]));
/** Paired differences a − b over the seeds both have, of field k. */
const paired = (a, b, k = 'loss') => [...a.keys()].filter((s) => b.has(s)).map((s) => a.get(s)[k] - b.get(s)[k]);
const meanOf = (sw, peak, k = 'loss') => stats([...at(sw, peak).values()].map((r) => (r.diverged ? Infinity : r[k]))).mean;

/** One summary record per schedule of a sweep set ({ name: sweep }), linear as reference. */
function records(paper, problem, optimizer, sweeps) {
  const lin = sweeps.linear;
  for (const [name, sw] of Object.entries(sweeps)) {
    const best = at(sw, sw.bestPeak);
    if (!sw.interior) edges.push(`paper ${paper} ${problem} ${optimizer} ${name}: best peak ${sw.bestPeak} on the edge of [${sw.peaks.join(', ')}]${sw.capped ? ' (cap hit)' : ''}`);
    summary.push({
      paper,
      problem,
      optimizer,
      schedule: name,
      peaks: sw.peaks,
      bestPeak: sw.bestPeak,
      seeds: best.size,
      finalLoss: mc([...best.values()].map((r) => r.loss)),
      diffVsLinear: name === 'linear' || !lin ? null : mc(paired(best, at(lin, lin.bestPeak))),
    });
  }
}

/** A table of mean loss by peak (rows: schedules), best of each row in bold. */
function peakTable(sweeps, k = 'loss', digits = 4) {
  const peaks = [...new Set(Object.values(sweeps).flatMap((sw) => sw.peaks))].sort((a, b) => a - b);
  p(`| schedule | ${peaks.map(fmtLr).join(' | ')} |`);
  p(`| --- | ${peaks.map(() => '---:').join(' | ')} |`);
  for (const [name, sw] of Object.entries(sweeps)) {
    const cells = peaks.map((x) => {
      if (!sw.peaks.includes(x)) return '';
      const m = meanOf(sw, x, k);
      const t = Number.isFinite(m) ? m.toFixed(digits) : 'div.';
      return x === sw.bestPeak ? `**${t}**` : t;
    });
    p(`| ${name} | ${cells.join(' | ')} |`);
  }
  p();
}

// ---------------------------------------------------------------- paper 1
const p1 = load('paper1');
if (p1) {
  p(`### Paper 1 (seeds ${p1.seeds.join(', ')})`);
  p();
  for (const pr of p1.problems) {
    const id = `${pr.name} ${pr.optimizer}`;
    if (pr.skipped) {
      p(`**${id}**: not run (${pr.skipped}).`);
      p();
      continue;
    }
    records(1, pr.name, pr.optimizer, pr.schedules);
    p(`**${id}** — ${pr.nTrain} training / ${pr.nTest} test images, ${pr.epochs} epochs = ${pr.steps} steps of batch ${p1.batchSize}${pr.l2 > 0 ? `, L2 penalty λ = ${pr.l2} (objective = cross-entropy + λ/2·‖w‖²)` : ', no penalty'}${pr.seconds ? `; ${Math.round(pr.seconds)} s` : ''}. Mean final training objective by peak (best in bold):`);
    p();
    peakTable(pr.schedules);
    const lin = pr.schedules.linear;
    const linBest = at(lin, lin.bestPeak);
    p(`| schedule | best peak | objective at best | Δ vs tuned linear | test loss | test acc % | Δ test acc vs tuned linear (points) |`);
    p(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
    for (const [name, sw] of Object.entries(pr.schedules)) {
      const b = at(sw, sw.bestPeak);
      const rows = [...b.values()];
      p(`| ${name} | ${fmtLr(sw.bestPeak)} | ${fmtCi(rows.map((r) => r.loss))} | ${name === 'linear' ? '—' : fmtDiff(paired(b, linBest))} | ${fmtCi(rows.map((r) => r.testLoss))} | ${fmtCi(rows.map((r) => 100 * r.testAcc), 2)} | ${name === 'linear' ? '—' : fmtDiff(paired(b, linBest, 'testAcc').map((x) => 100 * x), 2)} |`);
    }
    p();
    const ref = pr.schedules.refined;
    if (ref) {
      const same = at(ref, lin.bestPeak);
      const pk = pr.refined.map((r) => r.peakAt);
      const area = pr.refined.map((r) => r.area);
      const r0 = pr.refined[0];
      p(`Refined from the tuned linear run (peak ${fmtLr(lin.bestPeak)}): maximum at ${(100 * stats(pk).mean).toFixed(0)}% of the run (seeds: ${pk.map((x) => (100 * x).toFixed(0)).join(', ')}%), mean value ${stats(area).mean.toFixed(3)} of its maximum (linear: 0.5); at linear's best peak it is ${fmtDiff(paired(same, linBest))} vs linear. Shape of seed ${r0.seed} (value/maximum at 0, 10, …, 100%): ${[0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40].map((i) => r0.shape[i].toFixed(2)).join(', ')}.`);
      p();
    }
  }
}

// ---------------------------------------------------------------- paper 3
const p3 = load('paper3');
if (p3) {
  const problem = (b) => `mnist-${p3.model.replace(/ /g, '')}@budget${Math.round(100 * b)}%`;
  p(`### Paper 3 (seeds ${p3.seeds.join(', ')})`);
  p();
  p(`${p3.model}, ${p3.optimizer} (momentum ${p3.hyper.momentum}), ${p3.nTrain} training / ${p3.nTest} test MNIST images, batch ${p3.batchSize}; full run = ${p3.fullEpochs} epochs = ${p3.fullSteps} steps (${p3.stepsPerEpoch} steps per epoch)${p3.seconds ? `; ${Math.round(p3.seconds)} s` : ''}. Each schedule's peak is tuned at each budget on the final training loss.`);
  p();
  for (const rec of p3.results) {
    records(3, problem(rec.budget), p3.optimizer, rec.schedules);
    p(`**Budget ${Math.round(100 * rec.budget)}%** (${rec.steps} steps). Mean final training loss by peak:`);
    p();
    peakTable(rec.schedules);
  }
  p(`Each schedule at its own best peak, paired by seed against linear at its best peak (training loss; test accuracy in points):`);
  p();
  p(`| budget | schedule | best peak | train loss | Δ train loss vs linear | test acc % | Δ test acc vs linear |`);
  p(`| ---: | --- | ---: | ---: | ---: | ---: | ---: |`);
  for (const rec of p3.results) {
    const lin = rec.schedules.linear;
    const linBest = at(lin, lin.bestPeak);
    for (const [name, sw] of Object.entries(rec.schedules)) {
      const b = at(sw, sw.bestPeak);
      const rows = [...b.values()];
      p(`| ${Math.round(100 * rec.budget)}% | ${name} | ${fmtLr(sw.bestPeak)} | ${fmtCi(rows.map((r) => r.loss))} | ${name === 'linear' ? '—' : fmtDiff(paired(b, linBest))} | ${fmtCi(rows.map((r) => 100 * r.testAcc), 2)} | ${name === 'linear' ? '—' : fmtDiff(paired(b, linBest, 'testAcc').map((x) => 100 * x), 2)} |`);
    }
  }
  p();
  for (const other of ['cosine', 'step']) {
    p(`REX minus ${other}, each at its own best peak, paired: ${p3.results
      .map((rec) => {
        const a = at(rec.schedules.rex, rec.schedules.rex.bestPeak);
        const b = at(rec.schedules[other], rec.schedules[other].bestPeak);
        return `${Math.round(100 * rec.budget)}%: train loss ${fmtDiff(paired(a, b))}, test acc ${fmtDiff(paired(a, b, 'testAcc').map((x) => 100 * x), 2)} points`;
      })
      .join('; ')}.`);
    p();
  }
  p(`REX read once per epoch minus REX read every iteration, each at its own best peak, paired: ${p3.results
    .map((rec) => {
      const a = at(rec.schedules['rex-per-epoch'], rec.schedules['rex-per-epoch'].bestPeak);
      const b = at(rec.schedules.rex, rec.schedules.rex.bestPeak);
      return `${Math.round(100 * rec.budget)}%: train loss ${fmtDiff(paired(a, b))}, test acc ${fmtDiff(paired(a, b, 'testAcc').map((x) => 100 * x), 2)} points`;
    })
    .join('; ')}.`);
  p();
}

// ---------------------------------------------------------------- paper 2
const p2 = load('paper2');
if (p2) {
  p(`### Paper 2 (seeds ${p2.seeds.join(', ')})`);
  p();
  const f = (x) => `${+(100 * x).toFixed(1)}%`;
  p(`${p2.model}; pre-training on ${p2.nOld} MNIST digits (${p2.preSteps} steps, re-warm schedule to ${p2.p0}), then ${p2.steps} steps on ${p2.nNew} other digits with permuted pixels, batch ${p2.batchSize}; AdamW β = (${p2.hyper.beta1}, ${p2.hyper.beta2}), weight decay ${p2.hyper.weightDecay}, clip ${p2.hyper.maxGradNorm}; test sets of ${p2.nTest} images per task${p2.seconds ? `; ${Math.round(p2.seconds)} s` : ''}. Old-task test loss right after pre-training: ${fmtCi([...new Set(p2.runs.map((r) => r.oldBefore))])}; new-task loss then: ${fmtCi([...new Set(p2.runs.map((r) => r.newBefore))])}.`);
  p();
  const groups = [];
  for (const fac of p2.factors) for (const w of p2.warmups) groups.push({ kind: 'rewarm', factor: fac, w, label: `rewarm, MaxLR ×${fac}, warm-up ${f(w)}` });
  groups.push({ kind: 'constant', factor: 0.1, w: 0, label: `constant ${fmtLr(p2.minLr)} (MinLR)` });
  groups.push({ kind: 'scratch', factor: 1, w: 0.01, label: 'from scratch (rewarm ×1, 1%)' });
  const rowsOf = (g) => new Map(p2.runs.filter((r) => r.kind === g.kind && r.factor === g.factor && r.warmupFrac === g.w).map((r) => [r.seed, r]));
  const scratch = rowsOf(groups[groups.length - 1]);
  p(`| run | warm-up steps | new loss @10% | new loss, end | new acc %, end | old loss @10% | old loss, end | forgetting | Δ new loss vs 0% warm-up | Δ forgetting vs 0% warm-up | Δ new loss vs scratch |`);
  p(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const g of groups) {
    const rs = rowsOf(g);
    if (rs.size === 0) continue;
    const v = (k, s = 1) => fmtCi([...rs.values()].map((r) => s * r[k]), s === 1 ? 4 : 2);
    const zero = g.kind === 'rewarm' ? rowsOf({ kind: 'rewarm', factor: g.factor, w: 0 }) : null;
    summary.push({
      paper: 2,
      problem: 'mnist-then-permuted-mnist',
      optimizer: 'adamw',
      schedule: g.kind === 'rewarm' ? `rewarm warmup=${f(g.w)} maxLR=x${g.factor}` : g.kind === 'constant' ? 'constant minLR' : 'scratch rewarm warmup=1% maxLR=x1',
      peaks: [round(g.kind === 'constant' ? p2.minLr : g.factor * p2.p0)],
      bestPeak: round(g.kind === 'constant' ? p2.minLr : g.factor * p2.p0),
      seeds: rs.size,
      finalLoss: mc([...rs.values()].map((r) => r.newEnd)),
      diffVsLinear: null,
    });
    p(`| ${g.label} | ${[...rs.values()][0].warmupSteps} | ${v('new10')} | ${v('newEnd')} | ${v('newAccEnd', 100)} | ${g.kind === 'scratch' ? '—' : v('old10')} | ${v('oldEnd')} | ${g.kind === 'scratch' ? '—' : v('forgetting')} | ${zero && g.w > 0 ? fmtDiff(paired(rs, zero, 'newEnd')) : '—'} | ${zero && g.w > 0 ? fmtDiff(paired(rs, zero, 'forgetting')) : '—'} | ${g.kind === 'scratch' ? '—' : fmtDiff(paired(rs, scratch, 'newEnd'))} |`);
  }
  p();
  const lines = [];
  for (const w of p2.warmups) {
    const hi = rowsOf({ kind: 'rewarm', factor: Math.max(...p2.factors), w });
    const lo = rowsOf({ kind: 'rewarm', factor: Math.min(...p2.factors), w });
    lines.push(`warm-up ${f(w)}: new loss ${fmtDiff(paired(hi, lo, 'newEnd'))}, forgetting ${fmtDiff(paired(hi, lo, 'forgetting'))}`);
  }
  p(`MaxLR ×${Math.max(...p2.factors)} minus ×${Math.min(...p2.factors)}, paired: ${lines.join('; ')}.`);
  p();
  p(`Warm-up 10% minus 0% at the first evaluation (10% of the run), paired, old-task loss: ${p2.factors.map((fac) => `×${fac} ${fmtDiff(paired(rowsOf({ kind: 'rewarm', factor: fac, w: 0.1 }), rowsOf({ kind: 'rewarm', factor: fac, w: 0 }), 'old10'))}`).join(', ')}.`);
  p();
}

p(edges.length ? `**Best peaks on a grid edge:** ${edges.join('; ')}.` : `Every swept best peak is interior to its grid.`);
const file = path.resolve(RESULTS_DIR, '..', 'experiments-summary.json');
fs.writeFileSync(file, JSON.stringify(summary, null, 1) + '\n');
console.log(out.join('\n'));
