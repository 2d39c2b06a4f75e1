// NAdam (torch.optim.NAdam of PyTorch 2.x, the single-tensor path, decoupled_weight_decay=False):
//   g      = grad (already unscaled and multiplied by the clip coefficient) + wd * p
//   mu_t   = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
//   m      = beta1 * m + (1 - beta1) * g
//   v      = beta2 * v + (1 - beta2) * g * g
//   denom  = sqrt(v / (1 - beta2^t)) + eps
//   p     += coef_grad * g / denom + coef_momentum * m / denom
// with coef_grad = -lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) and
//      coef_momentum = -lr mu_{t+1} / (1 - prod_{i<=t} mu_i * mu_{t+1}).
// The mu product depends on the run's history (beta1 and momentum_decay may change between
// steps), so it is host state: the TypeScript RuleSpec (src/optim/rules/nadam.ts) keeps it per
// group, advances it after every applied step, and packs the two coefficients as the fields
// kCoefGrad and kCoefMomentum, derived in double for the step being taken. t counts applied
// (not skipped) steps, 1-based.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct NAdam {
  static constexpr const char* kName = "nadam";
  enum Field : int {
    kLr,
    kBeta1,
    kBeta2,
    kEps,
    kWeightDecay,
    kMomentumDecay,
    kCoefGrad,       // derived on the host from the mu product (see above)
    kCoefMomentum,   // derived on the host from the mu product
    kFieldCount
  };
  static constexpr const char* kFields[kFieldCount] = {"lr",          "beta1",         "beta2",
                                                       "eps",         "weightDecay",   "momentumDecay",
                                                       "coefGrad",    "coefMomentum"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"exp_avg", "exp_avg_sq"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 1;
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  struct Consts {
    float beta1;
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float eps;
    float weight_decay;
    float inv_sqrt_bc2;    // 1 / sqrt(1 - beta2^t)
    float coef_grad;       // -lr (1 - mu_t) / (1 - prod mu)
    float coef_momentum;   // -lr mu_{t+1} / (1 - prod mu * mu_{t+1})
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    const double bc2 = 1.0 - ::pow(hp[kBeta2], static_cast<double>(t));
    Consts c;
    c.beta1 = static_cast<float>(hp[kBeta1]);
    c.one_minus_beta1 = static_cast<float>(1.0 - hp[kBeta1]);
    c.beta2 = static_cast<float>(hp[kBeta2]);
    c.one_minus_beta2 = static_cast<float>(1.0 - hp[kBeta2]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.inv_sqrt_bc2 = static_cast<float>(1.0 / ::sqrt(bc2));
    c.coef_grad = static_cast<float>(hp[kCoefGrad]);
    c.coef_momentum = static_cast<float>(hp[kCoefMomentum]);
    return c;
  }

  FO_HD static int variant(const Consts&) { return 0; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    M pv = static_cast<M>(p);
    g = g + c.weight_decay * pv;
    const M m = c.beta1 * static_cast<M>(s[0]) + c.one_minus_beta1 * g;
    const M v = c.beta2 * static_cast<M>(s[1]) + c.one_minus_beta2 * (g * g);
    const M denom = std::sqrt(v) * c.inv_sqrt_bc2 + c.eps;
    pv = pv + c.coef_grad * (g / denom);
    pv = pv + c.coef_momentum * (m / denom);
    p = static_cast<T>(pv);
    s[0] = static_cast<T>(m);
    s[1] = static_cast<T>(v);
  }
};

}  // namespace fo::rules
