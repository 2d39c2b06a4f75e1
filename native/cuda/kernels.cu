// CUDA kernels of the fused step. The per-element math is native/core/rules/*.h (FO_HD =
// __host__ __device__ here), the decide step native/core/decide.h, compiled with --fmad=false: without clipping, parameters and
// state come out bitwise equal to the CPU backend's. Only the walk over memory and the
// reductions are CUDA-specific. See kernels.h for the shape of a step.
#include <cuda_runtime.h>

#include <mutex>
#include <type_traits>

#include "../core/backend.h"
#include "../core/decide.h"
#include "cuda_check.h"
#include "kernels.h"

namespace fo::cuda {
namespace {

// note: 256 threads per block and two float4 per thread per iteration (ILP 2) keep 8 KiB of
// loads in flight per block and state array; with several blocks per SM that is ≥ 64 KiB per
// SM, enough to cover HBM latency on an H100/H200. A chunk (16384 floats = 4096 float4) is 8
// such iterations, after which the block reduces its partial sums once.
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kIlp = 2;

// Butterfly sum over the warp. Every lane ends with the same bits (each addition has the same
// two operands on both lanes, and IEEE addition is commutative), and the order is fixed.
__device__ __forceinline__ double warp_sum(double x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// A chunk's partial sums from every thread's (fixed element assignment): a warp butterfly,
// then the warps in order; thread 0 writes `out`. Double-buffered shared memory (`parity`
// flips): one barrier per chunk.
__device__ __forceinline__ void chunk_partial(double x, double y, double (&red)[2][2][kWarps],
                                              int& parity, Partial* out) {
  x = warp_sum(x);
  y = warp_sum(y);
  const int warp = threadIdx.x >> 5;
  if ((threadIdx.x & 31) == 0) {
    red[parity][0][warp] = x;
    red[parity][1][warp] = y;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double sx = 0.0, sy = 0.0;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      sx += red[parity][0][w];
      sy += red[parity][1][w];
    }
    *out = Partial{sx, sy};
  }
  parity ^= 1;
}

// A rule's Consts viewed as words in a table (host_consts / decided_consts).
template <class R>
__device__ __forceinline__ const typename R::Consts& consts_at(const uint32_t* table, int32_t g,
                                                               int32_t words) {
  return *reinterpret_cast<const typename R::Consts*>(table + static_cast<int64_t>(g) * words);
}

// Reads no state, writes nothing: the first pass of a two-pass step.
struct ReduceOnly {
  struct Consts {};
  template <int V>
  FO_HD static constexpr int slots_used() { return 0; }
  template <int V, class T, class M>
  FO_HD static void update(T&, M, T*, const Consts&) {}
};

__device__ __forceinline__ float& lane(float4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// One element: unscale, reduce (double), clip, update. Mirrors the CPU loops exactly:
// gu = g * scale; the rule sees gu * clip.
template <class R, int V, bool kWrites, bool kReduce>
__device__ __forceinline__ void element(float& p, float g, float* st, float scale, float clip,
                                        const typename R::Consts& c, double& sq, double& ab) {
  const float gu = g * scale;
  if (kReduce) {
    const double d = static_cast<double>(gu);
    sq += d * d;
    ab += fabs(d);
  }
  if (kWrites) R::template update<V, float, float>(p, gu * clip, st, c);
}

// One chunk of n elements (a multiple-of-4 head in float4, then the tail one by one).
//
// note: chunks start on 64-byte boundaries (Layout aligns every segment, kChunkElems is a
// multiple of 16), so the float4 accesses are aligned; padding is never touched.
template <class R, int V, bool kWrites, bool kReduce>
__device__ __forceinline__ void chunk_body(float* __restrict__ p, const float* __restrict__ g,
                                           float* const* s, int n, float scale, float clip,
                                           const typename R::Consts& c, double& sq, double& ab) {
  constexpr int S = kWrites ? R::template slots_used<V>() : 0;
  constexpr int SA = S > 0 ? S : 1;
  const int nv = n >> 2;
  for (int i0 = threadIdx.x; i0 < nv; i0 += kIlp * kThreads) {
    float4 vp[kIlp] = {}, vg[kIlp] = {}, vs[kIlp][SA] = {};
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int i = i0 + k * kThreads;
      if (i < nv) {
        vg[k] = __ldg(reinterpret_cast<const float4*>(g) + i);
        if (kWrites) vp[k] = reinterpret_cast<const float4*>(p)[i];
#pragma unroll
        for (int j = 0; j < S; ++j) vs[k][j] = reinterpret_cast<const float4*>(s[j])[i];
      }
    }
#pragma unroll
    for (int k = 0; k < kIlp; ++k) {
      const int i = i0 + k * kThreads;
      if (i < nv) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float st[SA];
#pragma unroll
          for (int j = 0; j < S; ++j) st[j] = lane(vs[k][j], e);
          element<R, V, kWrites, kReduce>(lane(vp[k], e), lane(vg[k], e), st, scale, clip, c, sq, ab);
#pragma unroll
          for (int j = 0; j < S; ++j) lane(vs[k][j], e) = st[j];
        }
        if (kWrites) reinterpret_cast<float4*>(p)[i] = vp[k];
#pragma unroll
        for (int j = 0; j < S; ++j) reinterpret_cast<float4*>(s[j])[i] = vs[k][j];
      }
    }
  }
  for (int i = (nv << 2) + static_cast<int>(threadIdx.x); i < n; i += kThreads) {
    float pp = kWrites ? p[i] : 0.0f;
    float st[SA];
#pragma unroll
    for (int j = 0; j < S; ++j) st[j] = s[j][i];
    element<R, V, kWrites, kReduce>(pp, g[i], st, scale, clip, c, sq, ab);
    if (kWrites) p[i] = pp;
#pragma unroll
    for (int j = 0; j < S; ++j) s[j][i] = st[j];
  }
}

