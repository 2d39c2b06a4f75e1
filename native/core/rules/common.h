// What every rule header declares, and the limits the backends size their tables by.
//
// A rule is a struct with:
//   kName                 its name (the TypeScript RuleSpec's `native` name)
//   Field, kFields        one group's hyperparameters, in packing order; field 0 is lr
//   kSlots, kSlotNames    its state arrays besides params and grads (checkpoint names)
//   kNorms                which reductions it needs (kNeeds* bits)
//   kVariants, slots_used<V>()   compile-time specialisations (e.g. SGD with and without
//                         momentum) and how many state slots each reads and writes (the
//                         first slots_used<V>() slots); a rule whose variants use slots that
//                         are not a prefix (RMSprop: centered without momentum uses slots 0
//                         and 2) declares slot_mask<V>() instead (bit k: slot k)
//   Consts, make(hp, t)   per-step constants of one group for applied step t (1-based),
//                         derived in double on the host or the device (FO_HD)
//   variant(consts)       which specialisation a group's constants select
//   update<V, T, M>(p, g, s, consts)   one element: T is the storage type, M the math type
//                         (rules with kNeedsTrustRatio have prepare/apply instead)
#pragma once

#include <cstdint>
#include <type_traits>

namespace fo::rules {

enum Norms : uint32_t {
  kNeedsGradNorms = 1u << 0,   // global L2/L1 of the gradient (every rule: clipping, trace)
  // Per-tensor norms of p and of the rule's update u before the update (LAMB): the rule has
  // prepare<V>(p, g, s, c) -> u and apply<V>(p, s, c, ratio) instead of update<V>.
  kNeedsTrustRatio = 1u << 1,
};

constexpr int kMaxSlots = 3;       // state slots of the largest rule
constexpr int kMaxVariants = 4;    // variants of the rule with the most
constexpr int kMaxFields = 12;     // hyperparameter fields per group (the packing stride)
constexpr int kMaxConstsBytes = 64;  // sizeof(Consts) of the largest rule

// The state slots variant V of rule R reads and writes, as a bit mask (bit k: slot k): the
// rule's slot_mask<V>() when it declares one, else its first slots_used<V>() slots. The CPU
// loops and the CUDA chunk body load and store exactly these slots.
template <class R, int V, class = void>
struct SlotMask {
  static constexpr uint32_t value = (1u << R::template slots_used<V>()) - 1u;
};
template <class R, int V>
struct SlotMask<R, V, std::void_t<decltype(R::template slot_mask<V>())>> {
  static constexpr uint32_t value = R::template slot_mask<V>();
};
template <class R, int V>
constexpr uint32_t slot_mask_v = SlotMask<R, V>::value;

}  // namespace fo::rules
