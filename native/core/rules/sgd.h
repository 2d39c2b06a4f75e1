// SGD with optional momentum, dampening and Nesterov (torch.optim.SGD semantics):
//   g += wd * p
//   momentum: buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g
//             g = nesterov ? g + momentum * buf : buf
//   p -= lr * g
// Variant 0 (momentum 0) neither reads nor writes the momentum buffer.
#pragma once

#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct Sgd {
  static constexpr const char* kName = "sgd";
  enum Field : int { kLr, kMomentum, kDampening, kWeightDecay, kNesterov, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "momentum", "dampening",
                                                       "weightDecay", "nesterov"};
  static constexpr int kSlots = 1;
  static constexpr const char* kSlotNames[kSlots] = {"momentum_buffer"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 2;  // 0: no momentum, 1: momentum
  template <int V>
  FO_HD static constexpr int slots_used() { return V == 0 ? 0 : 1; }

  struct Consts {
    float lr;
    float momentum;
    float one_minus_dampening;
    float weight_decay;
    int32_t first_step;   // the momentum buffer is initialised with the gradient
    int32_t nesterov;
    int32_t use_momentum;
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    Consts c;
    c.lr = static_cast<float>(hp[kLr]);
    c.momentum = static_cast<float>(hp[kMomentum]);
    c.one_minus_dampening = static_cast<float>(1.0 - hp[kDampening]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.first_step = t <= 1 ? 1 : 0;
    c.nesterov = hp[kNesterov] != 0.0 ? 1 : 0;
    c.use_momentum = hp[kMomentum] != 0.0 ? 1 : 0;
    return c;
  }

  FO_HD static int variant(const Consts& c) { return c.use_momentum ? 1 : 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    if constexpr (V == 1) {
      const M b = c.first_step ? g : c.momentum * static_cast<M>(s[0]) + c.one_minus_dampening * g;
      s[0] = static_cast<T>(b);
      g = c.nesterov ? g + c.momentum * b : b;
    }
    p = static_cast<T>(pv - c.lr * g);
  }
};

}  // namespace fo::rules
