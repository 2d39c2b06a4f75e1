/**
 * The project's seeded random numbers, for test data, benchmarks, the demo and the
 * experiments: `mulberry32` (a small, fast PRNG with 32-bit state) and `Rng`, which builds
 * normals, integers and permutations on it. Not for cryptography.
 * @module
 */

/**
 * mulberry32: floats in [0, 1) from a 32-bit state; the same seed gives the same sequence on
 * every machine.
 *
 * @example
 * const r = mulberry32(1);
 * r(); // → 0.6270739405881613 (floats in [0, 1), the same sequence for the same seed)
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seeded generator of uniform numbers in [0, 1), normals and permutations (the demo and the
 * experiments: the same seed gives the same data split, initialisation and batch order on every
 * machine). It is mulberry32 started from a mixed seed.
 *
 * @example
 * const r = new Rng(7);
 * r.permutation(4); // → Int32Array, a permutation of 0..3, the same for every run with seed 7
 */
export class Rng {
  readonly #uniform: () => number;
  #spare: number | null = null;

  /** @param seed - any integer; different seeds give independent-looking streams. */
  constructor(seed: number) {
    // mix the seed so that nearby seeds (0, 1, 2...) do not start from nearby states
    let s = (seed ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.#uniform = mulberry32((s ^ (s >>> 16)) >>> 0);
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.#uniform();
  }

  /** A standard normal number (Box–Muller). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
