#pragma once

#include <string>
#include <vector>

#include "kernels.h"

namespace fo::cpu {

// The kernel table in use. Chosen once at load: FUSED_OPTIM_SIMD=avx512|avx2|baseline when set
// (and supported), else the best level this CPU supports.
const KernelTable& kernels();

// Levels this CPU can run, best first.
std::vector<std::string> supported_simd();

// Switches the level (for tests and benchmarks). Returns false when unsupported or unknown.
bool set_simd(const std::string& name);

}  // namespace fo::cpu