// Runs the chunk body of the variant `v` selects (uniform across the block).
template <class R, int V, bool kWrites, bool kReduce>
__device__ __forceinline__ void chunk_variant(int v, float* p, const float* g, float* const* s,
                                              int n, float scale, float clip,
                                              const typename R::Consts& c, double& sq,
                                              double& ab) {
  if constexpr (V + 1 < R::kVariants) {
    if (v != V) {
      chunk_variant<R, V + 1, kWrites, kReduce>(v, p, g, s, n, scale, clip, c, sq, ab);
      return;
    }
  }
  chunk_body<R, V, kWrites, kReduce>(p, g, s, n, scale, clip, c, sq, ab);
}

// The pass kernel: update (R = a rule) with or without the fused reduction, or reduce only
// (R = ReduceOnly).
//
// note: blocks stride over the chunk table, so one launch covers any number of tensors and the
// grid is one resident wave. Chunk offsets are 64-bit (arena offsets), in-chunk indices
// 32-bit (a chunk is ≤ kChunkElems). Each chunk takes its group's constants: the group table
// is indexed by the chunk's tensor, so any number of groups is still one launch.
template <class R, bool kReduce>
__global__ void __launch_bounds__(kThreads) pass_kernel(PassArgs a) {
  constexpr bool kWrites = !std::is_same<R, ReduceOnly>::value;
  float clip = 1.0f;
  int64_t t = 0;
  if constexpr (kWrites) {
    if (a.two_pass) {
      // Decided by finalize on the device: the host never waits for the norm.
      const DeviceState* st = a.state;
      if (st->skip) return;
      clip = st->clip;
    } else {
      t = a.state->applied + 1;
    }
  }
  const float scale = a.scale;
  const GroupTables& gt = a.groups;
  __shared__ double red[2][2][kWarps];
  int parity = 0;

  for (int64_t ci = blockIdx.x; ci < a.nchunks; ci += gridDim.x) {
    const Chunk ch = a.chunks[ci];
    const int n = static_cast<int>(ch.end - ch.begin);
    float* p = a.p + ch.begin;
    const float* g = a.g + ch.begin;
    float* s[rules::kMaxSlots];
#pragma unroll
    for (int j = 0; j < rules::kMaxSlots; ++j) s[j] = a.s[j] ? a.s[j] + ch.begin : nullptr;
    double sq = 0.0, ab = 0.0;

    if constexpr (kWrites) {
      const int32_t grp = gt.tensor_group[ch.tensor];
      typename R::Consts c;
      if (a.two_pass) {
        c = consts_at<R>(gt.decided_consts, grp, gt.consts_words);
      } else if (t == gt.host_t) {
        c = consts_at<R>(gt.host_consts, grp, gt.consts_words);
      } else {
        c = R::make(gt.hp + static_cast<int64_t>(grp) * kHpGroupStride, t);
      }
      chunk_variant<R, 0, true, kReduce>(R::variant(c), p, g, s, n, scale, clip, c, sq, ab);
    } else {
      const typename ReduceOnly::Consts c{};
      chunk_body<ReduceOnly, 0, false, true>(p, g, s, n, scale, 1.0f, c, sq, ab);
    }

    if (kReduce) {
      chunk_partial(sq, ab, red, parity, a.partials + ci);
    }
  }
}

