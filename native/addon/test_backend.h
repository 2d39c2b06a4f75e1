// TEST HOOK, not part of the API: a CPU optimizer whose step outcomes are lazy, kept in a ring
// and read on demand with the same bookkeeping as the CUDA backend (core/lazy_outcomes.h). It
// lets the tests exercise what only a device backend does (lazy StepInfo, counters rewound by
// loadStateDict) on machines without a GPU. The addon creates it for the device name
// kTestLazyDevice only when the environment has FUSED_OPTIM_TEST_HOOKS=1.
#pragma once

#include <memory>

#include "../core/backend.h"

namespace fo::addon {

constexpr const char* kTestLazyDevice = "test:lazy-cpu";

// Whether FUSED_OPTIM_TEST_HOOKS=1 is set.
bool test_hooks_enabled();

std::unique_ptr<OptimizerBackend> make_test_lazy_backend(Kind kind, Layout layout,
                                                         int64_t trace_capacity, int threads);

}  // namespace fo::addon
