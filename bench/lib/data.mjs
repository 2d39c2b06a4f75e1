/**
 * The data every contender gets: deterministic parameters and gradients, the tensor layouts
 * ("one" tensor, or "many" tensors of mixed sizes), and the indices sampled for checking.
 */

/** mulberry32 (src/random.ts): a small seedable PRNG; floats in [0, 1). */
import { mulberry32 as prng } from '../../dist/random.js';

export { prng };

/**
 * Tensor lengths of a layout, summing to `size`.
 * - `one`: [size];
 * - `many`: `count` tensors (fewer when size < count) with log-uniform lengths over three
 *   decades (like a network's biases, norms and weight matrices), deterministic for a seed.
 */
export function layoutLengths(layout, size, count = 200, seed = 7) {
  if (layout === 'one') return [size];
  const k = Math.min(count, size);
  const rand = prng(seed + size);
  const w = Array.from({ length: k }, () => Math.exp(rand() * Math.log(1000)));
  const total = w.reduce((a, b) => a + b, 0);
  const lengths = w.map((x) => Math.max(1, Math.floor((x / total) * size)));
  let rest = size - lengths.reduce((a, b) => a + b, 0);
  // put the remainder on the largest tensors (or take the excess from them)
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a]);
  for (let j = 0; rest !== 0; j = (j + 1) % k) {
    const i = order[j];
    if (rest > 0) {
      lengths[i] += 1;
      rest -= 1;
    } else if (lengths[i] > 1) {
      lengths[i] -= 1;
      rest += 1;
    }
  }
  return lengths;
}

/** Offsets of each tensor in the flat array. */
export function offsetsOf(lengths) {
  const off = [];
  let at = 0;
  for (const n of lengths) {
    off.push(at);
    at += n;
  }
  return off;
}

/**
 * Flat initial parameters p0 ~ U(-1, 1) and gradient g with |g| in [0.05, 1) and a random sign
 * (never zero, so every element moves), as Float32Arrays of `size`. The gradient is the same
 * at every step (see README: it keeps memory traffic identical for every contender).
 */
export function makeData(size, seed = 1) {
  const rand = prng(seed * 1000003 + size);
  const p0 = new Float32Array(size);
  const g = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    p0[i] = rand() * 2 - 1;
    const mag = 0.05 + 0.95 * rand();
    g[i] = rand() < 0.5 ? -mag : mag;
  }
  return { p0, g };
}

/**
 * Indices checked against the float64 reference: the first and last element of every tensor,
 * plus `extra` random ones (all of them when size is small), sorted and unique.
 */
export function sampleIndices(lengths, extra = 512, seed = 3) {
  const size = lengths.reduce((a, b) => a + b, 0);
  if (size <= extra + 2 * lengths.length) return Int32Array.from({ length: size }, (_, i) => i);
  const set = new Set();
  let at = 0;
  for (const n of lengths) {
    set.add(at);
    set.add(at + n - 1);
    at += n;
  }
  const rand = prng(seed + size);
  while (set.size < 2 * lengths.length + extra) set.add(Math.floor(rand() * size));
  return Int32Array.from([...set].sort((a, b) => a - b));
}
