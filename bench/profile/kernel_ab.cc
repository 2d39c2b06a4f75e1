// A/B harness: the Adam loop (with the fused reduction, and without) of several builds of
// native/cpu/kernels.inc (the checkout and patched copies), linked side by side and timed in
// interleaved rounds, so that a shared machine's drift hits every variant alike. Each
// variant is compiled by bench/profile/ab.sh into namespace fo::cpu::v<k> (FO_ISA_NS).
//
//   kernel_ab <variant names...>   (given by ab.sh, in the order of the tables)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "native/cpu/kernels.h"

#define FO_DECLARE(k) \
  namespace fo::cpu::v##k { extern const KernelTable table; }
FO_DECLARE(0)
FO_DECLARE(1)
FO_DECLARE(2)
FO_DECLARE(3)
FO_DECLARE(4)
FO_DECLARE(5)

using namespace fo;
using namespace fo::cpu;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const AdamConsts kAdam{0.9f, 0.1f, 0.999f, 0.001f, 1e-8f, 0.f, 1.f, 1e-3f, 1.0f};

// Runs fn(begin, len) over chunks of 16384 on `threads` threads (fresh threads per call:
// they start spinning before the clock starts).
template <class Fn>
double timed(int64_t n, int threads, const Fn& fn) {
  const int64_t chunk = 1 << 14, nch = (n + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  auto work = [&] {
    for (;;) {
      int64_t c0 = next.fetch_add(4);
      if (c0 >= nch) break;
      for (int64_t c = c0; c < std::min(c0 + 4, nch); ++c) fn(c * chunk, std::min(n, (c + 1) * chunk) - c * chunk);
    }
  };
  std::vector<std::thread> ts;
  for (int t = 1; t < threads; ++t) {
    ts.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load()) {
      }
      work();
    });
  }
  while (ready.load() < threads - 1) {
  }
  double t0 = now();
  go = true;
  work();
  for (auto& t : ts) t.join();
  return now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  const KernelTable* tables[] = {&v0::table, &v1::table, &v2::table, &v3::table, &v4::table, &v5::table};
  std::vector<std::string> names;
  for (int i = 1; i < argc && i <= 6; ++i) names.emplace_back(argv[i]);
  const int nv = static_cast<int>(names.size());
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  struct Case { int64_t n; int threads; int reps; };
  std::vector<Case> cases = {{16384, 1, 3000}, {1000000, 1, 150}, {30000000, 1, 12}};
  if (hw > 1) {
    cases.push_back({1000000, hw, 150});
    cases.push_back({30000000, hw, 12});
  }
  for (const Case& cs : cases) {
    const int64_t n = cs.n;
    std::vector<float> p(n), g(n), m(n), v(n);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < n; ++i) {
      p[i] = u(rng);
      g[i] = u(rng);
      m[i] = 0.1f * g[i];
      v[i] = 0.01f * g[i] * g[i] + 1e-6f;
    }
    // entries: floor, then per variant: adam+reduce, adam no reduce
    const int ne = 1 + 2 * nv;
    std::vector<std::vector<double>> t(ne);
    std::atomic<double> sink{0};
    for (int r = 0; r < cs.reps + 1; ++r) {
      for (int e = 0; e < ne; ++e) {
        double dt;
        if (e == 0) {
          dt = timed(n, cs.threads, [&](int64_t b, int64_t len) { tables[0]->stream4r3w(&p[b], &g[b], &m[b], &v[b], len, 1e-9f); });
        } else {
          const KernelTable* k = tables[(e - 1) / 2];
          const bool red = (e - 1) % 2 == 0;
          dt = timed(n, cs.threads, [&](int64_t b, int64_t len) {
            Partial q = k->adam(&p[b], &g[b], &m[b], &v[b], len, 1.f, 1.f, kAdam, red);
            if (red) sink = sink + q.sq;
          });
        }
        if (r > 0) t[e].push_back(dt * 1e9 / n);
      }
    }
    auto med = [&](int e) {
      std::vector<double> x = t[e];
      std::sort(x.begin(), x.end());
      return x[x.size() / 2];
    };
    // paired per-round ratio floor/step
    auto frac = [&](int e) {
      std::vector<double> x;
      for (size_t i = 0; i < t[e].size(); ++i) x.push_back(t[0][i] / t[e][i]);
      std::sort(x.begin(), x.end());
      return x[x.size() / 2];
    };
    std::printf("n=%lld threads=%d: floor %.3f ns/param (%.1f GB/s)\n", static_cast<long long>(n), cs.threads, med(0), 28 / med(0));
    for (int k = 0; k < nv; ++k) {
      const int er = 1 + 2 * k, en = 2 + 2 * k;
      std::printf("  %-28s adam+reduce %.3f  no reduce %.3f ns/param  reduce +%3.0f%%  floor/step %3.0f%% (no reduce %3.0f%%)\n",
                  names[k].c_str(), med(er), med(en), 100 * (med(er) / med(en) - 1), 100 * frac(er), 100 * frac(en));
    }
  }
  return 0;
}
