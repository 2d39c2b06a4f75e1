// Prints the Markdown tables of bench/results/experiments.md from the JSON records that
// paper1.mjs, paper2.mjs and paper3.mjs wrote into bench/results/experiments/.
//   node bench/experiments/report.mjs > /tmp/tables.md
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RESULTS_DIR, stats } from './common.mjs';

const load = (name) => {
  const f = path.join(RESULTS_DIR, `${name}.json`);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : null;
};
const f4 = (s) => `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`;
const acc = (s) => `${(100 * s.mean).toFixed(2)} ± ${(100 * s.sd).toFixed(2)}`;
const fmtLr = (x) => (x >= 0.1 ? String(x) : Number(x.toPrecision(2)).toExponential());
const out = [];
const p = (s = '') => out.push(s);

// ---------------------------------------------------------------- paper 1
// paper1.json plus any extra runs (paper1-<name>.json), merged by problem name
function loadPaper1() {
  const files = fs.existsSync(RESULTS_DIR) ? fs.readdirSync(RESULTS_DIR).filter((f) => /^paper1(-[\w.-]+)?\.json$/.test(f)).sort((a, b) => (a === 'paper1.json' ? -1 : b === 'paper1.json' ? 1 : a < b ? -1 : 1)) : [];
  let merged = null;
  for (const f of files) {
    const rec = JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8'));
    if (!merged) {
      merged = rec;
      continue;
    }
    for (const pr of rec.problems) {
      const have = merged.problems.find((q) => q.name === pr.name);
      if (!have || have.skipped) {
        if (have) merged.problems.splice(merged.problems.indexOf(have), 1, pr);
        else merged.problems.push(pr);
        continue;
      }
      if (pr.skipped) continue;
      have.runs.push(...pr.runs);
      have.refined.push(...pr.refined);
      have.peaks = [...new Set([...have.peaks, ...pr.peaks])].sort((a, b) => a - b);
    }
  }
  return merged;
}
const p1 = loadPaper1();
if (p1) {
  p(`### Paper 1 tables (seeds ${p1.seeds.join(', ')}; mean ± sample sd over seeds)`);
  p();
  for (const pr of p1.problems) {
    if (pr.skipped) {
      p(`**${pr.name}**: not run (${pr.skipped}).`);
      p();
      continue;
    }
    p(`**${pr.name}** — ${pr.optimizer}, ${pr.nTrain} train / ${pr.nTest} test images, ${pr.epochs} epochs = ${pr.steps} steps of batch ${p1.batchSize}.`);
    p();
    p(`Final training loss (full training set, last iterate) by peak lr:`);
    p();
    p(`| schedule | ${pr.peaks.map((x) => `peak ${fmtLr(x)}`).join(' | ')} |`);
    p(`| --- | ${pr.peaks.map(() => '---:').join(' | ')} |`);
    for (const s of p1.schedules) {
      const cells = pr.peaks.map((peak) => {
        const rs = pr.runs.filter((r) => r.schedule === s && r.peak === peak);
        return rs.some((r) => r.diverged) ? 'diverged' : f4(stats(rs.map((r) => r.trainLoss)));
      });
      p(`| ${s} | ${cells.join(' | ')} |`);
    }
    p();
    p(`Each schedule at its best peak (lowest mean training loss); paired differences (by seed) to linear decay at the same peak, and to linear decay at linear's own best peak (negative = lower loss than linear):`);
    p();
    p(`| schedule | best peak | train loss | Δ vs linear, same peak | Δ vs linear at its best peak | test loss | test accuracy % |`);
    p(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
    const bestOf = (s) => {
      let best = null;
      for (const peak of pr.peaks) {
        const rs = pr.runs.filter((r) => r.schedule === s && r.peak === peak && !r.diverged);
        if (rs.length === 0) continue;
        const m = stats(rs.map((r) => r.trainLoss)).mean;
        if (!best || m < best.m) best = { peak, m, rs };
      }
      return best;
    };
    const linBest = bestOf('linear');
    for (const s of p1.schedules) {
      let best = null;
      for (const peak of pr.peaks) {
        const rs = pr.runs.filter((r) => r.schedule === s && r.peak === peak && !r.diverged);
        if (rs.length === 0) continue;
        const m = stats(rs.map((r) => r.trainLoss)).mean;
        if (!best || m < best.m) best = { peak, m, rs };
      }
      if (!best) continue;
      const lin = pr.runs.filter((r) => r.schedule === 'linear' && r.peak === best.peak);
      const d = best.rs.map((r) => r.trainLoss - lin.find((l) => l.seed === r.seed).trainLoss);
      const dBest = best.rs.map((r) => r.trainLoss - linBest.rs.find((l) => l.seed === r.seed).trainLoss);
      p(`| ${s} | ${fmtLr(best.peak)} | ${f4(stats(best.rs.map((r) => r.trainLoss)))} | ${s === 'linear' ? '—' : f4(stats(d))} | ${s === 'linear' ? '—' : f4(stats(dBest))} | ${f4(stats(best.rs.map((r) => r.testLoss)))} | ${acc(stats(best.rs.map((r) => r.testAcc)))} |`);
    }
    p();
    const at = pr.refined.map((r) => r.peakAt);
    const st = stats(at);
    p(`Refined schedules: the maximum sits at ${(100 * st.mean).toFixed(1)}% of the run on average (min ${(100 * st.min).toFixed(1)}%, max ${(100 * st.max).toFixed(1)}%), over ${at.length} refinements.`);
    const r0 = pr.refined.find((r) => r.peak === pr.peaks[1]) ?? pr.refined[0];
    p(`Shape (seed ${r0.seed}, peak ${fmtLr(r0.peak)}; η/peak at 0, 10, …, 100% of the run): ${[0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40].map((i) => r0.shape[i].toFixed(2)).join(', ')}.`);
    p();
  }
}

// ---------------------------------------------------------------- paper 3
const p3 = load('paper3');
if (p3) {
  p(`### Paper 3 tables (seeds ${p3.seeds.join(', ')}; mean ± sample sd)`);
  p();
  for (const st of p3.settings) {
    p(`**${st.name}** — ${st.optimizer}, peak lr ${st.peak}, full run = ${st.fullEpochs} epochs = ${st.fullSteps} steps (${st.nTrain} train / ${st.nTest} test images).`);
    p();
    for (const [metric, label, fmt, better] of [
      ['testAcc', 'Test accuracy %', acc, 'max'],
      ['trainLoss', 'Final training loss', f4, 'min'],
    ]) {
      p(`${label} by budget (best mean in bold):`);
      p();
      p(`| schedule | ${p3.budgets.map((b) => `${100 * b}%`).join(' | ')} |`);
      p(`| --- | ${p3.budgets.map(() => '---:').join(' | ')} |`);
      const means = {};
      for (const b of p3.budgets) {
        const ms = p3.schedules.map((s) => stats(st.runs.filter((r) => r.budget === b && r.schedule === s).map((r) => r[metric])).mean);
        means[b] = better === 'max' ? Math.max(...ms) : Math.min(...ms);
      }
      for (const s of p3.schedules) {
        const cells = p3.budgets.map((b) => {
          const sx = stats(st.runs.filter((r) => r.budget === b && r.schedule === s).map((r) => r[metric]));
          const txt = fmt(sx);
          return sx.mean === means[b] ? `**${txt}**` : txt;
        });
        p(`| ${s} | ${cells.join(' | ')} |`);
      }
      p();
    }
    // REX minus linear, paired by seed
    const diffs = p3.budgets.map((b) => {
      const d = st.runs
        .filter((r) => r.budget === b && r.schedule === 'rex')
        .map((r) => r.testAcc - st.runs.find((l) => l.budget === b && l.schedule === 'linear' && l.seed === r.seed).testAcc);
      return `${100 * b}%: ${(100 * stats(d).mean).toFixed(2)} ± ${(100 * stats(d).sd).toFixed(2)}`;
    });
    p(`REX − linear, test accuracy points, paired by seed: ${diffs.join('; ')}.`);
    p();
  }
}

// ---------------------------------------------------------------- paper 2
for (const [name, title] of [
  ['paper2', 'digits 0–4, then digits 5–9 (class-incremental)'],
  ['paper2-permuted', 'digits 0–9, then other digits 0–9 with permuted pixels (domain-incremental)'],
]) {
  const p2 = load(name);
  if (!p2) continue;
  const oldName = name === 'paper2' ? 'digits 0–4' : 'digits 0–9';
  const newName = name === 'paper2' ? 'digits 5–9' : 'permuted digits 0–9';
  p(`### Paper 2: ${title} (seeds ${p2.seeds.join(', ')}; mean ± sample sd)`);
  p();
  p(`Pre-training on ${oldName} (rewarm schedule, MaxLR ${p2.p0}, ${p2.epochs} epochs), then ${p2.epochs} epochs on ${newName} (${p2.runs[0].steps} steps). AdamW β = (${p2.hyper.beta1}, ${p2.hyper.beta2}), weight decay ${p2.hyper.weightDecay}, clip ${p2.hyper.maxGradNorm}, fresh optimizer state at the switch. Losses are held-out test cross-entropies of the 10-way classifier: "new" on ${newName}, "old" on ${oldName}. Old-task loss right after pre-training: ${f4(stats([...new Set(p2.runs.map((r) => r.oldBefore))]))} (accuracy ${acc(stats([...new Set(p2.runs.map((r) => r.oldAccBefore))]))}).`);
  p();
  p(`| run | MaxLR | warm-up | new loss @10% | new loss @25% | new loss, end | new acc %, end | old loss, max in first 10% | old loss, end | forgetting (Δ old loss) | old acc %, end |`);
  p(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
  const groups = [];
  for (const peak of p2.maxLrs) for (const w of p2.warmups) groups.push({ label: 'rewarm', kind: 'rewarm', peak, w });
  for (const c of p2.constants) groups.push({ label: 'constant', kind: 'constant', peak: c, w: 0 });
  groups.push({ label: 'from scratch', kind: 'scratch', peak: p2.p0, w: 0.01 });
  for (const g of groups) {
    const rs = p2.runs.filter((r) => r.kind === g.kind && Math.abs(r.peak - g.peak) < 1e-12 && (g.kind !== 'rewarm' || r.warmupFrac === g.w));
    if (rs.length === 0) continue;
    const S = (k) => stats(rs.map((r) => r[k]));
    p(`| ${g.label} | ${fmtLr(g.peak)} | ${g.kind === 'constant' ? '—' : `${100 * g.w}%`} | ${f4(S('new10'))} | ${f4(S('new25'))} | ${f4(S('newEnd'))} | ${acc(S('newAccEnd'))} | ${g.kind === 'scratch' ? '—' : f4(S('oldMaxEarly'))} | ${f4(S('oldEnd'))} | ${g.kind === 'scratch' ? '—' : f4(S('forgetting'))} | ${acc(S('oldAccEnd'))} |`);
  }
  p();
}
console.log(out.join('\n'));
