#include "pool.h"

#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define FO_PAUSE() _mm_pause()
#else
#define FO_PAUSE() std::this_thread::yield()
#endif

namespace fo::cpu {
namespace {

#if defined(__linux__)
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

bool read_line(const std::string& path, std::string& line) {
  std::ifstream f(path);
  return static_cast<bool>(f) && static_cast<bool>(std::getline(f, line));
}

// CPUs a quota of `quota` per `period` allows (rounded up), or 0 for no limit.
int quota_cpus(double quota, double period) {
  if (!(quota > 0) || !(period > 0)) return 0;
  return std::max(1, static_cast<int>(std::ceil(quota / period)));
}

// The lowest CPU limit of the cgroup directory `dir` and its ancestors up to `top`, or 0.
int cgroup_dir_limit(std::string dir, const std::string& top, bool v2) {
  int limit = 0;
  for (;;) {
    std::string line;
    int here = 0;
    if (v2) {
      if (read_line(dir + "/cpu.max", line)) {
        auto f = split(line, ' ');
        if (f.size() == 2 && f[0] != "max") here = quota_cpus(std::atof(f[0].c_str()), std::atof(f[1].c_str()));
      }
    } else {
      std::string period;
      if (read_line(dir + "/cpu.cfs_quota_us", line) && read_line(dir + "/cpu.cfs_period_us", period)) {
        here = quota_cpus(std::atof(line.c_str()), std::atof(period.c_str()));
      }
    }
    if (here > 0) limit = limit == 0 ? here : std::min(limit, here);
    if (dir.size() <= top.size()) break;
    size_t slash = dir.find_last_of('/');
    if (slash == std::string::npos || slash < top.size()) break;
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  return limit;
}

// The CPU quota of this process's cgroup (v2 or v1 with the cpu controller), or 0.
int cgroup_cpu_limit() {
  // This process's cgroup path per hierarchy: "0::/path" (v2), "N:cpu,cpuacct:/path" (v1).
  std::string v2_path, v1_path;
  bool have_v1 = false;
  {
    std::ifstream f("/proc/self/cgroup");
    std::string line;
    while (std::getline(f, line)) {
      size_t a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if (line.compare(0, a, "0") == 0 && controllers.empty()) v2_path = path;
      for (const auto& c : split(controllers, ',')) {
        if (c == "cpu") {
          v1_path = path;
          have_v1 = true;
        }
      }
    }
  }
  // Where those hierarchies are mounted (/proc/self/mountinfo: root and mount point are fields
  // 4 and 5; after " - ": the file system type, the source and the super options).
  int limit = 0;
  std::ifstream f("/proc/self/mountinfo");
  std::string line;
  while (std::getline(f, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto pre = split(line.substr(0, dash), ' ');
    auto post = split(line.substr(dash + 3), ' ');
    if (pre.size() < 5 || post.size() < 3) continue;
    const std::string& root = pre[3];
    const std::string& point = pre[4];
    bool v2 = post[0] == "cgroup2";
    bool v1cpu = false;
    if (post[0] == "cgroup") {
      for (const auto& o : split(post[2], ',')) v1cpu = v1cpu || o == "cpu";
    }
    if (!(v2 && !v2_path.empty()) && !(v1cpu && have_v1)) continue;
    const std::string& path = v2 ? v2_path : v1_path;
    // The process's cgroup as seen under this mount.
    std::string rel;
    if (root == "/") rel = path;
    else if (path.compare(0, root.size(), root) == 0) rel = path.substr(root.size());
    else continue;
    std::string dir = point + (rel == "/" ? "" : rel);
    int here = cgroup_dir_limit(dir, point, v2);
    if (here > 0) limit = limit == 0 ? here : std::min(limit, here);
  }
  return limit;
}
#endif  // __linux__

}  // namespace

int available_cpus() {
  int n = 0;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
#endif
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
#if defined(__linux__)
  int quota = cgroup_cpu_limit();
  if (quota > 0) n = std::min(n, quota);
#endif
  return std::min(n, 256);
}

int default_thread_count() {
  if (const char* env = std::getenv("FUSED_OPTIM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 256) return static_cast<int>(v);
  }
  return available_cpus();
}

ThreadPool& ThreadPool::instance() {
  // note: intentionally leaked. Joining threads from a static destructor at process exit can
  // deadlock when the process is torn down from a worker; the OS reclaims them.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool()
    : cpus_(available_cpus()),
      max_threads_(std::min(256, std::max(2, kCpuMultiple * cpus_))) {
  default_threads_.store(default_thread_count());
}

void ThreadPool::set_threads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  default_threads_.store(n);
}

int ThreadPool::workers() const { return started_.load(std::memory_order_relaxed); }

void ThreadPool::ensure_workers(int total) {
  while (static_cast<int>(workers_.size()) < total - 1) {
    int index = static_cast<int>(workers_.size()) + 1;
    auto w = std::make_unique<Worker>();
    Worker* wp = w.get();
    // A worker starts with ticket 0, older than any job: it waits to be woken for one.
    bool spin = index < cpus_;
    wp->thread = std::thread([this, wp, index, spin] { worker_main(wp, index, spin); });
    wp->thread.detach();
    workers_.push_back(std::move(w));
    started_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  }
}

void ThreadPool::run(int n, const std::function<void(int)>& fn) {
  if (n <= 0) n = threads();
  n = std::min(n, max_threads_);
  if (n <= 1) {
    fn(0);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  ensure_workers(n);
  job_.store(&fn, std::memory_order_seq_cst);
  // The generation moves before the job opens: a worker that joins an open job and then
  // still sees the generation it was woken for knows the open job is that one.
  const uint64_t g = generation_.fetch_add(1, std::memory_order_seq_cst) + 1;
  state_.store(kOpen, std::memory_order_seq_cst);
  // Wake only the workers this job uses.
  for (int i = 0; i < n - 1; ++i) {
    Worker& w = *workers_[i];
    w.ticket.store(g, std::memory_order_seq_cst);
    if (w.sleeping.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lk(w.mu);
      w.cv.notify_one();
    }
  }
  fn(0);
  // Close the job, then wait for the workers that joined it (they are finishing a share).
  int s = state_.fetch_and(~kOpen, std::memory_order_acq_rel) & ~kOpen;
  for (int spins = 0; s != 0; ++spins) {
    if (spins < 4096) FO_PAUSE();
    else std::this_thread::yield();
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main(Worker* w, int index, bool spin) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t t = w->ticket.load(std::memory_order_acquire);
    // Workers the CPUs can run at once spin a little for their next job; the others sleep.
    for (int spins = 0; spin && t == seen && spins < 20000; ++spins) {
      FO_PAUSE();
      t = w->ticket.load(std::memory_order_acquire);
    }
    if (t == seen) {
      std::unique_lock<std::mutex> lk(w->mu);
      w->sleeping.store(true, std::memory_order_seq_cst);
      // (run() stores the ticket before it reads `sleeping`: one of the two sees the other.)
      w->cv.wait(lk, [&] { return w->ticket.load(std::memory_order_seq_cst) != seen; });
      w->sleeping.store(false, std::memory_order_relaxed);
      t = w->ticket.load(std::memory_order_acquire);
    }
    seen = t;
    // Join only while the job is open, and only the job we were woken for: a late worker may
    // find a later job open (one it was not woken for), or none.
    int s = state_.load(std::memory_order_seq_cst);
    while ((s & kOpen) && !state_.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst)) {
    }
    if (s & kOpen) {
      if (generation_.load(std::memory_order_seq_cst) == seen) {
        (*job_.load(std::memory_order_seq_cst))(index);
      }
      state_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
}

}  // namespace fo::cpu
