// RMSprop (torch.optim.RMSprop semantics, the foreach=False reference path):
//   g   = grad (already unscaled and multiplied by the clip coefficient) + wd * p
//   sq  = alpha * sq + (1 - alpha) * g * g
//   centered:  ga = alpha * ga + (1 - alpha) * g ;  avg = sqrt(sq - ga * ga) + eps
//   else:      avg = sqrt(sq) + eps
//   momentum > 0:  buf = momentum * buf + g / avg ;  p -= lr * buf
//   else:          p -= lr * g / avg
// Four variants, so that a group never reads or writes a slot it does not use: the slots are
// ordered as torch's state (square_avg, momentum_buffer, grad_avg), so "centered without
// momentum" uses slots 0 and 2, not a prefix: the rule declares slot_mask<V>().
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Rmsprop {
  static constexpr const char* kName = "rmsprop";
  enum Field : int { kLr, kAlpha, kEps, kWeightDecay, kMomentum, kCentered, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr",          "alpha",    "eps",
                                                       "weightDecay", "momentum", "centered"};
  static constexpr int kSlots = 3;
  static constexpr const char* kSlotNames[kSlots] = {"square_avg", "momentum_buffer", "grad_avg"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  // Variant bits: 1 = momentum, 2 = centered.
  static constexpr int kVariants = 4;
  static constexpr int kMomentumBit = 1;
  static constexpr int kCenteredBit = 2;
  template <int V>
  FO_HD static constexpr uint32_t slot_mask() {
    return 1u | ((V & kMomentumBit) ? 2u : 0u) | ((V & kCenteredBit) ? 4u : 0u);
  }

  struct Consts {
    float lr;
    float alpha;
    float one_minus_alpha;
    float eps;
    float weight_decay;
    float momentum;
    int32_t variant;
  };

  FO_HD static Consts make(const double* hp, int64_t) {
    Consts c;
    c.lr = static_cast<float>(hp[kLr]);
    c.alpha = static_cast<float>(hp[kAlpha]);
    c.one_minus_alpha = static_cast<float>(1.0 - hp[kAlpha]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.momentum = static_cast<float>(hp[kMomentum]);
    c.variant = (hp[kMomentum] > 0.0 ? kMomentumBit : 0) | (hp[kCentered] != 0.0 ? kCenteredBit : 0);
    return c;
  }

  FO_HD static int variant(const Consts& c) { return c.variant; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    const M sq = c.alpha * static_cast<M>(s[0]) + c.one_minus_alpha * (g * g);
    s[0] = static_cast<T>(sq);
    M avg;
    if constexpr ((V & kCenteredBit) != 0) {
      const M ga = c.alpha * static_cast<M>(s[2]) + c.one_minus_alpha * g;
      s[2] = static_cast<T>(ga);
      avg = std::sqrt(sq - ga * ga) + c.eps;
    } else {
      avg = std::sqrt(sq) + c.eps;
    }
    if constexpr ((V & kMomentumBit) != 0) {
      const M buf = c.momentum * static_cast<M>(s[1]) + g / avg;
      s[1] = static_cast<T>(buf);
      p = static_cast<T>(pv - c.lr * buf);
    } else {
      p = static_cast<T>(pv - c.lr * (g / avg));
    }
  }
};

}  // namespace fo::rules
