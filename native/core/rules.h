// Per-element update rules: the single source of truth for the optimizer math.
//
// Every backend (CPU SIMD loops, CUDA kernels) calls these inline functions and only differs
// in how it walks memory and reduces. Math is fp32, like PyTorch's fused kernels; the
// host-side constants (bias corrections, step size) are computed in double once per step
// in `step_args.h` and handed over as floats.
//
// note: the build turns off floating-point contraction (-ffp-contract=off, nvcc --fmad=false)
// so that `a * b + c` is never fused into an FMA behind our back. That keeps the result of
// these functions bitwise identical across the SIMD levels of the CPU backend and the CUDA
// backend, at no measurable cost: a step is memory-bound.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define FO_HD __host__ __device__ __forceinline__
#else
#define FO_HD inline __attribute__((always_inline))
#endif

namespace fo {

// Optimizer family. AdamW is Adam with `decoupled` weight decay.
enum class Kind : int32_t { SGD = 0, Adam = 1 };

// Constants for one Adam/AdamW step, all derived on the host (see step_args.h).
struct AdamConsts {
  float beta1;
  float one_minus_beta1;
  float beta2;
  float one_minus_beta2;
  float eps;
  float weight_decay;      // L2 coefficient added to the gradient (Adam), 0 when decoupled
  float decay_factor;      // 1 - lr * wd for decoupled decay (AdamW), 1 otherwise
  float step_size;         // lr / (1 - beta1^t)
  float inv_sqrt_bc2;      // 1 / sqrt(1 - beta2^t)
};

// Constants for one SGD step.
struct SgdConsts {
  float lr;
  float momentum;
  float one_minus_dampening;
  float weight_decay;
  int32_t first_step;      // the momentum buffer is initialised with the gradient
  int32_t nesterov;
  int32_t use_momentum;
};

// Adam / AdamW, torch.optim.Adam(W) semantics (foreach=False reference path):
//   g      = grad (already unscaled and clipped by the caller's multiplier)
//   Adam:  g += wd * p                 AdamW: p *= 1 - lr * wd
//   m      = beta1 * m + (1 - beta1) * g
//   v      = beta2 * v + (1 - beta2) * g * g
//   p     -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
FO_HD void adam_update(float& p, float g, float& m, float& v, const AdamConsts& c) {
  float pv = p;
  g = g + c.weight_decay * pv;
  pv = pv * c.decay_factor;
  float mv = c.beta1 * m + c.one_minus_beta1 * g;
  float vv = c.beta2 * v + c.one_minus_beta2 * (g * g);
  float denom = std::sqrt(vv) * c.inv_sqrt_bc2 + c.eps;
  p = pv - c.step_size * (mv / denom);
  m = mv;
  v = vv;
}

// SGD, torch.optim.SGD semantics:
//   g += wd * p
//   momentum: buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g
//             g = nesterov ? g + momentum * buf : buf
//   p -= lr * g
FO_HD void sgd_update(float& p, float g, float& buf, const SgdConsts& c) {
  float pv = p;
  g = g + c.weight_decay * pv;
  if (c.use_momentum) {
    float b = c.first_step ? g : c.momentum * buf + c.one_minus_dampening * g;
    buf = b;
    g = c.nesterov ? g + c.momentum * b : b;
  }
  p = pv - c.lr * g;
}

// SGD without momentum reads no buffer.
FO_HD void sgd_update_plain(float& p, float g, const SgdConsts& c) {
  float pv = p;
  g = g + c.weight_decay * pv;
  p = pv - c.lr * g;
}

}  // namespace fo
