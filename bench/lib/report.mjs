/**
 * What a run produces: the headline ratios and targets, the terminal tables, the Markdown
 * report, and the SVG plot (ns/parameter vs size, log-log, one line per contender, the floors
 * dashed).
 */
import { lineChartSpec, vegaLiteToSvg } from '../../dist/plot/index.js';
import { fmtSize } from './options.mjs';
import { SCENARIOS } from './scenarios.mjs';

export const HEADLINE_SIZES = [1e4, 1e6, 3e7];
const FUSED = ['fused-1t', 'fused-all'];

// --- numbers ------------------------------------------------------------------------------

export function fmtNs(x) {
  if (!Number.isFinite(x)) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export function fmtRatio(x) {
  if (!Number.isFinite(x)) return '-';
  if (x >= 100) return `${x.toFixed(0)}x`;
  if (x >= 10) return `${x.toFixed(1)}x`;
  return `${x.toFixed(2)}x`;
}

export function fmtPct(x) {
  return Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '-';
}

function spread(s) {
  return s && Number.isFinite(s.iqrRel) ? `±${(50 * s.iqrRel).toFixed(0)}%` : '';
}

/** The row of a contender in a case, when it produced a valid timing. */
function ok(kase, id) {
  const r = kase?.rows.find((x) => x.contender === id);
  return r && r.status === 'ok' ? r : null;
}

function findCase(results, scenario, layout, size) {
  return results.cases.find((c) => c.scenario === scenario && c.layout === layout && c.size === size);
}

function speedup(kase, fusedId, peerId) {
  const f = ok(kase, fusedId);
  const p = ok(kase, peerId);
  return f && p ? p.ns.median / f.ns.median : NaN;
}

// --- headline and targets ------------------------------------------------------------------

/** Ratios of the headline case (Adam, one tensor) at 1e4 / 1e6 / 3e7 (those that ran). */
export function headline(results) {
  const rows = [];
  for (const size of HEADLINE_SIZES) {
    const k = findCase(results, 'adam', 'one', size);
    if (!k) continue;
    for (const id of FUSED) {
      const f = ok(k, id);
      if (!f) continue;
      rows.push({
        size,
        contender: id,
        threads: id === 'fused-1t' ? 1 : results.machine.threadsAll,
        nsPerParam: f.ns.median,
        spread: f.ns.iqrRel,
        floorFraction: f.floorFraction?.median ?? NaN,
        vsTfjsWasm: speedup(k, id, 'tfjs-wasm'),
        vsTfjsCpu: speedup(k, id, 'tfjs-cpu'),
        vsJsLoop: speedup(k, id, 'js-loop'),
      });
    }
  }
  return rows;
}

/** What a fused step running exactly at the floor (all threads) would give against a peer. */
function ceiling(kase, peerId) {
  const p = ok(kase, peerId);
  return p ? p.ns.median / kase.floors['floor-all'].ns.median : NaN;
}

/**
 * The issue's targets, each with the measured value, whether it is met, and the ceiling: the
 * value a step running exactly at the memory floor (all threads) would reach in this run.
 */
export function targets(results) {
  const out = [];
  const at = (size) => findCase(results, 'adam', 'one', size);
  const adamOne = results.cases.filter((c) => c.scenario === 'adam' && c.layout === 'one');
  const worstOf = (cases, f) =>
    cases.map((c) => [c, f(c)]).filter(([, v]) => Number.isFinite(v)).sort((a, b) => a[1] - b[1])[0];
  const big = worstOf(adamOne.filter((c) => c.size >= 1e6), (c) => speedup(c, 'fused-all', 'tfjs-wasm'));
  if (big) {
    const [k, v] = big;
    out.push({ target: '>= 15x tfjs-wasm at 1e6-3e7 (Adam, all threads)', value: `${fmtRatio(v)} (worst: ${fmtSize(k.size)})`, ceiling: `${fmtRatio(ceiling(k, 'tfjs-wasm'))} at ${fmtSize(k.size)}`, met: v >= 15 });
  }
  const k4 = at(1e4);
  if (k4 && Number.isFinite(speedup(k4, 'fused-all', 'tfjs-wasm'))) {
    const v = speedup(k4, 'fused-all', 'tfjs-wasm');
    out.push({ target: '>= 50x tfjs-wasm at 1e4', value: fmtRatio(v), ceiling: `${fmtRatio(ceiling(k4, 'tfjs-wasm'))} (cache loop)`, met: v >= 50 });
  }
  const cpu = worstOf(adamOne, (c) => speedup(c, 'fused-all', 'tfjs-cpu'));
  if (cpu) {
    const [k, v] = cpu;
    out.push({ target: '>= 200x tfjs-cpu (every size)', value: `${fmtRatio(v)} (worst: ${fmtSize(k.size)})`, ceiling: `${fmtRatio(ceiling(k, 'tfjs-cpu'))} at ${fmtSize(k.size)}`, met: v >= 200 });
  }
  const f = ok(at(3e7), 'fused-all');
  if (f) {
    const frac = f.floorFraction.median;
    out.push({
      target: '>= 95% of the floor at 3e7, all threads',
      value: `${fmtPct(frac)} (rounds: p25 ${fmtPct(f.floorFraction.p25)}, p75 ${fmtPct(f.floorFraction.p75)})`,
      ceiling: '100%',
      met: frac >= 0.95,
    });
    out.push({
      target: 'fused norm <= 5% extra (bound: one-pass step over the floor at 3e7)',
      value: `<= ${fmtPct(1 / frac - 1)} over the floor (norm and update math together)`,
      ceiling: '0%',
      met: 1 / frac - 1 <= 0.05,
    });
  }
  return out;
}

// --- terminal -------------------------------------------------------------------------------

function table(header, rows) {
  const w = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(header), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

/** Contenders in run order, leaving out those unavailable everywhere (they are listed in the notes). */
function contenderIds(results) {
  const ids = [];
  for (const c of results.cases) for (const r of c.rows) if (r.status !== 'unavailable' && !ids.includes(r.contender)) ids.push(r.contender);
  return ids;
}

function caseTableRows(results, scenario, layout, ids) {
  return results.cases
    .filter((c) => c.scenario === scenario && c.layout === layout)
    .map((c) => {
      const cells = [fmtSize(c.size)];
      for (const id of ids) {
        const r = c.rows.find((x) => x.contender === id);
        if (!r) cells.push('');
        else if (r.status === 'ok') cells.push(fmtNs(r.ns.median));
        else cells.push(r.status === 'void' ? 'VOID' : r.status === 'skipped' ? 'skip' : 'n/a');
      }
      cells.push(fmtNs(c.floors['floor-1t'].ns.median), fmtNs(c.floors['floor-all'].ns.median));
      for (const id of FUSED) {
        const r = ok(c, id);
        cells.push(r ? fmtPct(r.floorFraction.median) : '-');
      }
      return cells;
    });
}

/** Contenders that were not measured at all, with the reason (e.g. a package that is not installed). */
function unavailableContenders(results) {
  const why = new Map();
  for (const c of results.cases) for (const r of c.rows) if (r.status === 'unavailable' && !why.has(r.contender)) why.set(r.contender, r.reason);
  for (const c of results.cases) for (const r of c.rows) if (r.status !== 'unavailable') why.delete(r.contender);
  return why;
}

/** A ratio cell: the ratio, or why there is none (the contender was not measured). */
function ratioCell(x, contender, missing) {
  if (Number.isFinite(x)) return fmtRatio(x);
  return missing.has(contender) ? 'not run' : '-';
}

/** The terminal summary: headline, targets and one ns/param table per scenario and layout. */
export function terminalReport(results) {
  const parts = [];
  const missing = unavailableContenders(results);
  const ids = contenderIds(results).filter((id) => results.cases.some((c) => ok(c, id)));
  const threadsAll = results.machine.threadsAll;
  const h = headline(results);
  if (h.length) {
    parts.push('Headline: Adam, one tensor (medians; x = times faster; % = share of the memory floor on as many threads)');
    parts.push(
      table(
        ['size', 'contender', 'ns/param', 'spread', '% floor', 'x tfjs-wasm', 'x tfjs-cpu', 'x JS loop'],
        h.map((r) => [fmtSize(r.size), r.contender, fmtNs(r.nsPerParam), `±${(50 * r.spread).toFixed(0)}%`, fmtPct(r.floorFraction), ratioCell(r.vsTfjsWasm, 'tfjs-wasm', missing), ratioCell(r.vsTfjsCpu, 'tfjs-cpu', missing), ratioCell(r.vsJsLoop, 'js-loop', missing)]),
      ),
    );
  }
  const t = targets(results);
  if (t.length) {
    parts.push('Targets');
    parts.push(table(['target', 'measured', 'at the floor', 'met'], t.map((x) => [x.target, x.value, x.ceiling, x.met ? 'yes' : 'NO'])));
  }
  for (const scenario of results.options.scenarios) {
    for (const layout of results.options.layouts) {
      const rows = caseTableRows(results, scenario, layout, ids);
      if (!rows.length) continue;
      const k = results.cases.find((c) => c.scenario === scenario && c.layout === layout);
      parts.push(`${SCENARIOS[scenario].label}, ${layout === 'one' ? 'one tensor' : `${k.tensors} tensors`}: ns/parameter (median)`);
      parts.push(table(['size', ...ids, 'floor-1t', `floor-${threadsAll}t`, '%floor 1t', `%floor ${threadsAll}t`], rows));
    }
  }
  const bad = [];
  for (const c of results.cases) {
    for (const r of c.rows) {
      if (r.status === 'void' || r.status === 'error') bad.push(`${r.status.toUpperCase()} ${r.contender} ${c.scenario}/${c.layout}/${fmtSize(c.size)}: ${r.reason}`);
    }
  }
  if (bad.length) parts.push(bad.join('\n'));
  if (missing.size) parts.push(['Not run (no column above):', ...[...missing].map(([id, why]) => `  ${id}: ${why}`)].join('\n'));
  return `${parts.join('\n\n')}\n`;
}

// --- Markdown -------------------------------------------------------------------------------

function mdTable(header, rows, { left = false } = {}) {
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 || left ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function markdownReport(results) {
  const missing = unavailableContenders(results);
  const m = results.machine;
  const ids = contenderIds(results);
  const L = [];
  L.push(`# fused-optim CPU benchmark, ${results.date.slice(0, 10)}`);
  L.push('');
  L.push(`Generated by \`${results.command}\` in ${(results.durationS / 60).toFixed(1)} min. Method, contenders and scenarios: [bench/README.md](../README.md).`);
  L.push('');
  L.push(
    mdTable(
      ['machine', ''],
      [
        ['CPU', `${m.cpu}, ${m.cores} cores, SIMD ${m.simd} (supported: ${m.simdSupported.join(', ')})`],
        ['memory', `${m.memoryGiB} GiB`],
        ['OS', m.os],
        ['Node', m.node],
        ['package', `${m.package}, git ${m.git ?? '?'}${m.gitDirty ? ' (with uncommitted changes in native/ or src/)' : ''}; addon ${m.addon.path ?? ''} built ${m.addon.built ?? '?'} by g++ ${m.addon.compiler ?? '?'}, sha256 ${m.addon.sha256 ?? '?'}`],
        ['tfjs', results.versions.tfjs ? `@tensorflow/tfjs ${results.versions.tfjs}, tfjs-backend-wasm ${results.versions.wasm ?? '-'}${results.versions.wasmFeatures ? ` (SIMD ${results.versions.wasmFeatures.simd}, threads ${results.versions.wasmFeatures.threads})` : ''}` : '-'],
        ['CUDA', m.cuda.available ? m.cuda.devices.join(', ') : `unavailable: ${m.cuda.reason}`],
        ['load average (1/5/15 min)', `start ${results.loadAverage.start.join(' / ')}, end ${results.loadAverage.end.join(' / ')} (shared machine: ${m.cores} cores)`],
      ],
      { left: true },
    ),
  );
  L.push('');
  L.push('All speeds are medians over interleaved rounds; "spread" is half the interquartile range relative to the median. "% floor" is the memory floor\'s time over the step\'s time on as many threads (the per-round ratio\'s median, paired); "x" is how many times faster the fused step is than the peer, measured in the same run.');
  L.push('');
  const h = headline(results);
  if (h.length) {
    L.push('## Headline: Adam, one tensor');
    L.push('');
    L.push(
      mdTable(
        ['size', 'fused-optim', 'ns/param', 'spread', '% of floor', 'x tfjs-wasm', 'x tfjs-cpu', 'x JS loop'],
        h.map((r) => [fmtSize(r.size), `${r.threads} thread${r.threads > 1 ? 's' : ''}`, fmtNs(r.nsPerParam), `±${(50 * r.spread).toFixed(0)}%`, fmtPct(r.floorFraction), ratioCell(r.vsTfjsWasm, 'tfjs-wasm', missing), ratioCell(r.vsTfjsCpu, 'tfjs-cpu', missing), ratioCell(r.vsJsLoop, 'js-loop', missing)]),
      ),
    );
    L.push('');
  }
  const t = targets(results);
  if (t.length) {
    L.push('## Targets');
    L.push('');
    L.push('"At the floor": what a step running exactly at the measured memory floor (all threads) would reach in this run, an upper bound for any implementation that moves the same bytes.');
    L.push('');
    L.push(mdTable(['target', 'measured', 'at the floor', 'met'], t.map((x) => [x.target, x.value, x.ceiling, x.met ? 'yes' : '**no**'])));
    L.push('');
  }
  L.push('## ns per parameter');
  L.push('');
  L.push(`Floors: the STREAM-like loop (4 arrays read, 3 written: 28 B/param) on 1 and ${m.threadsAll} threads; for SGD with momentum scaled by 20/28 (the step moves 20 B/param). Below 1e5 parameters everything fits in cache and the "floor" is a cache loop plus call overhead, not DRAM.`);
  L.push('');
  const threadsAll = m.threadsAll;
  for (const scenario of results.options.scenarios) {
    for (const layout of results.options.layouts) {
      const cases = results.cases.filter((c) => c.scenario === scenario && c.layout === layout);
      if (!cases.length) continue;
      L.push(`### ${SCENARIOS[scenario].label}, ${layout === 'one' ? 'one tensor' : `${cases[0].tensors} tensors of mixed sizes`}`);
      L.push('');
      const rows = cases.map((c) => {
        const cells = [fmtSize(c.size)];
        for (const id of ids) {
          const r = c.rows.find((x) => x.contender === id);
          if (!r) cells.push('');
          else if (r.status === 'ok') cells.push(`${fmtNs(r.ns.median)} ${spread(r.ns)}`);
          else cells.push(r.status === 'void' ? '**VOID**' : r.status);
        }
        const f1 = c.floors['floor-1t'];
        const fa = c.floors['floor-all'];
        cells.push(`${fmtNs(f1.ns.median)} ${spread(f1.ns)}`, `${fmtNs(fa.ns.median)} ${spread(fa.ns)}`);
        for (const id of FUSED) {
          const r = ok(c, id);
          cells.push(r ? fmtPct(r.floorFraction.median) : '-');
        }
        cells.push(ok(c, 'fused-all') && ok(c, 'tfjs-wasm') ? fmtRatio(speedup(c, 'fused-all', 'tfjs-wasm')) : '-');
        cells.push(ok(c, 'fused-all') && ok(c, 'tfjs-cpu') ? fmtRatio(speedup(c, 'fused-all', 'tfjs-cpu')) : '-');
        cells.push(c.loadAverage[0]);
        return cells;
      });
      L.push(mdTable(['size', ...ids, 'floor 1t', `floor ${threadsAll}t`, '% floor 1t', `% floor ${threadsAll}t`, `${threadsAll}t x wasm`, `${threadsAll}t x cpu`, 'load'], rows));
      L.push('');
    }
  }
  L.push('## Checks against the float64 reference');
  L.push('');
  L.push(`After its timed steps, every contender's parameters (first and last element of every tensor and 512 random ones) were compared with a float64 reference run for the same number of steps: error = max |x - ref| / max(|ref - p0|, 1e-6), tolerance ${results.tolerance}. A result over it is VOID and left out of every ratio.`);
  L.push('');
  const checkRows = ids.map((id) => {
    const rows = results.cases.flatMap((c) => c.rows.filter((r) => r.contender === id && r.verify));
    const worst = rows.reduce((a, r) => Math.max(a, r.verify.maxRelErr), 0);
    const steps = rows.map((r) => r.verify.steps);
    const voids = rows.filter((r) => r.status === 'void').length;
    const other = results.cases.flatMap((c) => c.rows.filter((r) => r.contender === id && !r.verify)).map((r) => r.status);
    const notRun = [...new Set(other)].map((s) => `${other.filter((x) => x === s).length} ${s}`).join(', ');
    return [id, rows.length, rows.length ? worst.toExponential(1) : '-', steps.length ? `${Math.min(...steps)}-${Math.max(...steps)}` : '-', voids, notRun || '-'];
  });
  L.push(mdTable(['contender', 'cases checked', 'worst error', 'steps', 'void', 'not run'], checkRows));
  L.push('');
  const notes = [];
  const seen = new Set();
  for (const c of results.cases) {
    for (const r of c.rows) {
      if (r.status === 'ok') continue;
      const key = `${r.contender}:${r.status}:${r.status === 'unavailable' ? '' : `${c.scenario}/${c.layout}/${c.size}`}`;
      if (seen.has(key)) continue;
      seen.add(key);
      notes.push(`- ${r.contender} ${r.status === 'unavailable' ? '' : `${c.scenario}, ${c.layout}, ${fmtSize(c.size)}: `}${r.status}: ${r.reason}`);
    }
  }
  if (notes.length) {
    L.push('Not run or void:');
    L.push('');
    L.push(...notes);
    L.push('');
  }
  L.push(...extrasMarkdown(results));
  return `${L.join('\n')}\n`;
}

function extrasMarkdown(results) {
  const L = [];
  const x = results.extras ?? {};
  if (x.overhead) {
    L.push('## Per-call overhead (1 thread, tinybench)');
    L.push('');
    L.push(`Median ns per call (${x.overhead.callsPerIteration} calls per timed iteration). "addon adamStep" is the native call with pre-packed hyperparameters: the difference to adamStep() is the JS validation.`);
    L.push('');
    const tasks = [...new Set(x.overhead.rows.map((r) => r.task))];
    const sizes = [...new Set(x.overhead.rows.map((r) => r.size))];
    L.push(
      mdTable(
        ['call', ...sizes.map((s) => `${s} param${s > 1 ? 's' : ''}`)],
        tasks.map((t) => [t, ...sizes.map((s) => {
          const r = x.overhead.rows.find((y) => y.task === t && y.size === s);
          return r?.nsPerCall ? `${fmtNs(r.nsPerCall.median)} ns` : r?.error ?? '-';
        })]),
      ),
    );
    L.push('');
  }
  if (x.overhead?.perTensor?.length) {
    L.push('Cost of the class step per tensor (Adam, 1 thread, tensors of 8 parameters): the per-tensor work of one pass (a chunk, its reduction and its fold).');
    L.push('');
    L.push(mdTable(['tensors', 'ns per step', 'ns per tensor'], x.overhead.perTensor.map((r) => [r.tensors, fmtNs(r.nsPerStep), fmtNs(r.nsPerTensor)])));
    L.push('');
  }
  if (x.norm) {
    L.push('## Cost of the fused norm and the trace (Adam, one tensor, all threads)');
    L.push('');
    L.push('There is no native step without the norm: it is always computed in the one pass. Its cost is bounded by the one-pass step over the floor loop (that includes the update math too); the main tables give it at every size. The trace (one record per step in a native ring) is measured directly: class step with the default trace against traceCapacity 0.');
    L.push('');
    L.push(
      mdTable(
        ['size', 'adamStep() us/step', 'floor us/step', 'adamStep / floor', 'Adam.step() trace on us', 'traceCapacity 0 us', 'trace on / off'],
        x.norm.rows.map((r) => [
          fmtSize(r.size),
          fmtNs(r.entries['adamStep()'].usPerStep),
          fmtNs((r.entries.floor.nsPerParam.median * r.size) / 1e3),
          fmtRatio(r.overFloor.median),
          fmtNs(r.entries['Adam.step() trace on'].usPerStep),
          fmtNs(r.entries['Adam.step() traceCapacity 0'].usPerStep),
          fmtRatio(r.traceCost.median),
        ]),
      ),
    );
    L.push('');
  }
  if (x.clip) {
    L.push('## Clipping and skipping: two passes against one (adamStep, all threads)');
    L.push('');
    L.push('maxGradNorm is 1e30 (two passes, clip coefficient 1: the same work as a real clip, and a result checkable against the reference). Two passes read the gradient twice: 32 B/param instead of 28 (+14%) once the arrays outgrow the caches.');
    L.push('');
    const keys = Object.keys(x.clip.rows[0]?.variants ?? {});
    L.push(
      mdTable(
        ['size', ...keys.map((k) => `${k} ns/param`), ...keys.slice(1).map((k) => `${k.split(' ')[0]} / one pass`), 'one pass % floor'],
        x.clip.rows.map((r) => [
          fmtSize(r.size),
          ...keys.map((k) => fmtNs(r.variants[k].nsPerParam.median)),
          ...keys.slice(1).map((k) => fmtRatio(r.variants[k].vsOnePass.median)),
          fmtPct(r.variants['one pass'].floorFraction.median),
        ]),
      ),
    );
    L.push('');
  }
  if (x.datasync) {
    L.push('## tfjs with and without reading results back (Adam, one tensor)');
    L.push('');
    L.push('"step + dataSync" reads every parameter back to JS after each step; the main tables time "step" (no read-back).');
    L.push('');
    L.push(
      mdTable(
        ['contender', 'size', 'step ns/param', 'step + dataSync ns/param', 'ratio'],
        x.datasync.rows.map((r) =>
          r.status === 'ok'
            ? [r.contender, fmtSize(r.size), fmtNs(r.variants.step.nsPerParam.median), fmtNs(r.variants['step + dataSync'].nsPerParam.median), fmtRatio(r.dataSyncCost.median)]
            : [r.contender, '-', r.reason, '', ''],
        ),
      ),
    );
    L.push('');
  }
  return L;
}

// --- SVG ------------------------------------------------------------------------------------

const COLORS = {
  'fused-1t': '#1f77b4',
  'fused-all': '#d62728',
  'fused-cuda': '#9467bd',
  'tfjs-cpu': '#ff7f0e',
  'tfjs-wasm': '#2ca02c',
  'js-loop': '#8c564b',
  'floor-1t': '#7f7f7f',
  'floor-all': '#17becf',
};

/** ns/parameter vs size, log-log: one panel per scenario and layout. */
export async function plotSvg(results) {
  const threadsAll = results.machine.threadsAll;
  const names = {
    'fused-1t': 'fused-optim 1 thread',
    'fused-all': `fused-optim ${threadsAll} threads`,
    'fused-cuda': 'fused-optim CUDA',
    'tfjs-cpu': 'tfjs cpu',
    'tfjs-wasm': 'tfjs wasm',
    'js-loop': 'plain JS loop',
    'floor-1t': 'memory floor 1 thread',
    'floor-all': `memory floor ${threadsAll} threads`,
  };
  const panels = [];
  for (const scenario of results.options.scenarios) {
    const row = [];
    for (const layout of results.options.layouts) {
      const cases = results.cases.filter((c) => c.scenario === scenario && c.layout === layout);
      if (!cases.length) continue;
      const series = [];
      for (const id of contenderIds(results)) {
        const pts = cases.map((c) => [c.size, ok(c, id)?.ns.median]).filter(([, y]) => Number.isFinite(y));
        if (pts.length) series.push({ name: names[id] ?? id, x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), points: true, color: COLORS[id] });
      }
      for (const key of ['floor-1t', 'floor-all']) {
        const pts = cases.map((c) => [c.size, c.floors[key].ns.median]);
        series.push({ name: names[key], x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), dashed: true, points: true, color: COLORS[key], width: 1.5 });
      }
      const tensors = layout === 'one' ? 'one tensor' : `${cases[0].tensors} tensors`;
      const sizes = cases.map((c) => c.size);
      row.push(
        withSizeAxis(lineChartSpec({
          title: `${SCENARIOS[scenario].label}, ${tensors}${SCENARIOS[scenario].bytesPerParam !== 28 ? ` (floor x ${SCENARIOS[scenario].bytesPerParam}/28)` : ''}`,
          xLabel: 'parameters',
          yLabel: 'ns per parameter (median)',
          logX: true,
          logY: true,
          width: 380,
          height: 240,
          xDomain: [Math.min(...sizes) / 1.5, Math.max(...sizes) * 1.5],
          series,
        }), sizes),
      );
    }
    if (row.length) panels.push({ hconcat: row });
  }
  const m = results.machine;
  return vegaLiteToSvg({
    title: {
      text: `Optimizer step cost vs size: ${results.versions.package ?? 'fused-optim'} against TensorFlow.js and a plain JS loop`,
      subtitle: `${m.cpu}, ${m.cores} cores, ${m.simd}; Node ${m.node}; ${results.date.slice(0, 10)}; load avg ${results.loadAverage.start[0]}-${results.loadAverage.end[0]}`,
    },
    // every panel has the same series names and colours: one shared legend
    vconcat: panels,
  });
}

/** Ticks at the measured sizes, labelled 1k, 10k, ... 30M. */
function withSizeAxis(spec, sizes) {
  for (const layer of spec.layer ?? []) {
    const x = layer.encoding?.x;
    if (x) x.axis = { ...(x.axis ?? {}), values: sizes, format: '~s', grid: true };
  }
  return spec;
}
