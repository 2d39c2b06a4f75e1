// CPU loops over one contiguous range, compiled once per SIMD level (kernels_<isa>.cc) and
// chosen at run time (dispatch.cc). The per-element math comes from core/rules.h.
#pragma once

#include <cstdint>

#include "../core/rules.h"
#include "../core/step_args.h"

namespace fo::cpu {

struct KernelTable {
  const char* name;
  // Sum of (g*scale)^2 and |g*scale| over n elements.
  Partial (*reduce)(const float* g, int64_t n, float scale);
  // Fused Adam: when `with_reduce`, also returns the sums of the unscaled gradient.
  // The gradient used by the rule is (g * scale) * clip.
  Partial (*adam)(float* p, const float* g, float* m, float* v, int64_t n, float scale, float clip,
                  const AdamConsts& c, bool with_reduce);
  // Fused SGD; `buf` may be null when momentum is 0.
  Partial (*sgd)(float* p, const float* g, float* buf, int64_t n, float scale, float clip,
                 const SgdConsts& c, bool with_reduce);
  // The memory floor's loop: reads 4 arrays, writes 3, like an Adam step (see bench/).
  void (*stream4r3w)(float* a, const float* b, float* c, float* d, int64_t n, float s);
};

namespace avx512 { extern const KernelTable table; }
namespace avx2 { extern const KernelTable table; }
namespace baseline { extern const KernelTable table; }

}  // namespace fo::cpu
