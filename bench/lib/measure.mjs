/**
 * The sampler: every entry of a case (contenders and floor loops) is warmed up, then timed in
 * interleaved rounds (round r times entry 1, entry 2, ... in turn), so that a shared machine's
 * slow moments hit all of them alike and paired ratios stay meaningful.
 *
 * A sample is the mean time of a batch of B consecutive steps, in ns per parameter. B is
 * chosen from the warm-up so a batch lasts ~`batchMs` (timer and loop costs vanish), the
 * number of samples so an entry uses ~`budgetMs`, within [minSamples, maxSamples]; a slow
 * entry (one step > `slowStepMs` after warm-up) takes `slowSamples` samples. Warm-up is at least
 * two steps unless the first takes over `secondWarmupMs`. Steps are
 * capped (`maxSteps`, warm-up included) so the fp32 check against the reference stays sharp.
 */
import { summarize } from './stats.mjs';

const now = () => Number(process.hrtime.bigint());

export const MEASURE_DEFAULTS = {
  warmupMs: 40,
  maxWarmupSteps: 200,
  batchMs: 10,
  budgetMs: 1500,
  minSamples: 7,
  maxSamples: 25,
  slowStepMs: 1500,
  secondWarmupMs: 3000,
  slowSamples: 2,
  maxSteps: 2000,
};

/**
 * entries: [{ key, n, instance: { enter?, step, sync?, steps } , capSteps?: boolean }]
 * Returns Map key -> { samples (ns/param, in round order), summary, batch, warmupSteps, stepMs }.
 * `onSample(key, plannedSamples)` is called after every timed batch (progress).
 */
export async function measureEntries(entries, options = {}, onSample = () => {}) {
  const o = { ...MEASURE_DEFAULTS, ...options };
  const plans = [];
  for (const e of entries) {
    const inst = e.instance;
    if (inst.enter) await inst.enter();
    // warm-up: until warmupMs, and at least two steps unless the first one is very slow (the
    // first step of fresh arrays pays their page faults: 0.5 s for Adam at 3e7), so the
    // estimate below comes from a step on touched memory
    let steps = 0;
    let last = 0;
    const t0 = now();
    for (;;) {
      const a = now();
      inst.step();
      if (inst.sync) inst.sync();
      last = now() - a;
      steps++;
      const elapsed = (now() - t0) / 1e6;
      if (steps === 1 && last / 1e6 <= o.secondWarmupMs) continue;
      if (last / 1e6 > o.slowStepMs || elapsed >= o.warmupMs || steps >= o.maxWarmupSteps) break;
      if (e.capSteps !== false && steps >= o.maxSteps / 10) break;
    }
    // one more short, timed pass for a steadier per-step estimate (fast entries only)
    let stepNs = last;
    if (last / 1e6 < o.batchMs) {
      const k = Math.max(1, Math.min(50, Math.floor((o.batchMs * 1e6) / Math.max(last, 1))));
      const a = now();
      for (let i = 0; i < k; i++) inst.step();
      if (inst.sync) inst.sync();
      stepNs = (now() - a) / k;
      steps += k;
    }
    const slow = stepNs / 1e6 > o.slowStepMs;
    let batch = Math.max(1, Math.round((o.batchMs * 1e6) / stepNs));
    let samples = slow
      ? o.slowSamples
      : Math.max(o.minSamples, Math.min(o.maxSamples, Math.floor((o.budgetMs * 1e6) / (batch * stepNs))));
    if (e.capSteps !== false) {
      const room = Math.max(samples, o.maxSteps - steps);
      batch = Math.max(1, Math.min(batch, Math.floor(room / samples)));
    }
    plans.push({ e, batch, samples, warmupSteps: steps, stepMs: stepNs / 1e6, times: [] });
  }
  const rounds = Math.max(...plans.map((p) => p.samples));
  for (let r = 0; r < rounds; r++) {
    for (const p of plans) {
      if (r >= p.samples) continue;
      const inst = p.e.instance;
      if (inst.enter) await inst.enter();
      const a = now();
      for (let i = 0; i < p.batch; i++) inst.step();
      if (inst.sync) inst.sync();
      p.times.push((now() - a) / p.batch / p.e.n);
      onSample(p.e.key, p.samples);
    }
  }
  const out = new Map();
  for (const p of plans) {
    out.set(p.e.key, {
      samples: p.times,
      summary: summarize(p.times),
      batch: p.batch,
      warmupSteps: p.warmupSteps,
      stepMs: p.stepMs,
    });
  }
  return out;
}

/** How many samples an entry is expected to take (for the progress bar). */
export function expectedSamples(stepSeconds, options = {}) {
  const o = { ...MEASURE_DEFAULTS, ...options };
  if (stepSeconds * 1000 > o.slowStepMs) return o.slowSamples;
  const batchS = Math.max(o.batchMs / 1000, stepSeconds);
  return Math.max(o.minSamples, Math.min(o.maxSamples, Math.floor(o.budgetMs / 1000 / batchS)));
}
