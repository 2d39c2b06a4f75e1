// A persistent, process-wide thread pool for the CPU backend.
//
// `run(n, fn)` calls fn(w) for w = 0..n-1, the calling thread being participant 0, and returns
// when all have finished. Calls from different threads (the main thread, libuv workers running
// stepAsync) are serialised. Workers spin briefly before sleeping, so back-to-back steps do
// not pay a futex wake each time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fo::cpu {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Total participants used by default (the caller included). Clamped to [1, 256].
  void set_threads(int n);
  int threads() const { return default_threads_.load(std::memory_order_relaxed); }

  // Runs fn on `n` participants (n <= 0: the default count). Blocks until all are done.
  void run(int n, const std::function<void(int)>& fn);

  ~ThreadPool();

 private:
  ThreadPool();
  void ensure_workers(int total);  // requires run_mutex_
  void worker_main(int index, uint64_t seen);

  std::atomic<int> default_threads_{1};
  std::mutex run_mutex_;  // one job at a time

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;      // worker i has participant index i + 1
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> job_participants_{0};
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
};

// Default thread count: FUSED_OPTIM_THREADS when set and valid, else the hardware count.
int default_thread_count();

}  // namespace fo::cpu
