#include "dispatch.h"

#include <atomic>
#include <cstdlib>

namespace fo::cpu {
namespace {

bool cpu_has(const std::string& name) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (name == "avx512") {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  if (name == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return name == "baseline";
}

const KernelTable* table_for(const std::string& name) {
#if defined(__x86_64__) || defined(__i386__)
  if (name == "avx512") return &avx512::table;
  if (name == "avx2") return &avx2::table;
#endif
  if (name == "baseline") return &baseline::table;
  return nullptr;
}

const KernelTable* pick_default() {
  if (const char* env = std::getenv("FUSED_OPTIM_SIMD")) {
    std::string want(env);
    if (cpu_has(want) && table_for(want)) return table_for(want);
  }
  for (const auto& name : supported_simd()) {
    if (const KernelTable* t = table_for(name)) return t;
  }
  return &baseline::table;
}

std::atomic<const KernelTable*> g_table{nullptr};

}  // namespace

std::vector<std::string> supported_simd() {
  std::vector<std::string> out;
  for (const char* name : {"avx512", "avx2", "baseline"}) {
    if (cpu_has(name) && table_for(name)) out.emplace_back(name);
  }
  return out;
}

const KernelTable& kernels() {
  const KernelTable* t = g_table.load(std::memory_order_acquire);
  if (!t) {
    t = pick_default();
    g_table.store(t, std::memory_order_release);
  }
  return *t;
}

bool set_simd(const std::string& name) {
  if (!cpu_has(name)) return false;
  const KernelTable* t = table_for(name);
  if (!t) return false;
  g_table.store(t, std::memory_order_release);
  return true;
}

}  // namespace fo::cpu
