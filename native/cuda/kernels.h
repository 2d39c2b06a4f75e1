// The CUDA kernels' plain C++ interface: argument blocks and launchers. Implemented in
// kernels.cu (nvcc); called by optimizer.cc (host compiler). No CUDA-only syntax here.
//
// A step (docs/gpu.md "A step"), all on the optimizer's stream, no host synchronisation:
//   one pass  (no clipping, no skipping):  update+reduce  →  finalize
//   two passes (clipping or skipping):     reduce  →  finalize (decide)  →  update
// `update` and `reduce` walk the chunk table (fo::Layout chunks, ≤ kChunkElems elements each)
// with a grid-stride loop over chunks: one launch covers every tensor. Each chunk's partial
// sums (double) go to `partials[chunk]`; `finalize` folds them per tensor and globally in a
// fixed order (deterministic, no floating-point atomics), decides skip / clip / the
// bias-correction constants on the device, bumps the applied-step counter, and writes the
// trace record and the step outcome.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../core/layout.h"
#include "../core/rules.h"
#include "../core/step_args.h"

namespace fo::cuda {

// The update rule a kernel is compiled for.
enum class Rule : int32_t { kAdam = 0, kSgdMomentum = 1, kSgd = 2 };

// Device-resident state of one optimizer, read and written only by kernels.
struct DeviceState {
  int64_t applied;     // applied (not skipped) steps so far: drives bias correction
  uint32_t ticket;     // finalize's "last block" counter, back to 0 after every step
  int32_t skip;        // two-pass: this step is skipped
  float clip;          // two-pass: clip coefficient of this step
  int32_t pad;
  AdamConsts adam;     // two-pass: constants of this step
  SgdConsts sgd;
};

// Where the per-step constants come from. The host derives them (step_args.h, in double) for
// the step count it expects, `host_t`; a kernel uses them when the device's count agrees and
// otherwise re-derives the step-dependent fields on the device from the same formulas.
//
// note: the host cannot know the count without a sync once a step may have been skipped
// (skipNonFinite decides on the device). With the host's guess the constants are bitwise
// those of the CPU backend; after an unseen skip they are re-derived with the device's pow(),
// whose last-bit difference from the host's pow almost never survives rounding to float.
// The guess is corrected whenever the host reads an outcome.
struct ConstSource {
  AdamConsts adam;
  SgdConsts sgd;
  int64_t host_t;
  double lr;
  double beta1;
  double beta2;
  int32_t kind;        // fo::Kind
  int32_t pad;
};

// Arguments of the update / reduce kernels.
struct PassArgs {
  float* p;
  const float* g;
  float* s1;           // Adam exp_avg, SGD momentum buffer
  float* s2;           // Adam exp_avg_sq
  const Chunk* chunks;
  int64_t nchunks;
  Partial* partials;   // one per chunk (written when reducing)
  DeviceState* state;
  ConstSource consts;
  float scale;         // gradScale
  int32_t two_pass;    // update after finalize: read skip / clip / constants from `state`
};

// One block of the finalize kernel folds either one large tensor (count < 0, whole block) or
// up to kFoldWarps small ones (a warp each).
struct FoldItem {
  int32_t first;
  int32_t count;
};
// note: 512 threads, so that the largest tensor (2^30 floats = 65536 chunks) is folded with
// 128 loads per thread, issued 8 at a time: ~10 µs against a ~6 ms step.
constexpr int kFoldThreads = 512;
constexpr int kFoldWarps = kFoldThreads / 32;
// A tensor with more chunks than this gets a whole finalize block.
constexpr int kSmallTensorChunks = 256;

struct FinalizeArgs {
  const Partial* partials;
  const int32_t* first_chunk;   // tensors + 1
  const FoldItem* items;
  int32_t nitems;
  int32_t ntensors;
  double* tensor_sq;
  double* tensor_abs;
  DeviceState* state;
  double* trace;                // ring of kTraceFields doubles per record, or null
  int64_t trace_capacity;
  int64_t iteration;
  double* outcome;              // kOutCount doubles (mapped host memory)
  ConstSource consts;
  double max_grad_norm;
  int32_t clipping;
  int32_t skip_non_finite;
  int32_t two_pass;
  int32_t pad;
};

// Launch configuration of the pass kernels on one device.
// Blocks per launch: the SM count times the blocks one SM holds at once (occupancy), so that
// one wave is resident and each block strides over chunks. Clamped to the chunk count.
struct PassConfig {
  int grid_update[3][2];   // [Rule][reduce]
  int grid_reduce;
};
PassConfig pass_config(int device);

// Launchers: enqueue on `stream`, then check the launch (throw DeviceError on failure).
void launch_update(Rule rule, bool reduce, const PassArgs& a, int grid, cudaStream_t stream);
void launch_reduce(const PassArgs& a, int grid, cudaStream_t stream);
void launch_finalize(const FinalizeArgs& f, cudaStream_t stream);
void launch_fill(float* p, int64_t n, float value, cudaStream_t stream);
void launch_set_applied(DeviceState* s, int64_t applied, cudaStream_t stream);

}  // namespace fo::cuda
