#!/usr/bin/env node
// The glibc floor of a binary: the highest GLIBC_x.y symbol version it needs, from
// `objdump -T` (binutils). Exits 1, naming the symbols, when one is above the bound.
//
//   node scripts/check-glibc.mjs <file.node> [max-version, default the documented floor]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The documented minimum glibc of the prebuilt binary (README "Install"). */
export const GLIBC_FLOOR = '2.34';

function cmp(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The glibc symbol versions `file` needs: `{ highest, above: ['sym@GLIBC_x.y', ...],
 * libraries: [NEEDED entries] }`. Throws when objdump is missing.
 */
export function glibcNeeds(file, max = GLIBC_FLOOR) {
  const dyn = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const priv = execFileSync('objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let highest = '0';
  const above = [];
  for (const line of dyn.split('\n')) {
    // undefined (imported) symbols only: "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) pthread_create"
    const m = /\*UND\*\s+\S+\s+\(?GLIBC_([0-9.]+)\)?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, version, sym] = m;
    if (cmp(version, highest) > 0) highest = version;
    if (cmp(version, max) > 0) above.push(`${sym}@GLIBC_${version}`);
  }
  const libraries = [...priv.matchAll(/^\s*NEEDED\s+(\S+)/gm)].map((m) => m[1]);
  return { highest, above, libraries };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, max = GLIBC_FLOOR] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/check-glibc.mjs <file.node> [max-glibc-version]');
    process.exit(2);
  }
  const r = glibcNeeds(file, max);
  console.log(`${file}: needs glibc ${r.highest} (bound ${max}); libraries: ${r.libraries.join(', ')}`);
  const cxx = r.libraries.filter((l) => /^libstdc\+\+/.test(l));
  if (r.above.length > 0) console.error(`symbols above glibc ${max}: ${r.above.join(', ')}`);
  if (cxx.length > 0) console.error(`links ${cxx.join(', ')} dynamically (expected libstdc++ linked in: FUSED_OPTIM_STATIC_RUNTIME)`);
  process.exit(r.above.length > 0 || cxx.length > 0 ? 1 : 0);
}
