/**
 * The seed of a randomised test file: fixed by default, so that every run of the suite draws
 * the same data, and replaceable through the environment to explore or to replay:
 *
 *   FUSED_OPTIM_TEST_SEED=12345 npx vitest run test/optim.steps.test.ts
 *
 * The seed in use is printed, so a failure seen in CI can be replayed exactly.
 */

/** The variable that overrides every randomised test's seed. */
export const SEED_VARIABLE = 'FUSED_OPTIM_TEST_SEED';

/**
 * The seed for the test file `label`: `FUSED_OPTIM_TEST_SEED` when set (an integer in
 * [0, 2^32)), else `fallback`. Prints `<label>: seed <n> (...)`.
 * @throws RangeError when the variable is set but is not such an integer (a typo must not
 *   silently fall back to the default).
 */
export function testSeed(label: string, fallback: number): number {
  const raw = process.env[SEED_VARIABLE];
  let seed = fallback;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 32) {
      throw new RangeError(`Expected an integer in [0, 2^32) for ${SEED_VARIABLE} but received '${raw}'`);
    }
    seed = n;
  }
  const how = seed === fallback && (raw === undefined || raw === '') ? 'the fixed default' : `from ${SEED_VARIABLE}`;
  console.log(`${label}: seed ${seed} (${how}; replay with ${SEED_VARIABLE}=${seed})`);
  return seed;
}
