// Merges OUT/ours.json (check.mjs) and OUT/torch.json (torch_bench.py) into OUT/results.json
// and OUT/results.md, and prints the closing table: case, our time, PyTorch time, ratio,
// % of copy bandwidth. usage: node bench/gpu/report.mjs OUT [GPU name]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/gpu/report.mjs OUTDIR [gpu name]');
  process.exit(2);
}
const read = (f) => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : null);
const ours = read('ours.json');
const torch = read('torch.json');
if (!ours) {
  console.error(`no ${join(dir, 'ours.json')}: the CUDA check did not get that far`);
  process.exit(1);
}
// `||`, not `??`: run.sh passes an empty name when nvidia-smi gives none.
const gpu = process.argv[3] || torch?.device || ours.buildInfo?.cuda?.devices?.[0] || 'unknown GPU';
const f = (x, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const ceiling = ours.copy?.ceilingGBps;

const rows = (ours.bench ?? []).map((b) => {
  const t = torch?.bench?.find((r) => r.name === b.name);
  const torchMs = t?.torchMs ?? null;
  return {
    case: b.name,
    params: b.params,
    tensors: b.tensors,
    oursMs: b.oursMs ?? null,
    torchMs,
    speedup: b.oursMs && torchMs ? torchMs / b.oursMs : null,
    oursPctCopy: b.oursPctCopy ?? null,
    torchPctCopy: torchMs && ceiling ? (100 * (b.params * b.bytesPerParam) / (torchMs * 1e-3) / 1e9) / ceiling : null,
    normTraceExtraPct: b.normTraceExtraPct ?? null,
    apiMs: b.apiMs ?? null,
    error: [b.error, t?.error].filter(Boolean).join('; ') || null,
  };
});

const parity = ours.parity ?? [];
const checks = ours.checks ?? [];
const lines = [];
lines.push(`# fused-optim CUDA check: ${gpu}`, '');
lines.push(`${ours.date} · ${ours.buildInfo?.cuda?.devices?.join(', ')} · driver ${ours.buildInfo?.cuda?.driverVersion} · runtime ${ours.buildInfo?.cuda?.runtimeVersion} · Node ${ours.node}` + (torch ? ` · PyTorch ${torch.torch} (CUDA ${torch.cuda})` : ''), '');
lines.push(`Copy bandwidth (device to device, read + written): ${f(ceiling, 0)} GB/s (addon)` + (torch ? `, ${f(torch.copy?.ceilingGBps, 0)} GB/s (PyTorch)` : ''), '');
lines.push('## Steps', '');
lines.push('| case | params | tensors | ours (ms) | PyTorch (ms) | PyTorch / ours | ours % of copy | PyTorch % of copy | norms+trace extra |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  lines.push(
    `| ${r.case}${r.error ? ` (error: ${r.error})` : ''} | ${r.params} | ${r.tensors} | ${f(r.oursMs)} | ${f(r.torchMs)} | ${f(r.speedup, 2)}× | ${f(r.oursPctCopy, 1)}% | ${f(r.torchPctCopy, 1)}% | ${r.normTraceExtraPct === null ? '-' : `${f(r.normTraceExtraPct, 2)}%`} |`,
  );
}
lines.push('', 'Ours: one launch for the update (+ a small finalize kernel for norms, decisions and the trace; clipping adds a reduce pass). Times are medians of CUDA-event intervals between consecutive steps; % of copy = bytes a step must move (AdamW 28 B/param, SGD momentum 20, SGD 12; +4 with clipping, which reads the gradient twice) over the time, divided by the copy bandwidth.');
if (rows.some((r) => r.apiMs)) {
  lines.push('', 'Through the public class (`AdamW.step()`, lazy StepInfo): ' + rows.filter((r) => r.apiMs).map((r) => `${r.case}: ${f(r.apiMs)} ms`).join(', '));
}
lines.push('', '## Parity with the CPU backend', '');
lines.push('| case | expected | ok | norms max rel | tensor norms max rel | params max rel | state max rel | params / state differing |');
lines.push('|---|---|---|---:|---:|---:|---:|---:|');
const e = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toExponential(2) : String(x));
for (const p of parity) {
  lines.push(`| ${p.case} | ${p.expect ?? ''} | ${p.ok ? 'ok' : `**FAIL**: ${(p.failures ?? []).slice(0, 3).join('; ')}`} | ${e(p.maxRelNorm)} | ${e(p.maxRelTensorNorm)} | ${e(p.maxRelParams)} | ${e(p.maxRelState)} | ${p.mismatchedParams ?? '-'} / ${p.mismatchedState ?? '-'} |`);
}
if (checks.length) {
  lines.push('', '## Device behaviour', '');
  for (const c of checks) lines.push(`- ${c.ok ? 'ok' : '**FAIL**'}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
}
const md = lines.join('\n') + '\n';
writeFileSync(join(dir, 'results.md'), md);
writeFileSync(join(dir, 'results.json'), JSON.stringify({ gpu, ours, torch, rows }, null, 1));

console.log(`\n== summary (${gpu}; copy ${f(ceiling, 0)} GB/s)`);
console.log(`${'case'.padEnd(32)} ${'ours ms'.padStart(9)} ${'torch ms'.padStart(9)} ${'ratio'.padStart(7)} ${'% copy'.padStart(7)}`);
for (const r of rows) {
  console.log(
    `${r.case.padEnd(32)} ${f(r.oursMs).padStart(9)} ${f(r.torchMs).padStart(9)} ${(r.speedup ? `${f(r.speedup, 2)}x` : '-').padStart(7)} ${(r.oursPctCopy ? `${f(r.oursPctCopy, 1)}%` : '-').padStart(7)}` +
      (r.normTraceExtraPct !== null ? `   norms+trace +${f(r.normTraceExtraPct, 2)}%` : '') +
      (r.error ? `   ERROR ${r.error}` : ''),
  );
}
console.log(`parity: ${parity.filter((p) => p.ok).length}/${parity.length} cases ok; behaviour: ${checks.filter((c) => c.ok).length}/${checks.length} ok`);
console.log(`written: ${join(dir, 'results.md')}, ${join(dir, 'results.json')}`);
