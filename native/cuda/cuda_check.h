// Error checking and RAII owners for the CUDA backend (host code).
//
// Every CUDA runtime call goes through FO_CUDA(...), every launch is followed by
// FO_CUDA_LAUNCHED(): a failure throws fo::DeviceError whose code is the CUDA error name
// (e.g. cudaErrorMemoryAllocation), which the addon raises in JavaScript as a CudaError.
// Device and pinned memory are held by owners that free it in their destructors, so a
// constructor that throws half-way (out of memory) leaks nothing.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "api.h"

namespace fo::cuda {

// Throws DeviceError for `e`, naming the call and where it was made.
[[noreturn]] void throw_cuda(cudaError_t e, const char* call, const char* file, int line);

// "cudaErrorNoDevice (no CUDA-capable device is detected)"
std::string describe(cudaError_t e);

inline void check(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) throw_cuda(e, call, file, line);
}

}  // namespace fo::cuda

#define FO_CUDA(call) ::fo::cuda::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors surface here, at the launch site.
#define FO_CUDA_LAUNCHED(what) ::fo::cuda::check(cudaGetLastError(), what, __FILE__, __LINE__)

namespace fo::cuda {

// Makes `device` current on the calling thread (a libuv worker runs stepAsync). Cheap: the
// runtime only switches when it differs.
inline void use_device(int device) {
  int cur = -1;
  if (cudaGetDevice(&cur) != cudaSuccess || cur != device) FO_CUDA(cudaSetDevice(device));
}

// Device memory of `bytes` (0 allowed: holds nothing).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes == 0) return;
    cudaError_t e = cudaMalloc(&ptr_, bytes);
    if (e != cudaSuccess) {
      ptr_ = nullptr;
      throw_cuda(e, ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str(), __FILE__, __LINE__);
    }
  }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    DeviceBuffer tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void reset() noexcept {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }
  template <class T = void>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void swap(DeviceBuffer& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
  }
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory, mapped into the device address space (`device_ptr`).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes == 0) return;
    cudaError_t e = cudaHostAlloc(&ptr_, bytes, cudaHostAllocMapped | cudaHostAllocPortable);
    if (e != cudaSuccess) {
      ptr_ = nullptr;
      throw_cuda(e, ("cudaHostAlloc (pinned) of " + std::to_string(bytes) + " bytes").c_str(), __FILE__, __LINE__);
    }
  }
  ~PinnedBuffer() { reset(); }
  PinnedBuffer(PinnedBuffer&& o) noexcept { swap(o); }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    PinnedBuffer tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void reset() noexcept {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }
  template <class T = void>
  T* as() const { return static_cast<T*>(ptr_); }
  template <class T = void>
  T* device_ptr() const {
    void* d = nullptr;
    if (ptr_) FO_CUDA(cudaHostGetDevicePointer(&d, ptr_, 0));
    return static_cast<T*>(d);
  }
  size_t bytes() const { return bytes_; }

 private:
  void swap(PinnedBuffer& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
  }
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

class Event {
 public:
  explicit Event(bool timing = false) {
    FO_CUDA(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming));
  }
  ~Event() {
    if (e_) cudaEventDestroy(e_);
  }
  Event(Event&& o) noexcept : e_(o.e_) { o.e_ = nullptr; }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event& operator=(Event&&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// The device's shared stream: every optimizer on `device` that does not have its own stream
// (StreamOptions::own) enqueues to it, and the benchmark helpers time on it. Created once,
// non-blocking (it does not wait for the legacy default stream), kept for the process's life.
cudaStream_t device_stream(int device);

}  // namespace fo::cuda
