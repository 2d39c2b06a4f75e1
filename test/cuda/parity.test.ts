/**
 * CUDA against the CPU backend on the same inputs: every optimizer and option, odd sizes, many
 * tensors of mixed sizes, non-finite gradients with and without skipNonFinite, clipping,
 * gradScale, several steps, lazy outcomes, stepAsync, state moved between devices. The cases
 * and their tolerances live in bench/gpu/parity.mjs, which the GPU check script
 * (bench/gpu/check.mjs) runs too.
 *
 * The GPU-heavy tests all live in this file, so that they run one after another.
 *
 * Where no CUDA device is usable the device suites are skipped (vitest lists them as skipped) and
 * the reason is printed; test/cuda/no-device.test.ts checks what happens without a device. The
 * harness tests at the end run everywhere.
 */
import { describe, expect, it } from 'vitest';

import { CASES, NORM_RTOL, STATE_RTOL, compareArrays, runCase, runDeviceChecks } from '../../bench/gpu/parity.mjs';
import { Adam, AdamW, CudaError, SGD, ScheduleFreeAdamW, buildInfo } from '../../src/index.js';
import { testSeed } from '../support/seed.js';

const cuda = buildInfo().cuda;
const seed = testSeed('cuda parity', 7);

if (!cuda.available) {
  console.log(`[test/cuda/parity] skipped: CUDA is unavailable here: ${cuda.reason}`);
}

describe.skipIf(!cuda.available)(`CUDA vs CPU (seed ${seed}; norms rtol ${NORM_RTOL}, state bitwise or rtol ${STATE_RTOL})`, () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const r = await runCase({ Adam, AdamW, SGD, ScheduleFreeAdamW }, c, { seed });
      console.log(
        `[cuda parity] ${c.name}: norms ${r.maxRelNorm.toExponential(2)}, tensor norms ${r.maxRelTensorNorm.toExponential(2)}, ` +
          `params ${r.mismatchedParams} differ (max rel ${r.maxRelParams.toExponential(2)}), state ${r.mismatchedState} differ (max rel ${r.maxRelState.toExponential(2)})`,
      );
      expect(r.failures).toEqual([]);
    });
  }
});

// Lazy outcomes, appliedSteps from the device, out of memory without leaks, errors. In this
// file, after the parity cases: GPU tests run serially (the OOM check takes most of the memory).
describe.skipIf(!cuda.available)('CUDA device behaviour', () => {
  it('passes the device behaviour checks', async () => {
    const checks = await runDeviceChecks({ Adam, AdamW, SGD, CudaError, buildInfo });
    for (const c of checks) console.log(`[cuda behaviour] ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} ${c.detail}`);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });
});

// The harness itself, on any machine: CPU against CPU must pass every check bitwise, and a
// one-ulp difference must be caught.
describe('the parity harness (CPU vs CPU)', () => {
  // The cases that exercise the harness's paths (lazy, async, transfer, non-finite, clipping),
  // on the smaller tensor lists: the CPU does both sides here.
  const picked = CASES.filter((c) => c.tensors !== 'mixed' || c.transferAt !== undefined || c.async);
  for (const c of picked) {
    // Both sides run on the CPU here: a case that moves the state to CUDA moves it CPU → CPU.
    it(c.name.replace('CPU → CUDA', 'CPU → CPU (stateDict round trip)'), async () => {
      const r = await runCase({ Adam, AdamW, SGD, ScheduleFreeAdamW }, c, { seed, device: 'cpu' });
      expect(r.failures).toEqual([]);
      expect(r.mismatchedParams + r.mismatchedState).toBe(0);
      expect(r.maxRelNorm).toBe(0);
    });
  }

  it('catches a one-ulp difference, and counts NaN as equal to NaN', () => {
    const a = Float32Array.from([1, 2, NaN, -0.5]);
    const b = Float32Array.from(a);
    expect(compareArrays(a, b)).toEqual({ mismatches: 0, maxRel: 0 });
    new Uint32Array(b.buffer)[1] += 1;
    const d = compareArrays(b, a);
    expect(d.mismatches).toBe(1);
    expect(d.maxRel).toBeCloseTo(2 ** -23, 12);
  });
});
