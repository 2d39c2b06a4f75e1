// A persistent, process-wide thread pool for the CPU backend.
//
// `run(n, fn)` offers a job to n - 1 workers and runs fn(0) on the calling thread. Only those
// n - 1 workers are woken, each told which job it was woken for; a worker joins only that job,
// and only while it is open. When fn(0) returns the caller closes the job and waits only for
// the workers that joined. fn must therefore share its work dynamically (e.g. an atomic counter
// of chunks), so that fn(0) alone finishes whatever no one else took. On an oversubscribed
// machine a descheduled worker then costs nothing: the caller does its share instead of waiting
// a time slice for it to wake.
//
// Participants are capped at kCpuMultiple × the CPUs this process may use (max_threads()),
// however many are asked for: more threads than that only take CPU time from the ones doing
// the work. Workers whose index is below the CPU count spin briefly after a job (back-to-back
// steps rarely pay a wake-up); the others sleep at once, so an idle worker never competes with
// a running job. Calls from different threads (the main thread, libuv workers running
// stepAsync) are serialised.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fo::cpu {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Participants used by default (the caller included), as set. Clamped to [1, 256]; a run
  // uses at most max_threads() of them.
  void set_threads(int n);
  int threads() const { return default_threads_.load(std::memory_order_relaxed); }
  // The CPUs this process may use (affinity and cgroup quota) and the participant cap.
  int cpus() const { return cpus_; }
  int max_threads() const { return max_threads_; }
  // Worker threads started so far (at most max_threads() - 1).
  int workers() const;

  // Runs fn on min(n, max_threads()) participants (n <= 0: the default count). Blocks until
  // all are done.
  void run(int n, const std::function<void(int)>& fn);

  static constexpr int kCpuMultiple = 2;

 private:
  ThreadPool();
  ~ThreadPool() = delete;  // leaked on purpose (see instance())

  struct Worker {
    std::thread thread;
    std::atomic<uint64_t> ticket{0};  // the generation of the last job it was woken for
    std::atomic<bool> sleeping{false};
    std::mutex mu;
    std::condition_variable cv;
  };

  void ensure_workers(int total);  // requires run_mutex_
  void worker_main(Worker* w, int index, bool spin);

  const int cpus_;
  const int max_threads_;
  std::atomic<int> default_threads_{1};
  std::mutex run_mutex_;  // one job at a time
  std::vector<std::unique_ptr<Worker>> workers_;  // workers_[i] has participant index i + 1
  std::atomic<int> started_{0};

  std::atomic<const std::function<void(int)>*> job_{nullptr};
  std::atomic<uint64_t> generation_{0};
  // Bit 30: the job is open; low bits: workers inside fn. Joining and closing are one atomic
  // word, so no worker can enter after the caller has seen the count it waits for.
  static constexpr int kOpen = 1 << 30;
  std::atomic<int> state_{0};
};

// The CPUs this process may use: those of its affinity mask, fewer when a cgroup CPU quota
// (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, on its cgroup or an ancestor) allows
// fewer (rounded up). os.availableParallelism() counts the affinity mask only. At least 1.
int available_cpus();

// Default thread count: FUSED_OPTIM_THREADS when set and valid, else available_cpus().
int default_thread_count();

}  // namespace fo::cpu
