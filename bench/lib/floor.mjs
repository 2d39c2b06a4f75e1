/**
 * The memory floor: the addon's STREAM-like in-place loop (`streamFloor`: a += s*b, c += s*b,
 * d += s*b, i.e. 4 arrays read and 3 written = 28 B per element, as an Adam step), run on the
 * same thread pool with the same chunking as a step. For SGD with momentum (20 B per
 * parameter) the floor is scaled by 20/28: the loop moves 28 B, the step needs 20.
 */
import { loadNative } from '../../dist/native.js';
import { FLOOR_BYTES_PER_PARAM } from './scenarios.mjs';

/** Four arrays of n floats, shared by the floor entries of a case (they hold no state). */
export function floorArrays(n) {
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n).fill(1);
  const c = new Float32Array(n).fill(1);
  const d = new Float32Array(n).fill(1);
  return { a, b, c, d };
}

/** A measurable instance of the floor loop on `threads` threads. */
export function floorInstance(arrays, threads) {
  const native = loadNative();
  const { a, b, c, d } = arrays;
  const inst = {
    steps: 0,
    step: () => {
      native.bench.streamFloor(a, b, c, d, 1e-9, threads);
      inst.steps++;
    },
  };
  return inst;
}

/** ns/param of the floor scaled to a scenario's bytes per parameter. */
export function floorScale(bytesPerParam) {
  return bytesPerParam / FLOOR_BYTES_PER_PARAM;
}

/** GB/s moved by the floor loop at `nsPerParam` (28 B per element). */
export function floorBandwidth(nsPerParam) {
  return FLOOR_BYTES_PER_PARAM / nsPerParam;
}
