// Kernel cost harness: ns per parameter of the CPU backend's loops, compiled against
// native/cpu/kernels_<isa>.cc with the build's flags (bench/profile/run.sh builds and runs it).
//
// It answers "where does a fused step's time go": the Adam/SGD loop with the fused reduction
// (sum g², sum |g|) on and off, the reduction alone, and the floor loop (4 arrays read, 3
// written), interleaved round by round, in cache and out of it, on 1 and N threads (the same
// fixed chunks of 16384 handed out 4 at a time, like the pool). Then the cost of one call on a
// tiny range (the per-chunk cost that the many-tensor layout pays once per tensor), and a hash
// of results so two builds (e.g. with and without a patch) can be checked for equal bits.
//
//   kernel_cost [isa=avx2|baseline|avx512] [threads=N] [quick] [hash]
#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "native/cpu/kernels.h"

using namespace fo;
using namespace fo::cpu;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

using Body = std::function<void(int64_t, int64_t)>;

// Workers that spin on a generation counter, chunks handed out 4 at a time (as the addon).
class Team {
 public:
  explicit Team(int n) : n_(n) {
    for (int t = 1; t < n; ++t) {
      workers_.emplace_back([this] {
        uint64_t seen = 0;
        for (;;) {
          uint64_t g;
          while ((g = gen_.load(std::memory_order_acquire)) == seen) std::this_thread::yield();
          seen = g;
          if (stop_) return;
          work();
          done_.fetch_add(1, std::memory_order_acq_rel);
        }
      });
    }
  }
  ~Team() {
    stop_ = true;
    gen_.fetch_add(1);
    for (auto& w : workers_) w.join();
  }
  void run(int64_t n, const Body& body) {
    n_elems_ = n;
    body_ = &body;
    next_ = 0;
    done_ = 0;
    gen_.fetch_add(1, std::memory_order_acq_rel);
    work();
    while (done_.load(std::memory_order_acquire) < n_ - 1) std::this_thread::yield();
  }

 private:
  void work() {
    const int64_t chunk = 1 << 14, nch = (n_elems_ + chunk - 1) / chunk;
    for (;;) {
      int64_t c0 = next_.fetch_add(4);
      if (c0 >= nch) break;
      for (int64_t c = c0; c < std::min(c0 + 4, nch); ++c) {
        int64_t b = c * chunk;
        (*body_)(b, std::min(n_elems_, b + chunk) - b);
      }
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> done_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<bool> stop_{false};
  int64_t n_elems_ = 0;
  const Body* body_ = nullptr;
};

struct Arrays {
  std::vector<float> p, g, m, v;
  explicit Arrays(int64_t n) : p(n), g(n), m(n), v(n) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int64_t i = 0; i < n; ++i) {
      p[i] = u(rng);
      g[i] = u(rng);
      m[i] = 0.1f * g[i];
      v[i] = 0.01f * g[i] * g[i] + 1e-6f;
    }
  }
};

const AdamConsts kAdam{0.9f, 0.1f, 0.999f, 0.001f, 1e-8f, 0.f, 1.f, 1e-3f, 1.0f};
const SgdConsts kSgd{1e-3f, 0.9f, 1.f, 0.f, 0, 0, 1};

void sweep(const KernelTable& k, int64_t n, int threads, int reps) {
  Arrays a(n);
  Team team(threads);
  std::atomic<double> sink{0};
  const char* names[] = {"floor 4r3w", "adam +reduce", "adam no reduce", "sgd-mom +reduce", "sgd-mom no reduce", "reduce only"};
  std::vector<Body> bodies = {
      [&](int64_t b, int64_t len) { k.stream4r3w(&a.p[b], &a.g[b], &a.m[b], &a.v[b], len, 1e-9f); },
      [&](int64_t b, int64_t len) { sink = sink + k.adam(&a.p[b], &a.g[b], &a.m[b], &a.v[b], len, 1.f, 1.f, kAdam, true).sq; },
      [&](int64_t b, int64_t len) { k.adam(&a.p[b], &a.g[b], &a.m[b], &a.v[b], len, 1.f, 1.f, kAdam, false); },
      [&](int64_t b, int64_t len) { sink = sink + k.sgd(&a.p[b], &a.g[b], &a.m[b], len, 1.f, 1.f, kSgd, true).sq; },
      [&](int64_t b, int64_t len) { k.sgd(&a.p[b], &a.g[b], &a.m[b], len, 1.f, 1.f, kSgd, false); },
      [&](int64_t b, int64_t len) { sink = sink + k.reduce(&a.g[b], len, 1.f).sq; },
  };
  std::vector<std::vector<double>> t(bodies.size());
  for (int r = 0; r < reps + 1; ++r) {
    for (size_t j = 0; j < bodies.size(); ++j) {
      double t0 = now();
      team.run(n, bodies[j]);
      if (r > 0) t[j].push_back((now() - t0) * 1e9 / n);
    }
  }
  std::vector<double> med(bodies.size());
  for (size_t j = 0; j < bodies.size(); ++j) {
    auto& x = t[j];
    std::sort(x.begin(), x.end());
    med[j] = x[x.size() / 2];
  }
  for (size_t j = 0; j < bodies.size(); ++j) {
    const double bytes = j == 0 || j <= 2 ? 28 : j <= 4 ? 20 : 4;
    std::printf("  %-18s n=%-9lld threads=%d  median %6.3f ns/param  p25 %6.3f  p75 %6.3f  (%5.1f GB/s)", names[j],
                static_cast<long long>(n), threads, med[j], t[j][t[j].size() / 4], t[j][3 * t[j].size() / 4], bytes / med[j]);
    if (j == 1) std::printf("  reduce +%.0f%%", 100 * (med[1] / med[2] - 1));
    if (j == 3) std::printf("  reduce +%.0f%%", 100 * (med[3] / med[4] - 1));
    if (j == 1 || j == 3) std::printf("  floor/step %.0f%%", 100 * med[0] * (j == 3 ? 20.0 / 28 : 1) / med[j]);
    std::printf("\n");
  }
}

