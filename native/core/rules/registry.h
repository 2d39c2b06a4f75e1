// The list of update rules. Adding a rule: write native/core/rules/<rule>.h, include it here
// and add it to FO_RULES (docs/design.md, "Adding a rule"). The CPU kernel table
// (cpu/kernels.inc), the CUDA dispatch (cuda/kernels.cu) and the tables the addon exports to
// TypeScript (addon.cc `rules`) are all generated from this list.
#pragma once

#include <algorithm>
#include <cstdint>

#include "adadelta.h"
#include "adagrad.h"
#include "adam.h"
#include "adamax.h"
#include "common.h"
#include "lamb.h"
#include "lion.h"
#include "nadam.h"
#include "radam.h"
#include "rmsprop.h"
#include "schedulefree_adamw.h"
#include "sgd.h"

namespace fo {

// X(Type, id): ids are the `native.code` of the TypeScript RuleSpecs and never change.
#define FO_RULES(X) \
  X(Sgd, 0)         \
  X(Adam, 1)        \
  X(Adagrad, 2)     \
  X(Rmsprop, 3)     \
  X(Adamax, 4)      \
  X(Adadelta, 5)    \
  X(NAdam, 6)       \
  X(RAdam, 7)       \
  X(Lion, 8)        \
  X(Lamb, 9)        \
  X(ScheduleFreeAdamW, 10)

enum class RuleId : int32_t {
#define FO_RULE_ENUM(T, id) T = id,
  FO_RULES(FO_RULE_ENUM)
#undef FO_RULE_ENUM
};

// Tables indexed by rule id have this many entries; ids need not be consecutive (a rule's id
// never changes once released), so some entries may be empty.
constexpr int kRuleCount = 1 + std::max({
#define FO_RULE_MAX(T, id) id,
    FO_RULES(FO_RULE_MAX)
#undef FO_RULE_MAX
});

// What the host needs to know about a rule without its type (type-erased).
struct RuleInfo {
  RuleId id;
  const char* name;
  int fields;
  const char* const* field_names;
  int slots;
  const char* const* slot_names;
  uint32_t norms;
  int consts_bytes;
  // Writes the Consts of applied step t for one group's hyperparameters into `out`.
  void (*make)(const double* hp, int64_t t, void* out);
  int (*variant)(const void* consts);
  // State slots variant v reads and writes, as a bit mask (bit k: `slot_names[k]`).
  uint32_t (*slot_mask)(int variant);
};

namespace detail {
template <class R>
void make_erased(const double* hp, int64_t t, void* out) {
  *static_cast<typename R::Consts*>(out) = R::make(hp, t);
}
template <class R>
int variant_erased(const void* c) {
  return R::variant(*static_cast<const typename R::Consts*>(c));
}
template <class R, int V = 0>
uint32_t slot_mask_erased(int v) {
  if constexpr (V < R::kVariants) {
    return v == V ? rules::slot_mask_v<R, V> : slot_mask_erased<R, V + 1>(v);
  } else {
    return (1u << R::kSlots) - 1u;
  }
}
template <class R>
constexpr RuleInfo info_of(RuleId id) {
  static_assert(R::kLr == 0, "field 0 of every rule is lr");
  static_assert(R::kFieldCount <= rules::kMaxFields, "raise rules::kMaxFields");
  static_assert(R::kSlots <= rules::kMaxSlots, "raise rules::kMaxSlots");
  static_assert(R::kVariants <= rules::kMaxVariants, "raise rules::kMaxVariants");
  static_assert(sizeof(typename R::Consts) % 4 == 0, "Consts are packed in 4-byte words");
  static_assert(sizeof(typename R::Consts) <= rules::kMaxConstsBytes, "raise rules::kMaxConstsBytes");
  return RuleInfo{id,         R::kName,       R::kFieldCount, R::kFields,
                  R::kSlots,  R::kSlotNames,  R::kNorms,      static_cast<int>(sizeof(typename R::Consts)),
                  &make_erased<R>, &variant_erased<R>, &slot_mask_erased<R>};
}
}  // namespace detail

// The rule with `id`, or null.
inline const RuleInfo* rule_info(int32_t id) {
  static const RuleInfo table[] = {
#define FO_RULE_INFO(T, id) detail::info_of<rules::T>(RuleId::T),
      FO_RULES(FO_RULE_INFO)
#undef FO_RULE_INFO
  };
  for (const RuleInfo& r : table) {
    if (static_cast<int32_t>(r.id) == id) return &r;
  }
  return nullptr;
}

// Calls f(R{}) with the rule type of `id` (a default-constructed tag); returns false when unknown.
template <class F>
bool with_rule(RuleId id, F&& f) {
  switch (id) {
#define FO_RULE_CASE(T, n) \
  case RuleId::T:          \
    f(rules::T{});         \
    return true;
    FO_RULES(FO_RULE_CASE)
#undef FO_RULE_CASE
  }
  return false;
}

}  // namespace fo
