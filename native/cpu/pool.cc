#include "pool.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define FO_PAUSE() _mm_pause()
#else
#define FO_PAUSE() std::this_thread::yield()
#endif

namespace fo::cpu {

int default_thread_count() {
  if (const char* env = std::getenv("FUSED_OPTIM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 256) return static_cast<int>(v);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw > 256 ? 256 : hw);
}

ThreadPool& ThreadPool::instance() {
  // note: intentionally leaked. Joining threads from a static destructor at process exit can
  // deadlock when the process is torn down from a worker; the OS reclaims them.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() { default_threads_.store(default_thread_count()); }

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::set_threads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  default_threads_.store(n);
}

void ThreadPool::ensure_workers(int total) {
  while (static_cast<int>(workers_.size()) < total - 1) {
    int index = static_cast<int>(workers_.size()) + 1;
    // The worker starts from the generation current now (before the job it was created for is
    // published); reading it inside the new thread could miss that job.
    uint64_t start = generation_.load(std::memory_order_acquire);
    workers_.emplace_back([this, index, start] { worker_main(index, start); });
  }
}

void ThreadPool::run(int n, const std::function<void(int)>& fn) {
  if (n <= 0) n = threads();
  if (n == 1) {
    fn(0);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mutex_);
  ensure_workers(n);
  {
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    job_participants_.store(n, std::memory_order_relaxed);
    // The generation moves before the job opens: a worker that joins an open job and then
    // still sees its own generation knows the open job is the one it read (see worker_main).
    generation_.fetch_add(1, std::memory_order_seq_cst);
    state_.store(kOpen, std::memory_order_seq_cst);
  }
  cv_.notify_all();
  fn(0);
  // Close the job, then wait for the workers that joined it (they are finishing a share).
  int s = state_.fetch_and(~kOpen, std::memory_order_acq_rel) & ~kOpen;
  for (int spins = 0; s != 0; ++spins) {
    if (spins < 4096) FO_PAUSE();
    else std::this_thread::yield();
    s = state_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main(int index, uint64_t seen) {
  for (;;) {
    // Spin a little for the next job, then sleep on the condition variable.
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int spins = 0; g == seen && spins < 20000; ++spins) {
      FO_PAUSE();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen || stop_; });
      g = generation_.load(std::memory_order_acquire);
    }
    (void)g;
    const std::function<void(int)>* job;
    int participants;
    {
      // Read the generation together with the job it belongs to: a job is published under
      // mu_, so these three are consistent, and `seen` never names a job we did not look at.
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      job = job_;
      participants = job_participants_.load(std::memory_order_relaxed);
    }
    if (index < participants) {
      // Join only while the job is open, and only the job read above: a late worker may find
      // the next job open, with our `job` pointer already dangling.
      int s = state_.load(std::memory_order_seq_cst);
      while ((s & kOpen) && !state_.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst)) {
      }
      if (s & kOpen) {
        if (generation_.load(std::memory_order_seq_cst) == seen) (*job)(index);
        state_.fetch_sub(1, std::memory_order_seq_cst);
      }
    }
  }
}

}  // namespace fo::cpu
