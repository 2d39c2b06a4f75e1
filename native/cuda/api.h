// What the addon needs from the CUDA backend. Implemented by native/cuda/*.cc/*.cu when CUDA
// is compiled in, and by native/addon/no_cuda.cc otherwise.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../core/backend.h"
#include "../core/device_error.h"

namespace fo::cuda {

struct Probe {
  bool compiled = false;        // the backend was built into this binary
  bool available = false;       // a usable device and driver were found
  std::string reason;           // why not, when !available
  std::string runtime_version;  // e.g. "13.0"
  std::string driver_version;
  std::vector<std::string> devices;  // "NVIDIA H200 (sm_90, 139 GiB)"
};

// Cheap after the first call (cached).
const Probe& probe();

// The stream an optimizer enqueues its work to (steps, copies, fills).
struct StreamOptions {
  // false: the device's shared stream, one per device for the process, used by every optimizer
  // that does not ask for its own (their work runs in the order it was enqueued). true: a
  // non-blocking stream created for this optimizer and destroyed with it.
  bool own = false;
  // Of an own stream: a CUDA stream priority (lower is higher; 0 is the default), clamped to
  // the device's range (cudaDeviceGetStreamPriorityRange).
  int priority = 0;
};

// Creates a CUDA arena for `device`. Throws DeviceError (with a CUDA error name) on failure.
std::unique_ptr<OptimizerBackend> make_optimizer(ArenaSpec spec, int device,
                                                 const StreamOptions& stream = {});

// --- benchmark helpers (bench/gpu); not part of the optimizer contract ---------------------
// On the device's shared stream: they time optimizers that use it.
namespace bench {
// Device time in ms of each of `iters` device-to-device copies of `bytes` (after a warm-up).
std::vector<double> copy_times_ms(int device, int64_t bytes, int iters);
// Calls fn() `iters` times with a CUDA event recorded before the first call and after each;
// returns the device time in ms between consecutive events (waits for the device).
std::vector<double> time_calls(int device, int iters, const std::function<void()>& fn);
}  // namespace bench

}  // namespace fo::cuda