void per_call(const KernelTable& k) {
  Arrays a(4096);
  std::printf("per call on a tiny range (the per-chunk cost; best of 15 x 20000 calls):\n");
  for (int n : {1, 5, 16, 64, 256, 1000}) {
    double best[2] = {1e9, 1e9};
    for (int red = 0; red < 2; ++red) {
      for (int r = 0; r < 15; ++r) {
        double s = 0, t0 = now();
        for (int i = 0; i < 20000; ++i) s += k.adam(a.p.data(), a.g.data(), a.m.data(), a.v.data(), n, 1.f, 1.f, kAdam, red).sq;
        double dt = (now() - t0) / 20000;
        if (s == 42.0) std::printf(" ");
        best[red] = std::min(best[red], dt);
      }
    }
    std::printf("  adam n=%-5d  no reduce %7.1f ns   +reduce %7.1f ns\n", n, best[0] * 1e9, best[1] * 1e9);
  }
}

uint64_t fnv(const void* p, size_t n, uint64_t h) {
  auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

// A hash of sums and updated arrays over awkward lengths, also with huge finite gradients
// (float block sums overflow) and a NaN: equal hashes = equal bits.
uint64_t result_hash(const KernelTable& k) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t n : {1, 7, 16, 17, 255, 256, 257, 4099, 16384, 100003})
  for (int special = 0; special < 3; ++special) {
    Arrays a(n);
    if (special == 1) for (int64_t i = 0; i < n; i += 3) a.g[i] *= 3e19f;
    if (special == 2) a.g[n / 2] = std::nanf("");
    std::vector<float> buf(n);
    SgdConsts s = kSgd;
    s.first_step = 1;
    for (int t = 0; t < 3; ++t) {
      Partial q = k.adam(a.p.data(), a.g.data(), a.m.data(), a.v.data(), n, 0.5f, 1.f, kAdam, true);
      Partial r = k.reduce(a.g.data(), n, 0.75f);
      Partial w = k.sgd(a.p.data(), a.g.data(), buf.data(), n, 1.f, 0.9f, s, true);
      h = fnv(&q, sizeof q, h);
      h = fnv(&r, sizeof r, h);
      h = fnv(&w, sizeof w, h);
      s.first_step = 0;
    }
    for (auto* x : {&a.p, &a.m, &a.v, &buf}) h = fnv(x->data(), x->size() * 4, h);
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  std::string isa = "avx2";
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  bool quick = false, hash_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("isa=", 0) == 0) isa = a.substr(4);
    else if (a.rfind("threads=", 0) == 0) threads = std::atoi(a.c_str() + 8);
    else if (a == "quick") quick = true;
    else if (a == "hash") hash_only = true;
  }
  const KernelTable& k = isa == "baseline" ? baseline::table : isa == "avx512" ? avx512::table : avx2::table;
  std::printf("kernel table %s; results hash %016llx\n", k.name, static_cast<unsigned long long>(result_hash(k)));
  if (hash_only) return 0;
  per_call(k);
  std::printf("ns per parameter, interleaved rounds (median, quartiles):\n");
  struct Size { int64_t n; int reps; };
  std::vector<Size> sizes = {{16384, 2000}, {1000000, 200}, {30000000, 12}};
  if (quick) sizes = {{16384, 500}, {1000000, 40}, {10000000, 6}};
  for (auto s : sizes) {
    sweep(k, s.n, 1, s.reps);
    if (threads > 1 && s.n >= (1 << 15)) sweep(k, s.n, threads, s.reps);
  }
  return 0;
}
