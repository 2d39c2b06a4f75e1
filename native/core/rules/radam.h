// RAdam (torch.optim.RAdam of PyTorch 2.x, the single-tensor path, decoupled_weight_decay=False):
//   g      = grad (already unscaled and multiplied by the clip coefficient) + wd * p
//   m      = beta1 * m + (1 - beta1) * g
//   v      = beta2 * v + (1 - beta2) * g * g
//   rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
//   rho_t > 5 (variant 1, rectified):
//     rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
//     p   -= lr rect sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)
//   otherwise (variant 0, SGD with momentum):
//     p   -= lr / (1 - beta1^t) * m
// Every constant derives from t in double (make); the variant is chosen per group and step.
// Both variants update v. t counts applied (not skipped) steps, 1-based.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct RAdam {
  static constexpr const char* kName = "radam";
  enum Field : int { kLr, kBeta1, kBeta2, kEps, kWeightDecay, kFieldCount };
  static constexpr const char* kFields[kFieldCount] = {"lr", "beta1", "beta2", "eps", "weightDecay"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 2;  // 0: not rectified (rho_t <= 5), 1: rectified
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  struct Consts {
    float beta1;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float eps;
    float weight_decay;
    float step_size;      // variant 1: lr rect sqrt(1 - beta2^t) / (1 - beta1^t); 0: lr / (1 - beta1^t)
    int32_t rectified;
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    const double beta2 = hp[kBeta2];
    const double td = static_cast<double>(t);
    const double beta2_t = ::pow(beta2, td);
    const double bc1 = 1.0 - ::pow(hp[kBeta1], td);
    const double bc2 = 1.0 - beta2_t;
    const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    const double rho_t = rho_inf - 2.0 * td * beta2_t / bc2;
    Consts c;
    c.beta1 = static_cast<float>(hp[kBeta1]);
    c.one_minus_beta1 = static_cast<float>(1.0 - hp[kBeta1]);
    c.beta2 = static_cast<float>(beta2);
    c.one_minus_beta2 = static_cast<float>(1.0 - beta2);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.rectified = rho_t > 5.0 ? 1 : 0;
    if (c.rectified) {
      const double rect = ::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                 ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
      c.step_size = static_cast<float>(hp[kLr] * rect * ::sqrt(bc2) / bc1);
    } else {
      c.step_size = static_cast<float>(hp[kLr] / bc1);
    }
    return c;
  }

  FO_HD static int variant(const Consts& c) { return c.rectified ? 1 : 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    const M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    const M m = c.beta1 * static_cast<M>(s[0]) + c.one_minus_beta1 * g;
    const M v = c.beta2 * static_cast<M>(s[1]) + c.one_minus_beta2 * (g * g);
    if constexpr (V == 1) {
      p = static_cast<T>(pv - c.step_size * (m / (std::sqrt(v) + c.eps)));
    } else {
      p = static_cast<T>(pv - c.step_size * m);
    }
    s[0] = static_cast<T>(m);
    s[1] = static_cast<T>(v);
  }
};

}  // namespace fo::rules
