// Host-side bookkeeping of a backend whose step outcomes are computed later (on a device) and
// read on demand ("lazy" outcomes): which step each slot of the outcome ring holds, and the
// host's running guess of the device's applied-step count. Plain C++, no device code: the CUDA
// backend and the test backend (native/addon/test_backend.h) share it, so its logic runs in
// tests on machines without a GPU.
//
// Outcomes are keyed by iteration. An iteration number names one step only until the counters
// are set again (loadStateDict / setCounters rewinds them): forget() then drops every slot, so
// an old unread outcome can never be mistaken for the outcome of a newer step with the same
// number.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace fo {

class LazyOutcomes {
 public:
  explicit LazyOutcomes(int64_t capacity)
      : tag_(static_cast<size_t>(capacity), -1), seq_(static_cast<size_t>(capacity), 0),
        capacity_(capacity) {}

  int64_t capacity() const { return capacity_; }
  int64_t slot(int64_t iteration) const { return iteration % capacity_; }

  // The applied count the next step reaches if it is applied (the `t` of its bias correction),
  // as far as the host knows: the last known count plus every step with an outcome since,
  // each assumed applied until an outcome says otherwise.
  int64_t next_t() const { return known_ + (enqueued_ - known_at_) + 1; }

  // Step `iteration` was enqueued. A step with an outcome writes it to slot(iteration) (and may
  // move the applied count); one without (a benchmark step) leaves that slot empty.
  void enqueued(int64_t iteration, bool has_outcome) {
    const size_t s = static_cast<size_t>(slot(iteration));
    if (has_outcome) {
      ++enqueued_;
      tag_[s] = iteration;
      seq_[s] = enqueued_;
    } else {
      tag_[s] = -1;
    }
  }

  // The slot holding the outcome of step `iteration`, or -1 when none does (not taken yet, no
  // outcome, overwritten by a later step, or forgotten). `next` is the iteration of the next step.
  int64_t holding(int64_t iteration, int64_t next) const {
    if (iteration < 0 || iteration >= next || iteration < next - capacity_) return -1;
    const int64_t s = slot(iteration);
    return tag_[static_cast<size_t>(s)] == iteration ? s : -1;
  }

  // The outcome in `slot` was read: the device's applied count after that step was `applied`.
  // It corrects the guess unless something newer is known already.
  void read(int64_t slot, int64_t applied) {
    const int64_t seq = seq_[static_cast<size_t>(slot)];
    if (seq > known_at_) {
      known_ = applied;
      known_at_ = seq;
    }
  }

  // The device's applied count is `a` once every step enqueued so far has run (it was set, or
  // read after all of them).
  void applied_is(int64_t a) {
    known_ = a;
    known_at_ = enqueued_;
  }

  // The iteration numbering changed: no slot holds a step under its new number.
  void forget() { std::fill(tag_.begin(), tag_.end(), int64_t{-1}); }

 private:
  std::vector<int64_t> tag_;  // iteration whose outcome each slot holds, -1 none
  std::vector<int64_t> seq_;  // that step's ordinal among the steps with an outcome
  int64_t capacity_;
  int64_t enqueued_ = 0;      // steps with an outcome enqueued so far
  int64_t known_ = 0;         // the device's applied count after the known_at_-th of them
  int64_t known_at_ = 0;
};

}  // namespace fo