// Folds chunk partials per tensor (one block per large tensor, one warp per small one), then
// the last block to finish folds the tensors, decides and records the step.
//
// note: "last block" is an integer ticket (atomicAdd on DeviceState::ticket) after a
// __threadfence(); the floating-point sums never depend on which block is last: tensor sums
// are written to fixed places and folded in tensor order by a fixed tree. This saves a third
// launch per step without giving up determinism.
template <class R>
__global__ void __launch_bounds__(kFoldThreads) finalize_kernel(FinalizeArgs f) {
  __shared__ double s_sq[kFoldWarps], s_ab[kFoldWarps];
  __shared__ int s_last;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const FoldItem it = f.items[blockIdx.x];

  if (it.count < 0) {
    const int t = it.first;
    const int c0 = f.first_chunk[t], c1 = f.first_chunk[t + 1];
    double s = 0.0, a = 0.0;
#pragma unroll 8
    for (int c = c0 + tid; c < c1; c += kFoldThreads) {
      const Partial q = f.partials[c];
      s += q.sq;
      a += q.abs;
    }
    s = warp_sum(s);
    a = warp_sum(a);
    if (lane == 0) {
      s_sq[warp] = s;
      s_ab[warp] = a;
    }
    __syncthreads();
    if (tid == 0) {
      double ts = 0.0, ta = 0.0;
      for (int w = 0; w < kFoldWarps; ++w) {
        ts += s_sq[w];
        ta += s_ab[w];
      }
      f.tensor_sq[t] = ts;
      f.tensor_abs[t] = ta;
    }
  } else if (warp < it.count) {
    const int t = it.first + warp;
    const int c0 = f.first_chunk[t], c1 = f.first_chunk[t + 1];
    double s = 0.0, a = 0.0;
    for (int c = c0 + lane; c < c1; c += 32) {
      const Partial q = f.partials[c];
      s += q.sq;
      a += q.abs;
    }
    s = warp_sum(s);
    a = warp_sum(a);
    if (lane == 0) {
      f.tensor_sq[t] = s;
      f.tensor_abs[t] = a;
    }
  }

  __threadfence();  // this block's tensor sums are visible device-wide before its ticket
  __syncthreads();
  if (tid == 0) s_last = atomicAdd(&f.state->ticket, 1u) == gridDim.x - 1 ? 1 : 0;
  __syncthreads();
  if (!s_last) return;
  __threadfence();

  double s = 0.0, a = 0.0;
  for (int t = tid; t < f.ntensors; t += kFoldThreads) {
    s += __ldcg(f.tensor_sq + t);  // L2, not a possibly stale L1 line
    a += __ldcg(f.tensor_abs + t);
  }
  s = warp_sum(s);
  a = warp_sum(a);
  if (lane == 0) {  // the large-tensor path's reads of s_sq ended before the ticket barriers
    s_sq[warp] = s;
    s_ab[warp] = a;
  }
  __syncthreads();
  if (tid != 0) return;
  double sq = 0.0, abs_sum = 0.0;
  for (int w = 0; w < kFoldWarps; ++w) {
    sq += s_sq[w];
    abs_sum += s_ab[w];
  }

  // Decide (core/decide.h), as the CPU backend's run_step does.
  DeviceState* st = f.state;
  const Outcome o = decide(sq, abs_sum, f.two_pass != 0, f.skip_non_finite != 0,
                           f.clipping != 0, f.max_grad_norm, st->applied);
  if (f.two_pass) {
    st->skip = o.skipped ? 1 : 0;
    if (!o.skipped) {
      st->clip = static_cast<float>(o.clip);
      // Every group's constants for the applied step this update makes.
      const GroupTables& gt = f.groups;
      for (int32_t g = 0; g < gt.groups; ++g) {
        const typename R::Consts c =
            o.applied == gt.host_t
                ? consts_at<R>(gt.host_consts, g, gt.consts_words)
                : R::make(gt.hp + static_cast<int64_t>(g) * kHpGroupStride, o.applied);
        *reinterpret_cast<typename R::Consts*>(gt.decided_consts +
                                               static_cast<int64_t>(g) * gt.consts_words) = c;
      }
    }
  }
  st->applied = o.applied;
  st->ticket = 0;

  write_outcome(o, f.outcome);
  if (f.trace) write_trace_record(o, f.groups.hp[0], f.trace + (f.iteration % f.trace_capacity) * kTraceFields);
}

