// The decide step of every backend: from the folded gradient sums to the step's outcome (skip,
// clip coefficient, applied-step count) and its records. The CPU engine calls it after its
// reduction; the CUDA finalize kernel calls it on the device. One definition, so both backends
// decide identically from identical sums.
#pragma once

#include <cmath>
#include <cstdint>

#include "hd.h"
#include "step_args.h"

namespace fo {

struct Outcome {
  double l2 = 0.0;
  double l1 = 0.0;
  double clip = 1.0;
  bool skipped = false;
  bool non_finite = false;
  int64_t applied = 0;   // applied-step count after this step
};

// `two_pass`: the update has not run yet (clipping or skipping). In one pass the update already
// ran with clip 1, so nothing is skipped and the count moves. Sums of |g| in double cannot
// overflow from finite floats, so a non-finite sum means a NaN or an Inf in the gradient.
// The clip coefficient is min(1, max / (norm + 1e-6)), in double, as torch's clip_grad_norm_.
// x - x is 0 for every finite x and NaN for NaN and ±Inf, on every backend alike.
FO_HD bool finite(double x) { return x - x == 0.0; }

FO_HD Outcome decide(double sq, double abs_sum, bool two_pass, bool skip_non_finite,
                     bool clipping, double max_grad_norm, int64_t applied_before) {
  Outcome o;
  o.non_finite = !finite(sq) || !finite(abs_sum);
  o.l2 = ::sqrt(sq);
  o.l1 = abs_sum;
  o.skipped = two_pass && skip_non_finite && o.non_finite;
  if (two_pass && !o.skipped && clipping) {
    const double c = max_grad_norm / (o.l2 + 1e-6);
    o.clip = c < 1.0 ? c : 1.0;
  }
  o.applied = o.skipped ? applied_before : applied_before + 1;
  return o;
}

FO_HD void write_outcome(const Outcome& o, double* out) {
  out[kOutL2] = o.l2;
  out[kOutL1] = o.l1;
  out[kOutClipCoef] = o.clip;
  out[kOutSkipped] = o.skipped ? 1.0 : 0.0;
  out[kOutNonFinite] = o.non_finite ? 1.0 : 0.0;
  out[kOutApplied] = static_cast<double>(o.applied);
}

FO_HD void write_trace_record(const Outcome& o, double lr, double* rec) {
  rec[0] = o.l2;
  rec[1] = o.l1;
  rec[2] = lr;
  rec[3] = o.skipped ? 1.0 : 0.0;
}

}  // namespace fo
