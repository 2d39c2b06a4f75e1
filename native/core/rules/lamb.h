// LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
// minutes"), with optax.lamb's semantics: Adam's bias-corrected direction plus decoupled weight
// decay, scaled per tensor by the trust ratio ‖p‖ / ‖u‖ (1 when either norm is 0):
//   m = β1·m + (1 − β1)·g ;  v = β2·v + (1 − β2)·g²
//   u = (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + eps) + wd·p   (as m·(1/(1 − β1^t)), ...)
//   p −= lr · (‖p‖ / ‖u‖) · u          (norms over each tensor)
//
// The trust ratio needs the norms of p and of u over the whole tensor before any element of
// it is updated, so this is not a single pass: `prepare` updates the moments and returns u
// (the engine sums p² and u² per chunk, then per tensor), `apply` recomputes u from the new
// moments and the old p and moves p. `direction` is the one definition of u both use.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Lamb {
  static constexpr const char* kName = "lamb";
  enum Field : int { kLr, kBeta1, kBeta2, kEps, kWeightDecay, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "beta1", "beta2", "eps", "weightDecay"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq"};
  static constexpr uint32_t kNorms = kNeedsGradNorms | kNeedsTrustRatio;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  struct Consts {
    float lr;
    float beta1;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float eps;
    float weight_decay;
    float inv_bc1;   // 1 / (1 − β1^t)
    float inv_bc2;   // 1 / (1 − β2^t)
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    Consts c;
    c.lr = static_cast<float>(hp[kLr]);
    c.beta1 = static_cast<float>(hp[kBeta1]);
    c.one_minus_beta1 = static_cast<float>(1.0 - hp[kBeta1]);
    c.beta2 = static_cast<float>(hp[kBeta2]);
    c.one_minus_beta2 = static_cast<float>(1.0 - hp[kBeta2]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.inv_bc1 = static_cast<float>(1.0 / (1.0 - ::pow(hp[kBeta1], static_cast<double>(t))));
    c.inv_bc2 = static_cast<float>(1.0 / (1.0 - ::pow(hp[kBeta2], static_cast<double>(t))));
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  // u for one element, from p and the updated moments. The bias corrections are multiplied
  // by their reciprocals (derived in double): one division per element instead of three, in
  // both passes; the step is compute-bound otherwise.
  template <class M>
  FO_HD static M direction(M p, M m, M v, const Consts& c) {
    return (m * c.inv_bc1) / (std::sqrt(v * c.inv_bc2) + c.eps) + c.weight_decay * p;
  }

  // Updates the moments from g; returns u. p is only read.
  template <int V, class T, class M = float>
  FO_HD static M prepare(T p, M g, T* s, const Consts& c) {
    const M m = c.beta1 * static_cast<M>(s[0]) + c.one_minus_beta1 * g;
    const M v = c.beta2 * static_cast<M>(s[1]) + c.one_minus_beta2 * (g * g);
    s[0] = static_cast<T>(m);
    s[1] = static_cast<T>(v);
    return direction<M>(static_cast<M>(p), m, v, c);
  }

  // p −= lr · ratio · u, with u recomputed from the moments `prepare` wrote.
  template <int V, class T, class M = float>
  FO_HD static void apply(T& p, const T* s, const Consts& c, M ratio) {
    const M pv = static_cast<M>(p);
    const M u = direction<M>(pv, static_cast<M>(s[0]), static_cast<M>(s[1]), c);
    p = static_cast<T>(pv - c.lr * (ratio * u));
  }
};

}  // namespace fo::rules