// Trust-ratio rules (LAMB), after reduce and finalize (which decided skip, clip and every
// group's constants): the moments are updated and {Σp², Σu²} reduced per chunk, like a pass's
// gradient sums (fixed element assignment, warp butterfly, warps in order).
template <class R>
__global__ void __launch_bounds__(kThreads) trust_prepare_kernel(PassArgs a, Partial* trust) {
  if (a.state->skip) return;
  const float clip = a.state->clip;
  const float scale = a.scale;
  const GroupTables& gt = a.groups;
  __shared__ double red[2][2][kWarps];
  int parity = 0;
  for (int64_t ci = blockIdx.x; ci < a.nchunks; ci += gridDim.x) {
    const Chunk ch = a.chunks[ci];
    const int n = static_cast<int>(ch.end - ch.begin);
    const typename R::Consts c = consts_at<R>(gt.decided_consts, gt.tensor_group[ch.tensor], gt.consts_words);
    const float* p = a.p + ch.begin;
    const float* g = a.g + ch.begin;
    constexpr int S = R::template slots_used<0>();
    float* s[rules::kMaxSlots];
#pragma unroll
    for (int j = 0; j < rules::kMaxSlots; ++j) s[j] = a.s[j] ? a.s[j] + ch.begin : nullptr;
    double ps = 0.0, us = 0.0;
    for (int i = threadIdx.x; i < n; i += kThreads) {
      float st[S > 0 ? S : 1];
#pragma unroll
      for (int j = 0; j < S; ++j) st[j] = s[j][i];
      const float pp = p[i];
      const float u = R::template prepare<0, float, float>(pp, (g[i] * scale) * clip, st, c);
#pragma unroll
      for (int j = 0; j < S; ++j) s[j][i] = st[j];
      ps += static_cast<double>(pp) * static_cast<double>(pp);
      us += static_cast<double>(u) * static_cast<double>(u);
    }
    chunk_partial(ps, us, red, parity, trust + ci);
  }
}

