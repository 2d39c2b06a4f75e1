// CUDA kernels of the fused step. The per-element math is native/core/rules.h (FO_HD =
// __host__ __device__ here), compiled with --fmad=false: without clipping, parameters and
// state come out bitwise equal to the CPU backend's. Only the walk over memory and the
// reductions are CUDA-specific. See kernels.h for the shape of a step.
#include <cuda_runtime.h>

#include <mutex>

#include "../core/backend.h"
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
// A pass that only reads the gradient (the first pass of a two-pass step).
constexpr int kReduceOnly = 3;

// Butterfly sum over the warp. Every lane ends with the same bits (each addition has the same
// two operands on both lanes, and IEEE addition is commutative), and the order is fixed.
__device__ __forceinline__ double warp_sum(double x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// The constants of applied step `t` (1-based): the host's when it guessed `t`, else the
// step-dependent fields re-derived with the formulas of step_args.h make_*_consts.
__device__ __forceinline__ void consts_for(const ConstSource& s, int64_t t, AdamConsts& a,
                                           SgdConsts& g) {
  a = s.adam;
  g = s.sgd;
  if (t == s.host_t) return;
  if (s.kind == static_cast<int32_t>(Kind::Adam)) {
    const double bc1 = 1.0 - pow(s.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - pow(s.beta2, static_cast<double>(t));
    a.step_size = static_cast<float>(s.lr / bc1);
    a.inv_sqrt_bc2 = static_cast<float>(1.0 / sqrt(bc2));
  }
  g.first_step = t <= 1 ? 1 : 0;
}

// One element: unscale, reduce (double), clip, update. Mirrors the CPU loops exactly:
// gu = g * scale; the rule sees gu * clip.
template <int R, bool kReduce>
__device__ __forceinline__ void element(float& p, float g, float& s1, float& s2, float scale,
                                        float clip, const AdamConsts& ac, const SgdConsts& sc,
                                        double& sq, double& ab) {
  const float gu = g * scale;
  if (kReduce) {
    const double d = static_cast<double>(gu);
    sq += d * d;
    ab += fabs(d);
  }
  if constexpr (R == static_cast<int>(Rule::kAdam)) {
    adam_update(p, gu * clip, s1, s2, ac);
  } else if constexpr (R == static_cast<int>(Rule::kSgdMomentum)) {
    sgd_update(p, gu * clip, s1, sc);
  } else if constexpr (R == static_cast<int>(Rule::kSgd)) {
    sgd_update_plain(p, gu * clip, sc);
  }
}

template <int R, bool kReduce>
__device__ __forceinline__ void element4(float4& p, const float4& g, float4& s1, float4& s2,
                                         float scale, float clip, const AdamConsts& ac,
                                         const SgdConsts& sc, double& sq, double& ab) {
  element<R, kReduce>(p.x, g.x, s1.x, s2.x, scale, clip, ac, sc, sq, ab);
  element<R, kReduce>(p.y, g.y, s1.y, s2.y, scale, clip, ac, sc, sq, ab);
  element<R, kReduce>(p.z, g.z, s1.z, s2.z, scale, clip, ac, sc, sq, ab);
  element<R, kReduce>(p.w, g.w, s1.w, s2.w, scale, clip, ac, sc, sq, ab);
}

// The pass kernel: update (R = a Rule) with or without the fused reduction, or reduce only.
//
// note: blocks stride over the chunk table, so one launch covers any number of tensors and the
// grid is one resident wave. Chunk offsets are 64-bit (arena offsets), in-chunk indices
// 32-bit (a chunk is ≤ kChunkElems). Chunks start on 64-byte boundaries (Layout aligns every
// segment, kChunkElems is a multiple of 16), so the float4 accesses are aligned; the last
// n % 4 elements of a chunk are done one by one and padding is never touched.
template <int R, bool kReduce>
__global__ void __launch_bounds__(kThreads) pass_kernel(PassArgs a) {
  constexpr bool kMoment1 = R == static_cast<int>(Rule::kAdam) ||
                            R == static_cast<int>(Rule::kSgdMomentum);
  constexpr bool kMoment2 = R == static_cast<int>(Rule::kAdam);
  constexpr bool kWrites = R != kReduceOnly;

  AdamConsts ac{};
  SgdConsts sc{};
  float clip = 1.0f;
  if (kWrites) {
    if (a.two_pass) {
      // Decided by finalize on the device: the host never waits for the norm.
      const DeviceState* st = a.state;
      if (st->skip) return;
      clip = st->clip;
      ac = st->adam;
      sc = st->sgd;
    } else {
      consts_for(a.consts, a.state->applied + 1, ac, sc);
    }
  }
  const float scale = a.scale;
  __shared__ double red[2][2][kWarps];
  int parity = 0;

  for (int64_t c = blockIdx.x; c < a.nchunks; c += gridDim.x) {
    const Chunk ch = a.chunks[c];
    const int n = static_cast<int>(ch.end - ch.begin);
    float* __restrict__ p = a.p + ch.begin;
    const float* __restrict__ g = a.g + ch.begin;
    float* __restrict__ s1 = kMoment1 ? a.s1 + ch.begin : nullptr;
    float* __restrict__ s2 = kMoment2 ? a.s2 + ch.begin : nullptr;
    double sq = 0.0, ab = 0.0;

    const int nv = n >> 2;
    for (int i0 = threadIdx.x; i0 < nv; i0 += kIlp * kThreads) {
      float4 vp[kIlp] = {}, vg[kIlp], v1[kIlp] = {}, v2[kIlp] = {};
#pragma unroll
      for (int k = 0; k < kIlp; ++k) {
        const int i = i0 + k * kThreads;
        if (i < nv) {
          vg[k] = __ldg(reinterpret_cast<const float4*>(g) + i);
          if (kWrites) vp[k] = reinterpret_cast<const float4*>(p)[i];
          if (kMoment1) v1[k] = reinterpret_cast<const float4*>(s1)[i];
          if (kMoment2) v2[k] = reinterpret_cast<const float4*>(s2)[i];
        }
      }
#pragma unroll
      for (int k = 0; k < kIlp; ++k) {
        const int i = i0 + k * kThreads;
        if (i < nv) {
          element4<R, kReduce>(vp[k], vg[k], v1[k], v2[k], scale, clip, ac, sc, sq, ab);
          if (kWrites) reinterpret_cast<float4*>(p)[i] = vp[k];
          if (kMoment1) reinterpret_cast<float4*>(s1)[i] = v1[k];
          if (kMoment2) reinterpret_cast<float4*>(s2)[i] = v2[k];
        }
      }
    }
    for (int i = (nv << 2) + static_cast<int>(threadIdx.x); i < n; i += kThreads) {
      float pp = kWrites ? p[i] : 0.0f;
      float m1 = kMoment1 ? s1[i] : 0.0f;
      float m2 = kMoment2 ? s2[i] : 0.0f;
      element<R, kReduce>(pp, g[i], m1, m2, scale, clip, ac, sc, sq, ab);
      if (kWrites) p[i] = pp;
      if (kMoment1) s1[i] = m1;
      if (kMoment2) s2[i] = m2;
    }

    if (kReduce) {
      // The chunk's partial: per-thread sums (fixed element assignment), a warp butterfly,
      // then the warps in order. Double-buffered shared memory: one barrier per chunk.
      sq = warp_sum(sq);
      ab = warp_sum(ab);
      const int warp = threadIdx.x >> 5;
      if ((threadIdx.x & 31) == 0) {
        red[parity][0][warp] = sq;
        red[parity][1][warp] = ab;
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        double s = 0.0, t = 0.0;
#pragma unroll
        for (int w = 0; w < kWarps; ++w) {
          s += red[parity][0][w];
          t += red[parity][1][w];
        }
        a.partials[c] = Partial{s, t};
      }
      parity ^= 1;
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

  // Decide (docs/design.md, "Step semantics", step 3), as the CPU backend's run_step does.
  DeviceState* st = f.state;
  const bool non_finite = !isfinite(sq) || !isfinite(abs_sum);
  const double l2 = sqrt(sq);
  int64_t applied = st->applied;
  const bool skipped = f.two_pass && f.skip_non_finite && non_finite;
  double clip = 1.0;
  if (f.two_pass) {
    st->skip = skipped ? 1 : 0;
    if (!skipped) {
      if (f.clipping) {
        const double c = f.max_grad_norm / (l2 + 1e-6);
        clip = c < 1.0 ? c : 1.0;
      }
      st->clip = static_cast<float>(clip);
      const int64_t t = applied + 1;
      AdamConsts ac;
      SgdConsts sc;
      consts_for(f.consts, t, ac, sc);
      st->adam = ac;
      st->sgd = sc;
      applied = t;
    }
  } else {
    applied += 1;
  }
  st->applied = applied;
  st->ticket = 0;

  double* o = f.outcome;
  o[kOutL2] = l2;
  o[kOutL1] = abs_sum;
  o[kOutClipCoef] = clip;
  o[kOutSkipped] = skipped ? 1.0 : 0.0;
  o[kOutNonFinite] = non_finite ? 1.0 : 0.0;
  o[kOutApplied] = static_cast<double>(applied);
  if (f.trace) {
    double* r = f.trace + (f.iteration % f.trace_capacity) * kTraceFields;
    r[0] = l2;
    r[1] = abs_sum;
    r[2] = f.consts.lr;
    r[3] = skipped ? 1.0 : 0.0;
  }
}

__global__ void fill_kernel(float* p, int64_t n, float value) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    p[i] = value;
  }
}

__global__ void set_applied_kernel(DeviceState* s, int64_t applied) { s->applied = applied; }

template <int R, bool kReduce>
int resident_grid(int sms) {
  int per_sm = 0;
  FO_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, pass_kernel<R, kReduce>,
                                                        kThreads, 0));
  return sms * (per_sm > 0 ? per_sm : 1);
}

