// The error a device backend throws. `code` is the device API's own error name (for example
// cudaErrorMemoryAllocation); the addon raises it in JavaScript as a CudaError with that `code`.
#pragma once

#include <stdexcept>
#include <string>

namespace fo {

class DeviceError : public std::runtime_error {
 public:
  DeviceError(const std::string& code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace fo
