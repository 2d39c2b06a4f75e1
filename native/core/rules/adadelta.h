// Adadelta (torch.optim.Adadelta semantics, the foreach=False reference path):
//   g     = grad (already unscaled and multiplied by the clip coefficient) + wd * p
//   sq    = rho * sq + (1 - rho) * g * g
//   delta = sqrt(acc + eps) / sqrt(sq + eps) * g
//   acc   = rho * acc + (1 - rho) * delta * delta
//   p    -= lr * delta
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Adadelta {
  static constexpr const char* kName = "adadelta";
  enum Field : int { kLr, kRho, kEps, kWeightDecay, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "rho", "eps", "weightDecay"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"square_avg", "acc_delta"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  struct Consts {
    float lr;
    float rho;
    float one_minus_rho;
    float eps;
    float weight_decay;
  };

  FO_HD static Consts make(const double* hp, int64_t) {
    Consts c;
    c.lr = static_cast<float>(hp[kLr]);
    c.rho = static_cast<float>(hp[kRho]);
    c.one_minus_rho = static_cast<float>(1.0 - hp[kRho]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    const M sq = c.rho * static_cast<M>(s[0]) + c.one_minus_rho * (g * g);
    const M std_g = std::sqrt(sq + c.eps);
    const M delta = std::sqrt(static_cast<M>(s[1]) + c.eps) / std_g * g;
    const M acc = c.rho * static_cast<M>(s[1]) + c.one_minus_rho * (delta * delta);
    p = static_cast<T>(pv - c.lr * delta);
    s[0] = static_cast<T>(sq);
    s[1] = static_cast<T>(acc);
  }
};

}  // namespace fo::rules
