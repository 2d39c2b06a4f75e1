/**
 * Fuzz: random optimizer configurations (kind, API, every option, sizes including 0, 1 and
 * odd, tensor counts, thread counts and how they are set, SIMD levels, non-finite gradients)
 * against the float64 reference, with the error measure of test/support/fuzz.ts:
 * |a − b| / max(|b|, |b₀|, 1e-30) ≤ 1e-5, b₀ the reference value before the step.
 *
 * `npm test` runs FUZZ_RUNS (default 300) configurations; the long run is
 * `FUZZ_RUNS=10000 npx vitest run test/fuzz.test.ts` (or `node scripts/fuzz.mjs 10000`).
 * The seed is fixed by default and printed; a failure prints it with the shrunk configuration.
 * FUSED_OPTIM_TEST_SEED=<seed> replays a run or explores other configurations
 * (`node scripts/fuzz.mjs` draws a fresh one per long run).
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';

import { testSeed } from './support/seed.js';
import { FUZZ_TOL, NORM_TOL, fuzzConfig, runBits, runFuzzConfig } from './support/fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = testSeed('fuzz', 1130);

test(`${RUNS} random configurations match the float64 reference (max relative error <= ${FUZZ_TOL})`, () => {
  const stats = { runs: 0, worst: 0, where: '', normErr: 0, elements: 0, skipped: 0, byKind: {} as Record<string, number> };
  const started = Date.now();
  fc.assert(
    fc.property(fuzzConfig, (c) => {
      const r = runFuzzConfig(c);
      stats.runs++;
      stats.elements += r.elements;
      stats.skipped += r.skippedSteps;
      const key = `${c.api}/${c.kind}`;
      stats.byKind[key] = (stats.byKind[key] ?? 0) + 1;
      if (r.worst > stats.worst) {
        stats.worst = r.worst;
        stats.where = `${key} ${r.where}`;
      }
      stats.normErr = Math.max(stats.normErr, r.normErr);
      expect(r.problems).toEqual([]);
      expect(r.worst).toBeLessThanOrEqual(FUZZ_TOL);
      expect(r.normErr).toBeLessThanOrEqual(NORM_TOL);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  const summary = {
    seed: SEED,
    configurations: stats.runs,
    worstRelativeError: stats.worst,
    worstAt: stats.where,
    worstNormRelativeError: stats.normErr,
    elementsPerStep: stats.elements,
    skippedSteps: stats.skipped,
    byApiAndKind: stats.byKind,
    seconds: (Date.now() - started) / 1000,
  };
  console.log(`FUZZ_SUMMARY ${JSON.stringify(summary)}`);
}, Math.max(120_000, RUNS * 100));

test(`${Math.max(20, Math.round(RUNS / 10))} random large configurations give the same bits for 1 and for N threads`, () => {
  fc.assert(
    fc.property(
      fuzzConfig.filter((c) => c.api === 'class'),
      fc.integer({ min: 2, max: 8 }),
      fc.integer({ min: 33_000, max: 70_000 }),
      (c, threads, big) => {
        const lengths = [...c.lengths, big]; // past the parallel threshold (32768 elements)
        const one = runBits({ ...c, lengths, nonFiniteStep: -1, threads: { how: 'option', n: 1 } });
        const many = runBits({ ...c, lengths, nonFiniteStep: -1, threads: { how: 'option', n: threads } });
        expect(many.equals(one)).toBe(true);
      },
    ),
    { numRuns: Math.max(20, Math.round(RUNS / 10)), seed: SEED },
  );
}, Math.max(120_000, RUNS * 100));
