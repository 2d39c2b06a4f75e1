// Schedule-free AdamW, the memory-lean form of `AdamWScheduleFree` in
// facebookresearch/schedule_free (schedulefree/adamw_schedulefree.py, release 1.3): the
// parameter slot holds y (the point gradients are taken at), state slot 0 holds z and slot 1
// v (exp_avg_sq). For applied step t (1-based, k = t - 1):
//   sched  = k < warmupSteps ? (k + 1) / warmupSteps : 1
//   lr_t   = lr * sched                                 bc2 = 1 - beta2^t
//   ckp1   = weight_t / sum of weights so far (derived on the host: it depends on the history
//            of lr_max; see src/optim/rules/schedulefree-adamw.ts)
// and each element, with g already unscaled and multiplied by the clip coefficient:
//   v   = beta2 * v + (1 - beta2) * g * g
//   gn  = g / (sqrt(v) / sqrt(bc2) + eps) + weightDecay * y     (weight decay at y)
//   y   = y + ckp1 * (z - y)
//   y  += lr_t * (beta1 * (1 - ckp1) - 1) * gn
//   z  -= lr_t * gn
// The reference creates z as a copy of the parameters at the first step; here variant 1
// (the first applied step) does that in the same pass, so parameters written after
// construction (zero-copy views, setParams) are the starting point, as in the reference.
#pragma once

#include <cmath>
#include <cstdint>

#include "../hd.h"
#include "common.h"

namespace fo::rules {

struct ScheduleFreeAdamW {
  static constexpr const char* kName = "schedulefree_adamw";
  enum Field : int {
    kLr,
    kBeta1,
    kBeta2,
    kEps,
    kWeightDecay,
    kWarmupSteps,
    kR,
    kWeightLrPower,
    kCkp1,  // derived on the host from the group's weight sum
    kFieldCount
  };
  static constexpr const char* kFields[kFieldCount] = {"lr",          "beta1", "beta2",         "eps", "weightDecay",
                                                       "warmupSteps", "r",     "weightLrPower", "ckp1"};
  static constexpr int kSlots = 2;
  static constexpr const char* kSlotNames[kSlots] = {"z", "exp_avg_sq"};
  static constexpr uint32_t kNorms = kNeedsGradNorms;
  static constexpr int kVariants = 2;  // 0: a step; 1: the first applied step (z = y first)
  template <int V>
  FO_HD static constexpr int slots_used() { return 2; }

  struct Consts {
    float beta2;
    float one_minus_beta2;
    float eps;
    float weight_decay;
    float inv_sqrt_bc2;  // 1 / sqrt(1 - beta2^t)
    float ckp1;          // weight of z in the average
    float y_step;        // lr_t * (beta1 * (1 - ckp1) - 1)
    float z_step;        // lr_t
    int32_t first;       // 1 on the first applied step
  };

  FO_HD static Consts make(const double* hp, int64_t t) {
    const double k = static_cast<double>(t - 1);
    const double warmup = hp[kWarmupSteps];
    const double sched = k < warmup ? (k + 1.0) / warmup : 1.0;
    const double lr = hp[kLr] * sched;
    const double bc2 = 1.0 - ::pow(hp[kBeta2], static_cast<double>(t));
    const double ckp1 = hp[kCkp1];
    Consts c;
    c.beta2 = static_cast<float>(hp[kBeta2]);
    c.one_minus_beta2 = static_cast<float>(1.0 - hp[kBeta2]);
    c.eps = static_cast<float>(hp[kEps]);
    c.weight_decay = static_cast<float>(hp[kWeightDecay]);
    c.inv_sqrt_bc2 = static_cast<float>(1.0 / ::sqrt(bc2));
    c.ckp1 = static_cast<float>(ckp1);
    c.y_step = static_cast<float>(lr * (hp[kBeta1] * (1.0 - ckp1) - 1.0));
    c.z_step = static_cast<float>(lr);
    c.first = t == 1 ? 1 : 0;
    return c;
  }

  FO_HD static int variant(const Consts& c) { return c.first; }

  template <int V, class T, class M = float>
  FO_HD static void update(T& p, M g, T* s, const Consts& c) {
    M y = static_cast<M>(p);
    M z = V == 1 ? y : static_cast<M>(s[0]);
    const M v = c.beta2 * static_cast<M>(s[1]) + c.one_minus_beta2 * (g * g);
    const M denom = std::sqrt(v) * c.inv_sqrt_bc2 + c.eps;
    const M gn = g / denom + c.weight_decay * y;
    y = y + c.ckp1 * (z - y);
    y = y + c.y_step * gn;
    z = z - c.z_step * gn;
    p = static_cast<T>(y);
    s[0] = static_cast<T>(z);
    s[1] = static_cast<T>(v);
  }
};

}  // namespace fo::rules
