/**
 * Line charts as SVG, headless: a Vega-Lite spec compiled to Vega and rendered with
 * `view.toSVG()` (no canvas, no browser). Used for refinement plots, benchmark plots
 * (ns/param vs size, log-log) and training curves.
 * @module
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { boolean, integer, oneOf, opt, options as optionsObject, positive, rangeError, typeError } from '../validate.js';

/** One line of a chart. */
export interface Series {
  /** Legend label (unique within a chart). */
  name: string;
  /** x values (same length as `y`). */
  x: ArrayLike<number>;
  /** y values. Non-finite points are left out (and points <= 0 on a log axis). */
  y: ArrayLike<number>;
  /** Dashed line (e.g. a reference such as linear decay); default false. */
  dashed?: boolean;
  /** Line width in px; default 2. */
  width?: number;
  /** A CSS colour; default from the category10 palette in series order. */
  color?: string;
  /** Draw a marker at every point (for sparse data such as benchmark sizes); default false. */
  points?: boolean;
}

/** How long series are thinned before plotting. */
export type DownsampleMethod = 'minmax' | 'stride';

/** Options of {@link lineChartSvg} and {@link lineChartSpec}. */
export interface LineChartOptions {
  series: Series[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic x axis (points with x <= 0 are left out); default false. */
  logX?: boolean;
  /** Logarithmic y axis (points with y <= 0 are left out); default false. */
  logY?: boolean;
  /** Plot area size in px; defaults 640 × 300. */
  width?: number;
  height?: number;
  /** Most points kept per series (>= 4); default 2000. */
  maxPoints?: number;
  /** `'minmax'` (default: keeps the extremes of every bucket, so spikes survive) or `'stride'`. */
  downsample?: DownsampleMethod;
  /** Fixed axis ranges; default from the data. */
  xDomain?: [number, number];
  yDomain?: [number, number];
}

/** Options of {@link chartsSvg}: several charts stacked vertically, each with its own legend. */
export interface ChartsOptions {
  charts: LineChartOptions[];
  title?: string;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * Thins a series to at most `maxPoints` points, in index order.
 *
 * - `'minmax'`: cuts the series into ⌊maxPoints/2⌋ buckets of consecutive points and keeps
 *   the smallest and largest y of each (in index order), so spikes and dips stay visible;
 * - `'stride'`: keeps every k-th point.
 * The first and last points are always kept. Series already short enough are copied as they
 * are.
 *
 * @example
 * ```ts
 * const { x, y } = downsampleSeries(xs, ys, 2000);        // ≤ 2000 points
 * downsampleSeries([0, 1, 2, 3, 4, 5], [0, 9, 1, 1, -5, 2], 4).y; // Float64Array [0, 9, -5, 2]
 * ```
 */
export function downsampleSeries(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  maxPoints = 2000,
  method: DownsampleMethod = 'minmax',
): { x: Float64Array; y: Float64Array } {
  const n = x.length;
  if (y.length !== n) throw rangeError('y', `an array of length ${n} (as x)`, y);
  integer('maxPoints', maxPoints, 4);
  oneOf('method', method, ['minmax', 'stride'] as const);
  if (n <= maxPoints) return { x: Float64Array.from(x), y: Float64Array.from(y) };
  const keep: number[] = [0];
  if (method === 'stride') {
    const k = Math.ceil((n - 2) / (maxPoints - 2));
    for (let i = k; i < n - 1; i += k) keep.push(i);
  } else {
    const buckets = Math.floor((maxPoints - 2) / 2);
    const size = (n - 2) / buckets;
    for (let b = 0; b < buckets; b++) {
      const lo = 1 + Math.floor(b * size);
      const hi = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
      if (hi <= lo) continue;
      let imin = lo;
      let imax = lo;
      for (let i = lo + 1; i < hi; i++) {
        const v = y[i];
        // NaN never wins a comparison: a bucket of NaN keeps its first point
        if (v < y[imin]) imin = i;
        if (v > y[imax]) imax = i;
      }
      if (imin === imax) keep.push(imin);
      else if (imin < imax) keep.push(imin, imax);
      else keep.push(imax, imin);
    }
  }
  keep.push(n - 1);
  const ox = new Float64Array(keep.length);
  const oy = new Float64Array(keep.length);
  for (let k = 0; k < keep.length; k++) {
    ox[k] = x[keep[k]];
    oy[k] = y[keep[k]];
  }
  return { x: ox, y: oy };
}

function checkChart(name: string, opts: unknown): Required<Pick<LineChartOptions, 'width' | 'height' | 'maxPoints' | 'downsample' | 'logX' | 'logY'>> & LineChartOptions {
  const o = optionsObject<LineChartOptions>(name, opts) as Record<string, unknown>;
  if (opts === undefined) throw typeError(name, 'an options object with series', opts);
  if (!Array.isArray(o.series)) throw typeError(`${name}.series`, 'an array of series', o.series);
  const names = new Set<string>();
  (o.series as unknown[]).forEach((s, i) => {
    const sn = `${name}.series[${i}]`;
    const so = optionsObject<Series>(sn, s) as Record<string, unknown>;
    if (s === undefined) throw typeError(sn, 'a series object', s);
    if (typeof so.name !== 'string') throw typeError(`${sn}.name`, 'a string', so.name);
    if (names.has(so.name)) throw rangeError(`${sn}.name`, 'a name not used by another series', so.name);
    names.add(so.name);
    for (const k of ['x', 'y'] as const) {
      const a = so[k];
      if (!(Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView)))) throw typeError(`${sn}.${k}`, 'an array of numbers', a);
    }
    if ((so.x as ArrayLike<number>).length !== (so.y as ArrayLike<number>).length) {
      throw rangeError(`${sn}.y`, `an array of length ${(so.x as ArrayLike<number>).length} (as x)`, so.y);
    }
  });
  for (const k of ['title', 'xLabel', 'yLabel'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw typeError(`${name}.${k}`, 'a string', o[k]);
  }
  for (const k of ['xDomain', 'yDomain'] as const) {
    const d = o[k];
    if (d !== undefined && !(Array.isArray(d) && d.length === 2 && d.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
      throw typeError(`${name}.${k}`, 'a [min, max] pair of finite numbers', d);
    }
  }
  return {
    ...(o as unknown as LineChartOptions),
    width: opt(o, 'width', 640, positive, name),
    height: opt(o, 'height', 300, positive, name),
    maxPoints: opt(o, 'maxPoints', 2000, (n, v) => integer(n, v, 4), name),
    downsample: opt(o, 'downsample', 'minmax' as DownsampleMethod, (n, v) => oneOf(n, v, ['minmax', 'stride'] as const), name),
    logX: opt(o, 'logX', false, boolean, name),
    logY: opt(o, 'logY', false, boolean, name),
  };
}

/** A rounded number for the data table: 6 significant digits keeps SVGs small and exact enough for a plot. */
function round(v: number): number {
  return Number(v.toPrecision(7));
}

/**
 * The Vega-Lite spec of a line chart (one unit spec; no `$schema`, no config), for callers
 * that want to compose charts themselves. Series are downsampled and cleaned as described in
 * {@link lineChartSvg}.
 *
 * @example
 * ```ts
 * const spec = lineChartSpec({ series: [{ name: 'loss', x: steps, y: loss }], logY: true });
 * const svg = await vegaLiteToSvg({ hconcat: [spec, otherSpec] });
 * ```
 */
export function lineChartSpec(opts: LineChartOptions): Record<string, unknown> {
  const o = checkChart('options', opts);
  const values: { s: string; x: number; y: number; i: number }[] = [];
  const names: string[] = [];
  const colors: string[] = [];
  const dashes: number[][] = [];
  const widths: number[] = [];
  let anyPoints = false;
  o.series.forEach((s, idx) => {
    names.push(s.name);
    colors.push(s.color ?? PALETTE[idx % PALETTE.length]);
    dashes.push(s.dashed ? [6, 4] : [1, 0]);
    widths.push(s.width ?? 2);
    anyPoints ||= !!s.points;
    const d = downsampleSeries(s.x, s.y, o.maxPoints, o.downsample);
    for (let i = 0; i < d.x.length; i++) {
      const x = d.x[i];
      const y = d.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if ((o.logX && x <= 0) || (o.logY && y <= 0)) continue;
      values.push({ s: s.name, x: round(x), y: round(y), i });
    }
  });
  const scale = (log: boolean, domain?: [number, number]): Record<string, unknown> => ({
    type: log ? 'log' : 'linear',
    ...(!log && { zero: false }),
    // a log axis is not rounded out to whole decades: norms between 70 and 250 would get 10–1000
    nice: !domain && !log,
    ...(domain && { domain }),
  });
  // note: `symbolType: 'stroke'` draws each legend glyph as a short line in the series' own
  // colour, dash and width, and `symbolSize` keeps it clear of its label.
  const legend = { title: null, orient: 'bottom', direction: 'horizontal', symbolType: 'stroke', symbolSize: 400, symbolStrokeWidth: 2, labelLimit: 400 };
  // note: explicit `ordinal` scales map each series name to its own value. Left to
  // Vega-Lite, strokeWidth gets a `point` scale, which spreads the widths between the first
  // and last of the range (five series of width 2 came out 2, 2.25 ... 3) and gives NaN for a
  // single series (`stroke-width="NaN"`, and a legend glyph drawn over its label).
  const ordinal = (range: unknown[]) => ({ type: 'ordinal', domain: names, range });
  const encoding = {
    x: { field: 'x', type: 'quantitative', title: o.xLabel ?? 'step', scale: scale(o.logX, o.xDomain), axis: { grid: true, tickCount: 8 } },
    y: { field: 'y', type: 'quantitative', title: o.yLabel ?? '', scale: scale(o.logY, o.yDomain), axis: { grid: true } },
    color: { field: 's', type: 'nominal', sort: names, scale: ordinal(colors), legend },
    strokeDash: { field: 's', type: 'nominal', sort: names, scale: ordinal(dashes), legend },
    strokeWidth: { field: 's', type: 'nominal', sort: names, scale: ordinal(widths), legend },
    order: { field: 'i', type: 'quantitative' },
  };
  const pointSeries = o.series.filter((s) => s.points).map((s) => s.name);
  // Dashed series are reference lines (linear decay beside the refined schedule): drawn in a
  // layer of their own, after the solid ones, so that they stay visible where the lines meet.
  const dashedNames = o.series.filter((s) => s.dashed).map((s) => s.name);
  const solidNames = names.filter((n) => !dashedNames.includes(n));
  const lineMark = { type: 'line', clip: true, interpolate: 'linear' };
  const layer: Record<string, unknown>[] =
    dashedNames.length === 0 || solidNames.length === 0
      ? [{ mark: lineMark, encoding }]
      : [
          { transform: [{ filter: { field: 's', oneOf: solidNames } }], mark: lineMark, encoding },
          { transform: [{ filter: { field: 's', oneOf: dashedNames } }], mark: lineMark, encoding },
        ];
  if (anyPoints) {
    layer.push({
      transform: [{ filter: { field: 's', oneOf: pointSeries } }],
      mark: { type: 'point', filled: true, size: 30, clip: true },
      encoding: { x: encoding.x, y: encoding.y, color: { ...encoding.color, legend: null } },
    });
  }
  return {
    ...(o.title !== undefined && { title: o.title }),
    width: o.width,
    height: o.height,
    data: { values },
    layer,
  };
}

/**
 * Renders a Vega-Lite spec to an SVG string, headless (`renderer: 'none'`, `view.toSVG()`).
 * @example
 * ```ts
 * const svg = await vegaLiteToSvg({ data: { values: [{ a: 1, b: 2 }] }, mark: 'point', encoding: { x: { field: 'a' }, y: { field: 'b' } } });
 * ```
 */
export async function vegaLiteToSvg(spec: Record<string, unknown>): Promise<string> {
  const top = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: {
      font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
      title: { fontSize: 15, anchor: 'start', offset: 10 },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 12 },
      view: { stroke: '#bbb' },
    },
    ...spec,
  } as unknown as TopLevelSpec;
  const vg = compile(top, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * A line chart as an SVG string (Vega-Lite → Vega → SVG, headless).
 *
 * Each series is drawn in its own colour (category10 unless given), solid or dashed, with a
 * legend under the chart. Long series are downsampled to `maxPoints` (default 2000) points
 * each, min/max-preserving by default, so a 1e7-step trace still gives an SVG of ~100 kB
 * per series; values are rounded to 7 significant digits. Non-finite points, and points
 * <= 0 on a log axis, are left out.
 *
 * @example
 * ```ts
 * const svg = await lineChartSvg({
 *   title: 'Adam step cost', xLabel: 'parameters', yLabel: 'ns / parameter', logX: true, logY: true,
 *   series: [
 *     { name: 'fused (CPU)', x: sizes, y: nsFused, points: true },
 *     { name: 'tfjs', x: sizes, y: nsTfjs, points: true, dashed: true },
 *   ],
 * });
 * await writeFile('bench.svg', svg);
 * ```
 */
export async function lineChartSvg(opts: LineChartOptions): Promise<string> {
  return vegaLiteToSvg(lineChartSpec(opts));
}

/**
 * Several line charts stacked vertically in one SVG (each with its own axes and legend),
 * e.g. norms above and learning rates below.
 *
 * @example
 * ```ts
 * const svg = await chartsSvg({ title: 'Refinement', charts: [normsChart, lrChart] });
 * ```
 */
export async function chartsSvg(opts: ChartsOptions): Promise<string> {
  const o = optionsObject<ChartsOptions>('options', opts) as Record<string, unknown>;
  if (!Array.isArray(o.charts) || o.charts.length === 0) throw typeError('options.charts', 'a non-empty array of chart options', o.charts);
  if (o.title !== undefined && typeof o.title !== 'string') throw typeError('options.title', 'a string', o.title);
  const charts = (o.charts as LineChartOptions[]).map((c) => lineChartSpec(c));
  return vegaLiteToSvg({
    ...(o.title !== undefined && { title: o.title }),
    vconcat: charts,
    resolve: {
      scale: { color: 'independent', strokeDash: 'independent', strokeWidth: 'independent' },
      legend: { color: 'independent', strokeDash: 'independent', strokeWidth: 'independent' },
    },
  });
}
