// The rank side of the MPI test scripts (cases.mjs, nccl-cases.mjs, nccl-stub-cases.mjs,
// tfjs-cases.mjs): the communicator, a check() that counts and throws with the rank, the ranks'
// deterministic gradients, and a comparison of a digest across ranks.
import { createHash } from 'node:crypto';

import { init } from '../../dist/distributed/index.js';
import { mulberry32 } from '../../dist/random.js';

export const comm = init();
export const { rank, size } = comm;
export const checks = [];

/** Records a check; a failed one throws (non-zero exit, and mpirun ends the job). */
export function check(cond, what) {
  if (!cond) throw new Error(`rank ${rank}/${size}: ${what}`);
  checks.push(what);
}

/** Rank r's gradient for tensor t at step s: multiples of 1/1024 in [-0.5, 0.5] (sums of a few are exact in fp32, in any order), or arbitrary floats. */
export function grad(r, t, s, n, exact = true) {
  const rnd = mulberry32(1000003 * (r + 1) + 7919 * (t + 1) + 104729 * (s + 1));
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = exact ? Math.round((rnd() - 0.5) * 1024) / 1024 : (rnd() - 0.5) * 3.3;
  return g;
}

/** SHA-256 of every parameter of an optimizer. */
export function digest(opt) {
  const h = createHash('sha256');
  for (let i = 0; i < opt.numTensors; i++) h.update(Buffer.from(opt.readParams(i).buffer));
  return h.digest('hex');
}

/** The same value on every rank: compares a digest's first 48 bits with an all-reduce of min and max. */
export function sameOnEveryRank(hex, what) {
  const x = parseInt(hex.slice(0, 12), 16);
  const buf = comm.allreduce(Float64Array.from([x, -x]), 'min');
  check(buf[0] === -buf[1], `${what}: identical on every rank`);
}
