// Stand-in for the CUDA backend when the addon is built without it.
#include "../cuda/api.h"

namespace fo::cuda {

const Probe& probe() {
  static const Probe p = [] {
    Probe q;
    q.compiled = false;
    q.available = false;
    q.reason =
        "this build has no CUDA backend (built with FUSED_OPTIM_CUDA=OFF, by node-gyp, or "
        "without a CUDA toolkit); rebuild with `npx cmake-js compile` on a machine with nvcc";
    return q;
  }();
  return p;
}

std::unique_ptr<OptimizerBackend> make_optimizer(ArenaSpec, int, const StreamOptions&) {
  throw DeviceError("cudaErrorNotCompiled", probe().reason);
}

namespace bench {
std::vector<double> copy_times_ms(int, int64_t, int) {
  throw DeviceError("cudaErrorNotCompiled", probe().reason);
}

std::vector<double> time_calls(int, int, const std::function<void()>&) {
  throw DeviceError("cudaErrorNotCompiled", probe().reason);
}
}  // namespace bench

}  // namespace fo::cuda