// One thread per tensor folds its chunks' {Σp², Σu²} in chunk order: ratio = ‖p‖ / ‖u‖, 1 when
// either is 0 (the CPU engine's formula).
__global__ void trust_ratio_kernel(const Partial* trust, const int32_t* first_chunk, int32_t ntensors,
                                   float* ratio, const DeviceState* st) {
  if (st->skip) return;
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= ntensors) return;
  double x = 0.0, y = 0.0;
  for (int c = first_chunk[t]; c < first_chunk[t + 1]; ++c) {
    x += trust[c].sq;
    y += trust[c].abs;
  }
  ratio[t] = x > 0.0 && y > 0.0 ? static_cast<float>(sqrt(x) / sqrt(y)) : 1.0f;
}

template <class R>
__global__ void __launch_bounds__(kThreads) trust_apply_kernel(PassArgs a, const float* ratio) {
  if (a.state->skip) return;
  const GroupTables& gt = a.groups;
  for (int64_t ci = blockIdx.x; ci < a.nchunks; ci += gridDim.x) {
    const Chunk ch = a.chunks[ci];
    const int n = static_cast<int>(ch.end - ch.begin);
    const typename R::Consts c = consts_at<R>(gt.decided_consts, gt.tensor_group[ch.tensor], gt.consts_words);
    const float k = ratio[ch.tensor];
    float* p = a.p + ch.begin;
    constexpr int S = R::template slots_used<0>();
    const float* s[rules::kMaxSlots];
#pragma unroll
    for (int j = 0; j < rules::kMaxSlots; ++j) s[j] = a.s[j] ? a.s[j] + ch.begin : nullptr;
    for (int i = threadIdx.x; i < n; i += kThreads) {
      float st[S > 0 ? S : 1];
#pragma unroll
      for (int j = 0; j < S; ++j) st[j] = s[j][i];
      float pp = p[i];
      R::template apply<0, float, float>(pp, st, c, k);
      p[i] = pp;
    }
  }
}

__global__ void fill_kernel(float* p, int64_t n, float value) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    p[i] = value;
  }
}

__global__ void lerp_kernel(float* d, const float* s, const Chunk* chunks, int64_t nchunks,
                            const int32_t* tensor_group, const float* w) {
  for (int64_t c = blockIdx.x; c < nchunks; c += gridDim.x) {
    const Chunk ch = chunks[c];
    const float k = w[tensor_group[ch.tensor]];
    for (int64_t i = ch.begin + threadIdx.x; i < ch.end; i += blockDim.x) d[i] = d[i] + k * (s[i] - d[i]);
  }
}

__global__ void set_applied_kernel(DeviceState* s, int64_t applied) { s->applied = applied; }

template <class R, bool kReduce>
int resident_grid(int sms) {
  int per_sm = 0;
  FO_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, pass_kernel<R, kReduce>,
                                                        kThreads, 0));
  return sms * (per_sm > 0 ? per_sm : 1);
}

template <class R, bool kReduce>
void launch_pass(const PassArgs& a, int grid, cudaStream_t stream, const char* what) {
  if (a.nchunks <= 0) return;
  if (grid > a.nchunks) grid = static_cast<int>(a.nchunks);
  pass_kernel<R, kReduce><<<grid, kThreads, 0, stream>>>(a);
  FO_CUDA_LAUNCHED(what);
}

// Launch grids of a rule's update kernels (a trust-ratio rule has none: see launch_trust).
template <class R>
void grids_for(int* grid, int sms) {
  if constexpr ((R::kNorms & rules::kNeedsTrustRatio) == 0) {
    grid[0] = resident_grid<R, false>(sms);
    grid[1] = resident_grid<R, true>(sms);
  } else {
    grid[0] = grid[1] = 0;
  }
}

}  // namespace

