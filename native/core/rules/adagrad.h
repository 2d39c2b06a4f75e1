// Adagrad (torch.optim.Adagrad semantics, the foreach=False reference path):
//   g    = grad (already unscaled and multiplied by the clip coefficient) + wd * p
//   clr  = lr / (1 + (t - 1) * lr_decay)
//   sum += g * g
//   p   -= clr * g / (sqrt(sum) + eps)
// t counts applied (not skipped) steps, 1-based. `sum` starts at initialAccumulatorValue: the
// TypeScript RuleSpec fills the slot when the optimizer is built (RuleSpec.stateInit), so that
// value is not a native field.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Adagrad {
  static constexpr const char* kName = "adagrad";
  enum Field : int { kLr, kLrDecay, kWeightDecay, kEps, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "lrDecay", "weightDecay", "eps"};
  static constexpr int kSlots = 1;
  static constexpr const char* kSlotNames[kSlots] = {"sum"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 1; }

  struct Consts {
    float clr;            // lr / (1 + (t - 1) * lr_decay), derived in double
    float weight_decay;
    float eps;
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    Consts c;
    c.clr = static_cast<float>(hp[kLr] / (1.0 + static_cast<double>(t - 1) * hp[kLrDecay]));
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.eps = static_cast<float>(hp[kEps]);
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    const M sum = static_cast<M>(s[0]) + g * g;
    const M denom = std::sqrt(sum) + c.eps;
    p = static_cast<T>(pv - c.clr * (g / denom));
    s[0] = static_cast<T>(sum);
  }
};

}  // namespace fo::rules
