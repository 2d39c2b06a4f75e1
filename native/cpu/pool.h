// A persistent, process-wide thread pool for the CPU backend.
//
// `run(n, fn)` offers a job to n - 1 workers and runs fn(0) on the calling thread. A worker that
// wakes while the job is open joins it and calls fn(w); when fn(0) returns the caller closes
// the job and waits only for the workers that joined. fn must therefore share its work
// dynamically (e.g. an atomic counter of chunks), so that fn(0) alone finishes whatever no one
// else took. On an oversubscribed machine a descheduled worker then costs nothing: the caller
// does its share instead of waiting a time slice for it to wake.
// Calls from different threads (the main thread, libuv workers running stepAsync) are
// serialised. Workers spin briefly before sleeping, so back-to-back steps rarely pay a wake-up.
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
  // Bit 30: the job is open; low bits: workers inside fn. Joining and closing are one atomic
  // word, so no worker can enter after the caller has seen the count it waits for.
  static constexpr int kOpen = 1 << 30;
  std::atomic<int> state_{0};
  std::atomic<int> job_participants_{0};
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
};

// Default thread count: FUSED_OPTIM_THREADS when set and valid, else the hardware count.
int default_thread_count();

}  // namespace fo::cpu
