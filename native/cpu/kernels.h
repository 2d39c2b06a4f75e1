// CPU loops over one contiguous range, compiled once per SIMD level (kernels_<isa>.cc) and
// chosen at run time (dispatch.cc). The per-element math comes from core/rules/*.h; the table
// of update loops is generated from the rule list (core/rules/registry.h).
#pragma once

#include <cstdint>

#include "../core/rules/registry.h"
#include "../core/step_args.h"

namespace fo::cpu {

// One chunk of one tensor: the arrays start at the chunk's first element.
struct ChunkArgs {
  float* p;
  const float* g;
  float* s[rules::kMaxSlots];   // the rule's state slots (unused ones null)
  int64_t n;
  float scale;                  // gradScale: the rule sees (g * scale) * clip
  float clip;
  const void* consts;           // the group's Rule::Consts
};

// Updates one chunk; when `reduce`, also returns the sums of the unscaled gradient g * scale.
using UpdateFn = Partial (*)(const ChunkArgs& a);

// Rules with a trust ratio (rules::kNeedsTrustRatio): updates the moments of one chunk and
// returns {Σp², Σu²} (in Partial's sq and abs); then moves p by lr · ratio · u.
using PrepareFn = Partial (*)(const ChunkArgs& a);
using ApplyFn = void (*)(const ChunkArgs& a, float ratio);

struct RuleLoops {
  UpdateFn update[rules::kMaxVariants][2];   // [variant][reduce]
  PrepareFn prepare[rules::kMaxVariants];
  ApplyFn apply[rules::kMaxVariants];
};

struct KernelTable {
  const char* name;
  // Sum of (g*scale)^2 and |g*scale| over n elements.
  Partial (*reduce)(const float* g, int64_t n, float scale);
  RuleLoops rules[kRuleCount];   // indexed by RuleId
  // Benchmarks only: the memory floor's loop (reads 4 arrays, writes 3, like an Adam step).
  void (*stream4r3w)(float* a, const float* b, float* c, float* d, int64_t n, float s);
};

namespace avx512 { extern const KernelTable table; }
namespace avx2 { extern const KernelTable table; }
namespace baseline { extern const KernelTable table; }

}  // namespace fo::cpu
