/**
 * src/plot: downsampling and headless Vega-Lite → SVG line charts (used by the CLI and by
 * benchmark plots).
 */
import { describe, expect, it } from 'vitest';
import { chartsSvg, downsampleSeries, lineChartSpec, lineChartSvg } from '../src/plot/index.js';

function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0 && svg.trimStart().startsWith('<svg') && svg.trimEnd().endsWith('</svg>');
}

describe('downsampleSeries', () => {
  it('documented example: min/max per bucket, ends kept', () => {
    const d = downsampleSeries([0, 1, 2, 3, 4, 5], [0, 9, 1, 1, -5, 2], 4);
    expect(Array.from(d.x)).toEqual([0, 1, 4, 5]);
    expect(Array.from(d.y)).toEqual([0, 9, -5, 2]);
  });

  it('keeps at most maxPoints, in order, with every spike', () => {
    const n = 1_000_003;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 1000));
    y[123_457] = 50;
    y[876_543] = -50;
    for (const max of [4, 100, 2000]) {
      const d = downsampleSeries(x, y, max);
      expect(d.x.length).toBeLessThanOrEqual(max);
      expect(d.x[0]).toBe(0);
      expect(d.x[d.x.length - 1]).toBe(n - 1);
      for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
      expect(Math.max(...d.y)).toBe(50);
      expect(Math.min(...d.y)).toBe(-50);
    }
    const s = downsampleSeries(x, y, 2000, 'stride');
    expect(s.x.length).toBeLessThanOrEqual(2000);
    expect(s.x[s.x.length - 1]).toBe(n - 1);
  });

  it('copies short series and validates', () => {
    expect(Array.from(downsampleSeries([1, 2], [3, 4]).y)).toEqual([3, 4]);
    expect(() => downsampleSeries([1, 2], [3])).toThrow(RangeError);
    expect(() => downsampleSeries([1], [1], 2)).toThrow(/Expected an integer >= 4 for maxPoints/);
    expect(() => downsampleSeries([1], [1], 10, 'lttb' as never)).toThrow(RangeError);
  });
});

describe('lineChartSvg / chartsSvg', () => {
  it('a log-log benchmark chart with markers', async () => {
    const sizes = [1e3, 1e4, 1e5, 1e6, 1e7];
    const svg = await lineChartSvg({
      title: 'Adam step',
      xLabel: 'parameters',
      yLabel: 'ns / parameter',
      logX: true,
      logY: true,
      series: [
        { name: 'fused', x: sizes, y: [5, 1, 0.5, 0.4, 0.41], points: true },
        { name: 'tfjs', x: sizes, y: [50, 9, 5, 4, 4.1], points: true, dashed: true },
      ],
    });
    expect(wellFormed(svg)).toBe(true);
    for (const s of ['Adam step', 'parameters', 'ns / parameter', 'fused', 'tfjs']) expect(svg).toContain(s);
  });

  it('drops non-finite points and points <= 0 on a log axis', () => {
    const spec = lineChartSpec({ logY: true, series: [{ name: 'a', x: [0, 1, 2, 3], y: [1, 0, NaN, 2] }] }) as { data: { values: { x: number }[] } };
    expect(spec.data.values.map((v) => v.x)).toEqual([0, 3]);
  });

  it('a 1e6-point series gives a small SVG', async () => {
    const n = 1_000_000;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => Math.exp(-i / 1e5) + 0.01 * Math.sin(i));
    const svg = await lineChartSvg({ series: [{ name: 'y', x, y }] });
    expect(wellFormed(svg)).toBe(true);
    expect(svg.length).toBeLessThan(200_000);
  });

  it('stacked charts', async () => {
    const svg = await chartsSvg({
      title: 'Two panels',
      charts: [
        { title: 'top', series: [{ name: 'a', x: [0, 1], y: [1, 2] }] },
        { title: 'bottom', series: [{ name: 'b', x: [0, 1], y: [2, 1], dashed: true }] },
      ],
    });
    expect(wellFormed(svg)).toBe(true);
    for (const s of ['Two panels', 'top', 'bottom']) expect(svg).toContain(s);
  });

  it('one series: a numeric stroke width and a legend glyph clear of its label', async () => {
    const x = [0, 1, 2, 3];
    const svg = await lineChartSvg({ series: [{ name: 'l1 norm', x, y: [4, 3, 5, 2] }] });
    expect(svg).not.toMatch(/NaN/);
    expect(svg).toMatch(/stroke-width="2"/);
    // the legend's symbol and label: the label starts right of the glyph's right end
    const glyph = /<path transform="translate\(([\d.]+),[\d.]+\)" d="M-([\d.]+),0L[\d.]+,0"[^>]*stroke-width="2"/.exec(svg);
    const label = /<text[^>]*transform="translate\(([\d.]+),[\d.]+\)"[^>]*>l1 norm<\/text>/.exec(svg);
    expect(glyph, 'legend glyph drawn as a stroke').not.toBeNull();
    expect(label, 'legend label').not.toBeNull();
    expect(Number(label![1])).toBeGreaterThan(Number(glyph![1]) + Number(glyph![2]));
  });

  it('each series gets its own width, and dashed reference lines are drawn last (on top)', async () => {
    const x = [0, 1, 2];
    const spec = lineChartSpec({
      series: [
        { name: 'linear decay', x, y: [3, 2, 1], dashed: true, width: 1.5 },
        { name: 'refined', x, y: [3, 2.5, 1], width: 3 },
        { name: 'cosine', x, y: [3, 2, 0.5] },
      ],
    }) as { layer: { transform?: { filter: { oneOf: string[] } }[] }[] };
    expect(spec.layer.map((l) => l.transform?.[0].filter.oneOf)).toEqual([['refined', 'cosine'], ['linear decay']]);
    const svg = await lineChartSvg({
      series: [
        { name: 'a', x, y: [1, 2, 3], width: 2 },
        { name: 'b', x, y: [2, 3, 4], width: 2 },
        { name: 'c', x, y: [3, 4, 5], width: 2 },
        { name: 'd', x, y: [4, 5, 6], width: 5 },
      ],
    });
    // Vega-Lite's default point scale spread these over 2..5; the ordinal scale keeps them
    const widths = [...svg.matchAll(/<path[^>]*aria-roledescription="line mark"[^>]*stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths.sort()).toEqual([2, 2, 2, 5]);
  });

  it('validates', async () => {
    await expect(lineChartSvg({} as never)).rejects.toThrow(/Expected an array of series for options.series/);
    await expect(lineChartSvg({ series: [{ name: 'a', x: [1, 2], y: [1] }] })).rejects.toThrow(RangeError);
    await expect(lineChartSvg({ series: [{ name: 'a', x: [1], y: [1] }, { name: 'a', x: [1], y: [1] }] })).rejects.toThrow(/not used by another series/);
    await expect(lineChartSvg({ series: [], logX: 'yes' as never })).rejects.toThrow(/options.logX/);
    await expect(chartsSvg({ charts: [] })).rejects.toThrow(/options.charts/);
  });
});