template <int R, bool kReduce>
void launch_pass(const PassArgs& a, int grid, cudaStream_t stream, const char* what) {
  if (a.nchunks <= 0) return;
  if (grid > a.nchunks) grid = static_cast<int>(a.nchunks);
  pass_kernel<R, kReduce><<<grid, kThreads, 0, stream>>>(a);
  FO_CUDA_LAUNCHED(what);
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
  constexpr int kA = static_cast<int>(Rule::kAdam), kM = static_cast<int>(Rule::kSgdMomentum),
                kS = static_cast<int>(Rule::kSgd);
  c.grid_update[kA][0] = resident_grid<kA, false>(sms);
  c.grid_update[kA][1] = resident_grid<kA, true>(sms);
  c.grid_update[kM][0] = resident_grid<kM, false>(sms);
  c.grid_update[kM][1] = resident_grid<kM, true>(sms);
  c.grid_update[kS][0] = resident_grid<kS, false>(sms);
  c.grid_update[kS][1] = resident_grid<kS, true>(sms);
  c.grid_reduce = resident_grid<kReduceOnly, true>(sms);
  if (device >= 0 && device < 64) {
    cache[device] = c;
    done[device] = true;
  }
  return c;
}

void launch_update(Rule rule, bool reduce, const PassArgs& a, int grid, cudaStream_t stream) {
  constexpr int kA = static_cast<int>(Rule::kAdam), kM = static_cast<int>(Rule::kSgdMomentum),
                kS = static_cast<int>(Rule::kSgd);
  switch (rule) {
    case Rule::kAdam:
      return reduce ? launch_pass<kA, true>(a, grid, stream, "pass_kernel<adam, reduce>")
                    : launch_pass<kA, false>(a, grid, stream, "pass_kernel<adam>");
    case Rule::kSgdMomentum:
      return reduce ? launch_pass<kM, true>(a, grid, stream, "pass_kernel<sgd momentum, reduce>")
                    : launch_pass<kM, false>(a, grid, stream, "pass_kernel<sgd momentum>");
    case Rule::kSgd:
      return reduce ? launch_pass<kS, true>(a, grid, stream, "pass_kernel<sgd, reduce>")
                    : launch_pass<kS, false>(a, grid, stream, "pass_kernel<sgd>");
  }
}

void launch_reduce(const PassArgs& a, int grid, cudaStream_t stream) {
  launch_pass<kReduceOnly, true>(a, grid, stream, "pass_kernel<reduce only>");
}

void launch_finalize(const FinalizeArgs& f, cudaStream_t stream) {
  if (f.nitems <= 0) return;
  finalize_kernel<<<f.nitems, kFoldThreads, 0, stream>>>(f);
  FO_CUDA_LAUNCHED("finalize_kernel");
}

void launch_fill(float* p, int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return;
  int64_t blocks = (n + 255) / 256;
  if (blocks > 4096) blocks = 4096;
  fill_kernel<<<static_cast<int>(blocks), 256, 0, stream>>>(p, n, value);
  FO_CUDA_LAUNCHED("fill_kernel");
}

void launch_set_applied(DeviceState* s, int64_t applied, cudaStream_t stream) {
  set_applied_kernel<<<1, 1, 0, stream>>>(s, applied);
  FO_CUDA_LAUNCHED("set_applied_kernel");
}

}  // namespace fo::cuda
