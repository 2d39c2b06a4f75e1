/**
 * Order statistics for benchmark samples. Every reported speed is a median with its spread
 * (quartiles, min, max); ratios between two contenders measured in the same rounds are the
 * median of the per-round ratios (paired), which cancels most of a shared machine's drift.
 */

/** Quantile of a sorted array, linear interpolation (R type 7, numpy's default). */
export function quantile(sorted, q) {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** { n, median, p25, p75, min, max, iqrRel } of a list of numbers (non-finite values dropped). */
export function summarize(values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const p25 = quantile(s, 0.25);
  const p75 = quantile(s, 0.75);
  return {
    n: s.length,
    median,
    p25,
    p75,
    min: s.length ? s[0] : NaN,
    max: s.length ? s[s.length - 1] : NaN,
    // the interquartile range relative to the median: the spread figure of the tables
    iqrRel: median > 0 ? (p75 - p25) / median : NaN,
  };
}

/**
 * Ratio a/b of two sample lists taken in the same rounds: the median of the per-round ratios
 * (pairs the i-th samples; extra samples of the longer list are ignored), with quartiles.
 * Falls back to the ratio of medians when one side has no samples to pair.
 */
export function pairedRatio(a, b) {
  const n = Math.min(a.length, b.length);
  if (n === 0) return summarize([]);
  const r = [];
  for (let i = 0; i < n; i++) r.push(a[i] / b[i]);
  return summarize(r);
}

/** Ratio of medians, for contenders not measured in the same rounds. */
export function medianRatio(a, b) {
  return summarize(a).median / summarize(b).median;
}