PassConfig pass_config(int device) {
  static std::mutex mu;
  static PassConfig cache[64];
  static bool done[64] = {};
  std::lock_guard<std::mutex> lock(mu);
  if (device >= 0 && device < 64 && done[device]) return cache[device];
  int sms = 0;
  FO_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  PassConfig c{};
#define FO_RULE_GRID(T, id) grids_for<rules::T>(c.grid_update[id], sms);
  FO_RULES(FO_RULE_GRID)
#undef FO_RULE_GRID
  c.grid_reduce = resident_grid<ReduceOnly, true>(sms);
  if (device >= 0 && device < 64) {
    cache[device] = c;
    done[device] = true;
  }
  return c;
}

void launch_update(RuleId rule, bool reduce, const PassArgs& a, int grid, cudaStream_t stream) {
  with_rule(rule, [&](auto tag) {
    using R = decltype(tag);
    if constexpr ((R::kNorms & rules::kNeedsTrustRatio) == 0) {
      if (reduce) {
        launch_pass<R, true>(a, grid, stream, "pass_kernel<rule, reduce>");
      } else {
        launch_pass<R, false>(a, grid, stream, "pass_kernel<rule>");
      }
    }
  });
}

void launch_reduce(const PassArgs& a, int grid, cudaStream_t stream) {
  launch_pass<ReduceOnly, true>(a, grid, stream, "pass_kernel<reduce only>");
}

void launch_finalize(RuleId rule, const FinalizeArgs& f, cudaStream_t stream) {
  if (f.nitems <= 0) return;
  with_rule(rule, [&](auto tag) {
    using R = decltype(tag);
    finalize_kernel<R><<<f.nitems, kFoldThreads, 0, stream>>>(f);
  });
  FO_CUDA_LAUNCHED("finalize_kernel");
}

void launch_trust(RuleId rule, const PassArgs& a, Partial* trust, const int32_t* first_chunk,
                  int32_t ntensors, float* ratio, int grid, cudaStream_t stream) {
  if (a.nchunks <= 0) return;
  if (grid > a.nchunks) grid = static_cast<int>(a.nchunks);
  with_rule(rule, [&](auto tag) {
    using R = decltype(tag);
    if constexpr ((R::kNorms & rules::kNeedsTrustRatio) != 0) {
      trust_prepare_kernel<R><<<grid, kThreads, 0, stream>>>(a, trust);
      FO_CUDA_LAUNCHED("trust_prepare_kernel");
      trust_ratio_kernel<<<(ntensors + 127) / 128, 128, 0, stream>>>(trust, first_chunk, ntensors, ratio, a.state);
      FO_CUDA_LAUNCHED("trust_ratio_kernel");
      trust_apply_kernel<R><<<grid, kThreads, 0, stream>>>(a, ratio);
      FO_CUDA_LAUNCHED("trust_apply_kernel");
    }
  });
}

void launch_fill(float* p, int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return;
  int64_t blocks = (n + 255) / 256;
  if (blocks > 4096) blocks = 4096;
  fill_kernel<<<static_cast<int>(blocks), 256, 0, stream>>>(p, n, value);
  FO_CUDA_LAUNCHED("fill_kernel");
}

void launch_lerp(float* d, const float* s, const Chunk* chunks, int64_t nchunks,
                 const int32_t* tensor_group, const float* w, cudaStream_t stream) {
  if (nchunks <= 0) return;
  const int grid = static_cast<int>(nchunks < 65536 ? nchunks : 65536);
  lerp_kernel<<<grid, 256, 0, stream>>>(d, s, chunks, nchunks, tensor_group, w);
  FO_CUDA_LAUNCHED("lerp_kernel");
}

void launch_set_applied(DeviceState* s, int64_t applied, cudaStream_t stream) {
  set_applied_kernel<<<1, 1, 0, stream>>>(s, applied);
  FO_CUDA_LAUNCHED("set_applied_kernel");
}

}  // namespace fo::cuda
