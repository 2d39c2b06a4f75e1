/**
 * medianFilter: scipy/numpy reference values, an independent reference on random data,
 * the block boundaries of the fast algorithm, and argument errors.
 */
import { describe, expect, it } from 'vitest';
import { MEDIAN_BOUNDARIES, medianFilter, naiveMedianFilter, type MedianBoundary } from '../src/refine/index.js';
import { sortedWindowMedianFilter } from '../src/refine/median.js';
import { mulberry32 as rng } from '../src/random.js';

// Generated with scipy 1.17.1 / numpy 2.4.6:
//   nd.median_filter(arr, size=w, mode=m)                                   for 'nearest', 'reflect', 'mirror'
//   nd.median_filter(np.pad(arr, (0, 2*w), mode='reflect'), size=w, mode='nearest')[:len(arr)]   for 'authors'
const INPUTS: Record<string, number[]> = {
  x13: [18, 12, 13, 17, 11, 15, 16, 4, 1, 6, 5, 17, 18],
  y7: [1.34, -0.492, -0.62, 0.49, 0.357, 0.105, -0.93],
  one: [4.5],
};
const SCIPY: { input: string; width: number; boundary: MedianBoundary; expected: number[] }[] = [
  {"input": "x13", "width": 1, "boundary": "nearest", "expected": [18.0, 12.0, 13.0, 17.0, 11.0, 15.0, 16.0, 4.0, 1.0, 6.0, 5.0, 17.0, 18.0]},
  {"input": "x13", "width": 1, "boundary": "reflect", "expected": [18.0, 12.0, 13.0, 17.0, 11.0, 15.0, 16.0, 4.0, 1.0, 6.0, 5.0, 17.0, 18.0]},
  {"input": "x13", "width": 1, "boundary": "mirror", "expected": [18.0, 12.0, 13.0, 17.0, 11.0, 15.0, 16.0, 4.0, 1.0, 6.0, 5.0, 17.0, 18.0]},
  {"input": "x13", "width": 1, "boundary": "authors", "expected": [18.0, 12.0, 13.0, 17.0, 11.0, 15.0, 16.0, 4.0, 1.0, 6.0, 5.0, 17.0, 18.0]},
  {"input": "x13", "width": 2, "boundary": "nearest", "expected": [18.0, 18.0, 13.0, 17.0, 17.0, 15.0, 16.0, 16.0, 4.0, 6.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 2, "boundary": "reflect", "expected": [18.0, 18.0, 13.0, 17.0, 17.0, 15.0, 16.0, 16.0, 4.0, 6.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 2, "boundary": "mirror", "expected": [18.0, 18.0, 13.0, 17.0, 17.0, 15.0, 16.0, 16.0, 4.0, 6.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 2, "boundary": "authors", "expected": [18.0, 18.0, 13.0, 17.0, 17.0, 15.0, 16.0, 16.0, 4.0, 6.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 3, "boundary": "nearest", "expected": [18.0, 13.0, 13.0, 13.0, 15.0, 15.0, 15.0, 4.0, 4.0, 5.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 3, "boundary": "reflect", "expected": [18.0, 13.0, 13.0, 13.0, 15.0, 15.0, 15.0, 4.0, 4.0, 5.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 3, "boundary": "mirror", "expected": [12.0, 13.0, 13.0, 13.0, 15.0, 15.0, 15.0, 4.0, 4.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 3, "boundary": "authors", "expected": [18.0, 13.0, 13.0, 13.0, 15.0, 15.0, 15.0, 4.0, 4.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 4, "boundary": "nearest", "expected": [18.0, 18.0, 17.0, 13.0, 15.0, 16.0, 15.0, 15.0, 6.0, 5.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 4, "boundary": "reflect", "expected": [18.0, 18.0, 17.0, 13.0, 15.0, 16.0, 15.0, 15.0, 6.0, 5.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 4, "boundary": "mirror", "expected": [13.0, 13.0, 17.0, 13.0, 15.0, 16.0, 15.0, 15.0, 6.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 4, "boundary": "authors", "expected": [18.0, 18.0, 17.0, 13.0, 15.0, 16.0, 15.0, 15.0, 6.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 5, "boundary": "nearest", "expected": [18.0, 17.0, 13.0, 13.0, 15.0, 15.0, 11.0, 6.0, 5.0, 5.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 5, "boundary": "reflect", "expected": [13.0, 17.0, 13.0, 13.0, 15.0, 15.0, 11.0, 6.0, 5.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 5, "boundary": "mirror", "expected": [13.0, 13.0, 13.0, 13.0, 15.0, 15.0, 11.0, 6.0, 5.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 5, "boundary": "authors", "expected": [18.0, 17.0, 13.0, 13.0, 15.0, 15.0, 11.0, 6.0, 5.0, 5.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 6, "boundary": "nearest", "expected": [18.0, 18.0, 17.0, 15.0, 15.0, 15.0, 15.0, 11.0, 6.0, 6.0, 6.0, 17.0, 18.0]},
  {"input": "x13", "width": 6, "boundary": "reflect", "expected": [13.0, 17.0, 17.0, 15.0, 15.0, 15.0, 15.0, 11.0, 6.0, 6.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 6, "boundary": "mirror", "expected": [13.0, 13.0, 13.0, 15.0, 15.0, 15.0, 15.0, 11.0, 6.0, 6.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 6, "boundary": "authors", "expected": [18.0, 18.0, 17.0, 15.0, 15.0, 15.0, 15.0, 11.0, 6.0, 6.0, 6.0, 17.0, 17.0]},
  {"input": "x13", "width": 9, "boundary": "nearest", "expected": [18.0, 17.0, 16.0, 15.0, 13.0, 12.0, 11.0, 11.0, 11.0, 15.0, 16.0, 17.0, 18.0]},
  {"input": "x13", "width": 9, "boundary": "reflect", "expected": [13.0, 13.0, 15.0, 15.0, 13.0, 12.0, 11.0, 11.0, 11.0, 15.0, 16.0, 6.0, 6.0]},
  {"input": "x13", "width": 9, "boundary": "mirror", "expected": [13.0, 13.0, 13.0, 13.0, 13.0, 12.0, 11.0, 11.0, 11.0, 15.0, 6.0, 6.0, 6.0]},
  {"input": "x13", "width": 9, "boundary": "authors", "expected": [18.0, 17.0, 16.0, 15.0, 13.0, 12.0, 11.0, 11.0, 11.0, 15.0, 6.0, 6.0, 6.0]},
  {"input": "x13", "width": 12, "boundary": "nearest", "expected": [18.0, 18.0, 17.0, 16.0, 15.0, 13.0, 13.0, 13.0, 15.0, 16.0, 16.0, 17.0, 18.0]},
  {"input": "x13", "width": 12, "boundary": "reflect", "expected": [15.0, 15.0, 15.0, 13.0, 13.0, 13.0, 13.0, 13.0, 15.0, 16.0, 15.0, 15.0, 6.0]},
  {"input": "x13", "width": 12, "boundary": "mirror", "expected": [15.0, 15.0, 13.0, 13.0, 13.0, 12.0, 13.0, 13.0, 15.0, 15.0, 11.0, 6.0, 6.0]},
  {"input": "x13", "width": 12, "boundary": "authors", "expected": [18.0, 18.0, 17.0, 16.0, 15.0, 13.0, 13.0, 13.0, 15.0, 15.0, 11.0, 6.0, 6.0]},
  {"input": "x13", "width": 25, "boundary": "nearest", "expected": [18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0]},
  {"input": "x13", "width": 25, "boundary": "reflect", "expected": [13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0]},
  {"input": "x13", "width": 25, "boundary": "mirror", "expected": [13.0, 13.0, 12.0, 12.0, 12.0, 12.0, 13.0, 13.0, 12.0, 13.0, 13.0, 12.0, 13.0]},
  {"input": "x13", "width": 25, "boundary": "authors", "expected": [18.0, 18.0, 17.0, 17.0, 17.0, 16.0, 16.0, 15.0, 15.0, 15.0, 13.0, 13.0, 13.0]},
  {"input": "y7", "width": 1, "boundary": "nearest", "expected": [1.34, -0.492, -0.62, 0.49, 0.357, 0.105, -0.93]},
  {"input": "y7", "width": 1, "boundary": "reflect", "expected": [1.34, -0.492, -0.62, 0.49, 0.357, 0.105, -0.93]},
  {"input": "y7", "width": 1, "boundary": "mirror", "expected": [1.34, -0.492, -0.62, 0.49, 0.357, 0.105, -0.93]},
  {"input": "y7", "width": 1, "boundary": "authors", "expected": [1.34, -0.492, -0.62, 0.49, 0.357, 0.105, -0.93]},
  {"input": "y7", "width": 2, "boundary": "nearest", "expected": [1.34, 1.34, -0.492, 0.49, 0.49, 0.357, 0.105]},
  {"input": "y7", "width": 2, "boundary": "reflect", "expected": [1.34, 1.34, -0.492, 0.49, 0.49, 0.357, 0.105]},
  {"input": "y7", "width": 2, "boundary": "mirror", "expected": [1.34, 1.34, -0.492, 0.49, 0.49, 0.357, 0.105]},
  {"input": "y7", "width": 2, "boundary": "authors", "expected": [1.34, 1.34, -0.492, 0.49, 0.49, 0.357, 0.105]},
  {"input": "y7", "width": 3, "boundary": "nearest", "expected": [1.34, -0.492, -0.492, 0.357, 0.357, 0.105, -0.93]},
  {"input": "y7", "width": 3, "boundary": "reflect", "expected": [1.34, -0.492, -0.492, 0.357, 0.357, 0.105, -0.93]},
  {"input": "y7", "width": 3, "boundary": "mirror", "expected": [-0.492, -0.492, -0.492, 0.357, 0.357, 0.105, 0.105]},
  {"input": "y7", "width": 3, "boundary": "authors", "expected": [1.34, -0.492, -0.492, 0.357, 0.357, 0.105, 0.105]},
  {"input": "y7", "width": 4, "boundary": "nearest", "expected": [1.34, 1.34, 0.49, 0.357, 0.357, 0.357, 0.105]},
  {"input": "y7", "width": 4, "boundary": "reflect", "expected": [1.34, 1.34, 0.49, 0.357, 0.357, 0.357, 0.105]},
  {"input": "y7", "width": 4, "boundary": "mirror", "expected": [-0.492, -0.492, 0.49, 0.357, 0.357, 0.357, 0.105]},
  {"input": "y7", "width": 4, "boundary": "authors", "expected": [1.34, 1.34, 0.49, 0.357, 0.357, 0.357, 0.105]},
  {"input": "y7", "width": 5, "boundary": "nearest", "expected": [1.34, 0.49, 0.357, 0.105, 0.105, 0.105, -0.93]},
  {"input": "y7", "width": 5, "boundary": "reflect", "expected": [-0.492, 0.49, 0.357, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 5, "boundary": "mirror", "expected": [-0.492, -0.492, 0.357, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 5, "boundary": "authors", "expected": [1.34, 0.49, 0.357, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 6, "boundary": "nearest", "expected": [1.34, 1.34, 0.49, 0.357, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 6, "boundary": "reflect", "expected": [-0.492, 0.49, 0.49, 0.357, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 6, "boundary": "mirror", "expected": [-0.492, -0.492, 0.357, 0.357, 0.105, 0.105, 0.357]},
  {"input": "y7", "width": 6, "boundary": "authors", "expected": [1.34, 1.34, 0.49, 0.357, 0.105, 0.105, 0.357]},
  {"input": "y7", "width": 9, "boundary": "nearest", "expected": [1.34, 0.49, 0.357, 0.105, -0.492, -0.62, -0.93]},
  {"input": "y7", "width": 9, "boundary": "reflect", "expected": [0.357, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 9, "boundary": "mirror", "expected": [0.357, 0.105, -0.492, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 9, "boundary": "authors", "expected": [1.34, 0.49, 0.357, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 12, "boundary": "nearest", "expected": [1.34, 1.34, 0.49, 0.357, 0.105, -0.492, -0.62]},
  {"input": "y7", "width": 12, "boundary": "reflect", "expected": [0.357, 0.357, 0.105, 0.105, 0.105, 0.357, 0.105]},
  {"input": "y7", "width": 12, "boundary": "mirror", "expected": [0.105, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 12, "boundary": "authors", "expected": [1.34, 1.34, 0.49, 0.357, 0.357, 0.357, 0.105]},
  {"input": "y7", "width": 25, "boundary": "nearest", "expected": [1.34, 0.49, 0.357, 0.105, -0.492, -0.62, -0.93]},
  {"input": "y7", "width": 25, "boundary": "reflect", "expected": [0.105, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 25, "boundary": "mirror", "expected": [0.105, 0.105, 0.105, 0.105, 0.105, 0.105, 0.105]},
  {"input": "y7", "width": 25, "boundary": "authors", "expected": [1.34, 1.34, 0.49, 0.49, 0.49, 0.357, 0.357]},
  {"input": "one", "width": 1, "boundary": "nearest", "expected": [4.5]},
  {"input": "one", "width": 1, "boundary": "reflect", "expected": [4.5]},
  {"input": "one", "width": 1, "boundary": "mirror", "expected": [4.5]},
  {"input": "one", "width": 1, "boundary": "authors", "expected": [4.5]},
  {"input": "one", "width": 3, "boundary": "nearest", "expected": [4.5]},
  {"input": "one", "width": 3, "boundary": "reflect", "expected": [4.5]},
  // scipy 1.17.1 returns uninitialised memory here (mirror of a single value); we repeat it, like np.pad
  {"input": "one", "width": 3, "boundary": "mirror", "expected": [4.5]},
  {"input": "one", "width": 3, "boundary": "authors", "expected": [4.5]},
  {"input": "one", "width": 4, "boundary": "nearest", "expected": [4.5]},
  {"input": "one", "width": 4, "boundary": "reflect", "expected": [4.5]},
  // scipy 1.17.1 returns uninitialised memory here (mirror of a single value); we repeat it, like np.pad
  {"input": "one", "width": 4, "boundary": "mirror", "expected": [4.5]},
  {"input": "one", "width": 4, "boundary": "authors", "expected": [4.5]}
];

/**
 * Independent reference, written from the numpy/scipy definitions (no code shared with
 * src/refine/median.ts): build the padded array explicitly, then sort every window.
 */
function reference(x: number[], w: number, boundary: MedianBoundary): number[] {
  const n = x.length;
  if (n === 0) return [];
  const h = Math.floor(w / 2);
  // scipy.ndimage modes, for any distance from the edge
  const at = (arr: number[], i: number, mode: 'nearest' | 'reflect' | 'mirror'): number => {
    const m = arr.length;
    if (i >= 0 && i < m) return arr[i];
    if (mode === 'nearest') return i < 0 ? arr[0] : arr[m - 1];
    if (mode === 'reflect') {
      // d c b a | a b c d | d c b a, repeated
      let j = i;
      while (j < 0 || j >= m) j = j < 0 ? -j - 1 : 2 * m - j - 1;
      return arr[j];
    }
    if (m === 1) return arr[0];
    let j = i; // d c b | a b c d | c b a, repeated
    while (j < 0 || j >= m) j = j < 0 ? -j : 2 * (m - 1) - j;
    return arr[j];
  };
  let src = x;
  let mode: 'nearest' | 'reflect' | 'mirror' = boundary === 'authors' ? 'nearest' : boundary;
  if (boundary === 'authors') {
    // np.pad(x, (0, 2w), 'reflect'): numpy's reflect = whole-sample (scipy 'mirror')
    src = [...x];
    for (let i = n; i < n + 2 * w; i++) src.push(at(x, i, 'mirror'));
    mode = 'nearest';
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const win: number[] = [];
    for (let j = i - h; j < i - h + w; j++) win.push(at(src, j, mode));
    win.sort((a, b) => a - b);
    out.push(win[h]); // rank floor(w/2): scipy's median for even sizes
  }
  return out;
}


describe('medianFilter against scipy.ndimage / numpy', () => {
  it.each(SCIPY.map((c) => [c.input, c.width, c.boundary, c] as const))('%s, width %i, %s', (_i, _w, _b, c) => {
    expect(Array.from(medianFilter(INPUTS[c.input], c.width, { boundary: c.boundary }))).toEqual(c.expected);
  });

  it('the independent reference agrees with scipy on every fixture', () => {
    for (const c of SCIPY) expect(reference(INPUTS[c.input], c.width, c.boundary)).toEqual(c.expected);
  });
});

describe('medianFilter: documented examples and conventions', () => {
  it('examples from the TSDoc', () => {
    expect(Array.from(medianFilter([1, 9, 2, 8, 3], 3))).toEqual([1, 2, 8, 3, 8]);
    expect(Array.from(medianFilter([1, 9, 2, 8, 3], 3, { boundary: 'nearest' }))).toEqual([1, 2, 8, 3, 3]);
    expect(Array.from(medianFilter([1, 9, 2, 8, 3], 3, { boundary: 'reflect' }))).toEqual([1, 2, 8, 3, 3]);
    expect(Array.from(medianFilter([1, 9, 2, 8, 3], 3, { boundary: 'mirror' }))).toEqual([9, 2, 8, 3, 8]);
  });

  it("'reflect' repeats the edge, 'mirror' does not", () => {
    // a window of 3 at the left edge of [5, 1, 9]: reflect sees 5 | 5 1, mirror sees 1 | 5 1
    expect(medianFilter([5, 1, 9], 3, { boundary: 'reflect' })[0]).toBe(5);
    expect(medianFilter([5, 1, 9], 3, { boundary: 'mirror' })[0]).toBe(1);
  });

  it("'authors' repeats the first value on the left and mirrors the right end", () => {
    // left: [0 0] | 0 10 10 ... ; right end of [.., 10, 0]: mirror gives 0 | 10, nearest would give 0 | 0
    const x = [0, 10, 10, 10, 10, 0];
    expect(Array.from(medianFilter(x, 3, { boundary: 'authors' }))).toEqual([0, 10, 10, 10, 10, 10]);
    expect(Array.from(medianFilter(x, 3, { boundary: 'nearest' }))).toEqual([0, 10, 10, 10, 10, 0]);
  });

  it('accepts typed arrays, returns a new Float64Array, leaves the input alone', () => {
    const x = new Float32Array([3, 1, 2]);
    const y = medianFilter(x, 3);
    expect(y).toBeInstanceOf(Float64Array);
    expect(Array.from(x)).toEqual([3, 1, 2]);
    expect(medianFilter([], 5).length).toBe(0);
    expect(Array.from(medianFilter([7], 1))).toEqual([7]);
  });

  it('handles ±Infinity and ties', () => {
    expect(Array.from(medianFilter([Infinity, 1, -Infinity, 2, Infinity], 3, { boundary: 'nearest' }))).toEqual([Infinity, 1, 1, 2, Infinity]);
    expect(Array.from(medianFilter([2, 2, 2, 2], 3))).toEqual([2, 2, 2, 2]);
  });
});

describe('medianFilter: fast algorithm = reference on random data', () => {
  it('random small cases, every boundary, odd and even widths (both code paths: w <= 64 and blocks)', () => {
    const r = rng(1);
    for (let trial = 0; trial < 400; trial++) {
      const n = Math.floor(r() * 90);
      const w = 1 + Math.floor(r() * 140);
      // few distinct values: many ties
      const x = Array.from({ length: n }, () => (r() < 0.5 ? Math.floor(r() * 6) : r() * 100 - 50));
      for (const b of MEDIAN_BOUNDARIES) {
        expect(Array.from(medianFilter(x, w, { boundary: b })), `n=${n} w=${w} ${b}`).toEqual(reference(x, w, b));
      }
    }
  });

  it('long inputs around the block size and the radix-sort threshold (2048)', () => {
    const r = rng(2);
    for (const [n, w] of [
      [5000, 65],
      [5000, 1023],
      [9000, 2047],
      [9000, 2048],
      [9001, 2049],
      [7000, 3001],
      [3000, 4001],
    ]) {
      const x = Float64Array.from({ length: n }, () => (r() < 0.3 ? Math.round(r() * 4) : r() * 2 - 1) * (r() < 0.01 ? 1e300 : 1));
      for (const b of MEDIAN_BOUNDARIES) {
        const fast = medianFilter(x, w, { boundary: b });
        const slow = sortedWindowMedianFilter(x, w, { boundary: b });
        expect(fast, `n=${n} w=${w} ${b}`).toEqual(slow);
      }
    }
  });

  it('negative numbers, -0 and subnormals sort correctly in the radix path', () => {
    const r = rng(3);
    const n = 6000;
    const pool = [-0, 0, 5e-324, -5e-324, -1e-310, 1e-310, -1, 1, -1e308, 1e308, -Infinity, Infinity];
    const x = Float64Array.from({ length: n }, () => (r() < 0.5 ? pool[Math.floor(r() * pool.length)] : (r() - 0.5) * 10 ** Math.floor(r() * 20 - 10)));
    const w = 2501;
    const fast = medianFilter(x, w, { boundary: 'reflect' });
    const slow = sortedWindowMedianFilter(x, w, { boundary: 'reflect' });
    for (let i = 0; i < n; i++) expect(fast[i] === slow[i], `i=${i}: ${fast[i]} vs ${slow[i]}`).toBe(true);
  });

  it('the O(T·w) references agree with the independent reference', () => {
    const r = rng(4);
    const x = Array.from({ length: 300 }, () => Math.round(r() * 20));
    for (const b of MEDIAN_BOUNDARIES) {
      for (const w of [7, 100, 301, 700]) {
        expect(Array.from(naiveMedianFilter(x, w, { boundary: b }))).toEqual(reference(x, w, b));
        expect(Array.from(sortedWindowMedianFilter(x, w, { boundary: b }))).toEqual(reference(x, w, b));
      }
    }
  });
});

describe('medianFilter: errors', () => {
  it('rejects bad values', () => {
    expect(() => medianFilter('abc' as never, 3)).toThrow(TypeError);
    expect(() => medianFilter([1, 'a'] as never, 3)).toThrow(/Expected a number for values\[1\] but received 'a' of type string/);
    expect(() => medianFilter([1, NaN, 2], 3)).toThrow(RangeError);
    expect(() => medianFilter([1, NaN, 2], 3)).toThrow(/Expected a number that is not NaN for values\[1\] but received NaN/);
  });

  it('rejects bad widths and options', () => {
    expect(() => medianFilter([1, 2], 0)).toThrow(/Expected an integer in \[1, 1073741824\] for width but received 0/);
    expect(() => medianFilter([1, 2], 2.5)).toThrow(RangeError);
    expect(() => medianFilter([1, 2], '3' as never)).toThrow(TypeError);
    expect(() => medianFilter([1, 2], 3, { boundary: 'wrap' as never })).toThrow(
      /Expected one of 'authors', 'nearest', 'reflect', 'mirror' for options.boundary but received 'wrap'/,
    );
    expect(() => medianFilter([1, 2], 3, null as never)).toThrow(TypeError);
  });
});
