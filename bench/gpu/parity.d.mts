// Types of parity.mjs (plain JavaScript, so that the GPU host runs it without a compiler).

export declare const NORM_RTOL: number;
export declare const STATE_RTOL: number;

export interface ParityCase {
  name: string;
  optimizer: 'Adam' | 'AdamW' | 'SGD' | 'Adagrad' | 'RMSprop' | 'Adamax' | 'Adadelta';
  tensors: 'odd' | 'mixed' | 'many';
  options: Record<string, unknown>;
  steps: number;
  bitwise: boolean;
  lazy?: boolean;
  async?: boolean;
  transferAt?: number;
  nonFinite?: [number, number][];
}

export interface ParityResult {
  case: string;
  params: number;
  tensors: number;
  steps: number;
  expect: string;
  maxRelNorm: number;
  maxRelTensorNorm: number;
  maxRelParams: number;
  maxRelState: number;
  mismatchedParams: number;
  mismatchedState: number;
  seed: number;
  failures: string[];
  ok: boolean;
}

export declare const CASES: readonly ParityCase[];
export declare function mulberry32(seed: number): () => number;
export declare function fillNormal(rand: () => number, a: Float32Array, std: number): Float32Array;
export declare function tensorLengths(kind: ParityCase['tensors'], rand: () => number): number[];
export declare function compareArrays(a: Float32Array, b: Float32Array): { mismatches: number; maxRel: number };
export declare function runCase(
  lib: { Adam: unknown; AdamW: unknown; SGD: unknown; ScheduleFreeAdamW?: unknown },
  c: ParityCase,
  opts?: { seed?: number; device?: string },
): Promise<ParityResult>;
export declare function runDeviceChecks(
  lib: { Adam: unknown; AdamW: unknown; SGD: unknown; CudaError: unknown; buildInfo: unknown },
  opts?: { device?: string },
): Promise<{ name: string; ok: boolean; detail: string }[]>;
