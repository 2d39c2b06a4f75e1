/**
 * Errors raised by the native backends.
 *
 * `CudaError` is defined here, once, and handed to the addon when it loads, so that the native
 * CUDA backend throws instances of this very class, with the CUDA error name as `code`
 * (e.g. `'cudaErrorMemoryAllocation'`).
 */
export class CudaError extends Error {
  /** The CUDA error name, e.g. `cudaErrorMemoryAllocation`. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'CudaError';
    this.code = code;
  }
}

/** Thrown when the native addon is missing or cannot be loaded; the message says what to run. */
export class NativeAddonError extends Error {
  readonly code = 'ERR_FUSED_OPTIM_NATIVE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeAddonError';
  }
}
