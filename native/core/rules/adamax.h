// Adamax (torch.optim.Adamax semantics, the foreach=False reference path):
//   g  = grad (already unscaled and multiplied by the clip coefficient) + wd * p
//   m  = beta1 * m + (1 - beta1) * g
//   u  = max(beta2 * u, |g| + eps)        (NaN propagates, as torch.amax)
//   p -= lr / (1 - beta1^t) * m / u
// t counts applied (not skipped) steps, 1-based.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Adamax {
  static constexpr const char* kName = "adamax";
  enum Field : int { kLr, kBeta1, kBeta2, kEps, kWeightDecay, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "beta1", "beta2", "eps", "weightDecay"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_inf"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  struct Consts {
    float beta1;
    float one_minus_beta1;
    float beta2;
    float eps;
    float weight_decay;
    float step_size;      // lr / (1 - beta1^t), derived in double
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    Consts c;
    c.beta1 = static_cast<float>(hp[kBeta1]);
    c.one_minus_beta1 = static_cast<float>(1.0 - hp[kBeta1]);
    c.beta2 = static_cast<float>(hp[kBeta2]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.step_size = static_cast<float>(hp[kLr] / (1.0 - ::pow(hp[kBeta1], static_cast<double>(t))));
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    const M m = c.beta1 * static_cast<M>(s[0]) + c.one_minus_beta1 * g;
    const M decayed = c.beta2 * static_cast<M>(s[1]);
    const M fresh = std::fabs(g) + c.eps;
    // max that keeps a NaN from either side (torch.amax does; fmaxf would drop it)
    const M u = (decayed > fresh || decayed != decayed) ? decayed : fresh;
    p = static_cast<T>(pv - c.step_size * (m / u));
    s[0] = static_cast<T>(m);
    s[1] = static_cast<T>(u);
  }
};

}  // namespace fo::rules
