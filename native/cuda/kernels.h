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
#include "../core/rules/registry.h"
#include "../core/step_args.h"

namespace fo::cuda {

// Device-resident state of one optimizer, read and written only by kernels.
struct DeviceState {
  int64_t applied;     // applied (not skipped) steps so far: drives bias correction
  uint32_t ticket;     // finalize's "last block" counter, back to 0 after every step
  int32_t skip;        // two-pass: this step is skipped
  float clip;          // two-pass: clip coefficient of this step
  int32_t pad;
};

// Where a chunk's per-step constants come from. The host derives every group's constants (the
// rule's make(), in double) for the step count it expects, `host_t`, and uploads them with the
// groups' hyperparameters; a kernel uses them when the device's count agrees and otherwise
// re-derives them on the device from the same hyperparameters with the same make().
//
// note: the host cannot know the count without a sync once a step may have been skipped
// (skipNonFinite decides on the device). With the host's guess the constants are bitwise
// those of the CPU backend; after an unseen skip they are re-derived with the device's pow(),
// whose last-bit difference from the host's pow almost never survives rounding to float.
// The guess is corrected whenever the host reads an outcome.
struct GroupTables {
  const int32_t* tensor_group;   // group of each tensor
  const double* hp;              // groups * kHpGroupStride doubles (this step's upload)
  const uint32_t* host_consts;   // groups * consts words, for applied step host_t
  uint32_t* decided_consts;      // groups * consts words, written by finalize (two passes)
  int64_t host_t;
  int32_t groups;
  int32_t consts_words;          // sizeof(Rule::Consts) / 4
};

// Arguments of the update / reduce kernels.
struct PassArgs {
  float* p;
  const float* g;
  float* s[rules::kMaxSlots];   // the rule's state slots
  const Chunk* chunks;
  int64_t nchunks;
  Partial* partials;   // one per chunk (written when reducing)
  DeviceState* state;
  GroupTables groups;
  float scale;         // gradScale
  int32_t two_pass;    // update after finalize: read skip / clip / constants from the device
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
  GroupTables groups;
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
  int grid_update[kRuleCount][2];   // [RuleId][reduce]
  int grid_reduce;
};
PassConfig pass_config(int device);

// Launchers: enqueue on `stream`, then check the launch (throw DeviceError on failure).
void launch_update(RuleId rule, bool reduce, const PassArgs& a, int grid, cudaStream_t stream);
void launch_reduce(const PassArgs& a, int grid, cudaStream_t stream);
void launch_finalize(RuleId rule, const FinalizeArgs& f, cudaStream_t stream);
// Trust-ratio rules (LAMB), after reduce and finalize: moments and {Σp², Σu²} per chunk, the
// ratio per tensor, then the parameter update.
void launch_trust(RuleId rule, const PassArgs& a, Partial* trust, const int32_t* first_chunk,
                  int32_t ntensors, float* ratio, int grid, cudaStream_t stream);
void launch_fill(float* p, int64_t n, float value, cudaStream_t stream);
// For every chunk: d = d + w[group of its tensor] * (s - d).
void launch_lerp(float* d, const float* s, const Chunk* chunks, int64_t nchunks,
                 const int32_t* tensor_group, const float* w, cudaStream_t stream);
void launch_set_applied(DeviceState* s, int64_t applied, cudaStream_t stream);

}  // namespace fo::cuda
