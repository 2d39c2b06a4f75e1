// Unit test of native/core/lazy_outcomes.h, the outcome bookkeeping of the CUDA backend:
// which step each ring slot holds, and the host's guess of the device's applied-step count,
// which picks the bias-correction constants a CUDA step is sent with (a wrong guess makes the
// device re-derive them). Compiled and run by test/native/lazy-outcomes.test.ts.
#include <cstdio>

#include "../../native/core/lazy_outcomes.h"

static int failures = 0;
#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    const long long va = static_cast<long long>(a), vb = static_cast<long long>(b);          \
    if (va != vb) {                                                                          \
      std::printf("FAIL line %d: %s == %lld, expected %s == %lld\n", __LINE__, #a, va, #b, vb); \
      ++failures;                                                                            \
    }                                                                                        \
  } while (0)

int main() {
  {
    // The guess: every step with an outcome is assumed applied until an outcome says otherwise.
    fo::LazyOutcomes o(1024);
    CHECK_EQ(o.next_t(), 1);
    for (int i = 0; i < 3; ++i) o.enqueued(i, true);
    CHECK_EQ(o.next_t(), 4);
    // Step 1's outcome: applied 1 after it (step 0 was skipped on the device).
    o.read(o.holding(1, 3), 1);
    CHECK_EQ(o.next_t(), 3);  // 1, plus step 2 assumed applied, plus one
    // An older outcome read later does not undo newer knowledge.
    o.read(o.holding(0, 3), 0);
    CHECK_EQ(o.next_t(), 3);
    // Step 2's outcome: skipped too.
    o.read(o.holding(2, 3), 1);
    CHECK_EQ(o.next_t(), 2);
    // Set (setCounters / an exact read): outcomes of earlier steps no longer correct it.
    o.applied_is(10);
    CHECK_EQ(o.next_t(), 11);
    o.read(o.holding(2, 3), 1);
    CHECK_EQ(o.next_t(), 11);
    // A step without an outcome (benchmark): no slot, no move.
    o.enqueued(3, false);
    CHECK_EQ(o.holding(3, 4), -1);
    CHECK_EQ(o.next_t(), 11);
    o.enqueued(4, true);
    CHECK_EQ(o.next_t(), 12);
    CHECK_EQ(o.holding(4, 5), 4);
    // After the set, a newer outcome corrects again.
    o.read(o.holding(4, 5), 10);
    CHECK_EQ(o.next_t(), 11);
  }
  {
    // Slots: the last `capacity` steps, by iteration.
    fo::LazyOutcomes o(4);
    for (int i = 0; i < 6; ++i) o.enqueued(i, true);
    CHECK_EQ(o.holding(1, 6), -1);  // overwritten by step 5
    CHECK_EQ(o.holding(2, 6), 2);
    CHECK_EQ(o.holding(5, 6), 1);
    CHECK_EQ(o.holding(6, 6), -1);  // not taken yet
    CHECK_EQ(o.holding(-1, 6), -1);
    // Rewind to iteration 3: nothing held is a step of the new numbering.
    o.forget();
    for (int i = 0; i < 6; ++i) CHECK_EQ(o.holding(i, 3), -1);
    o.enqueued(3, true);
    CHECK_EQ(o.holding(3, 4), 3);
    CHECK_EQ(o.holding(2, 4), -1);
    // The guess survives a rewind: it counts steps, not iterations.
    CHECK_EQ(o.next_t(), 8);
  }
  if (failures == 0) std::printf("lazy_outcomes_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
