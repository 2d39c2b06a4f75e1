// fused-optim/distributed, MPI backend. libmpi is opened with dlopen (RTLD_GLOBAL: Open MPI's
// own plugins resolve symbols of libmpi and libopen-pal through the global scope) and the few
// entry points used are declared here as function pointers; no mpi.h is needed at build time.
//
// MPI handles are implementation-defined. In Open MPI, MPI_Comm, MPI_Datatype and MPI_Op are
// pointers to exported global objects (MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_FLOAT is
// &ompi_mpi_float, MPI_SUM is &ompi_mpi_op_sum, ...) and MPI_IN_PLACE is (void*)1, so dlsym
// of those globals gives the handles. MPICH and its derivatives use integer handles instead;
// they are refused with a message saying so (their library lacks the ompi_* symbols).
#include "mpi.h"

#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace fo::dist {
namespace {

using Handle = void*;
using FnInitialized = int (*)(int*);
using FnInitThread = int (*)(int*, char***, int, int*);
using FnCommInt = int (*)(Handle, int*);
using FnBarrier = int (*)(Handle);
using FnAllreduce = int (*)(const void*, void*, int, Handle, Handle, Handle);
using FnFinalize = int (*)();
using FnReduceScatter = int (*)(const void*, void*, const int*, Handle, Handle, Handle);
using FnAllgatherv = int (*)(const void*, int, Handle, void*, const int*, const int*, Handle, Handle);
using FnAllgather = int (*)(const void*, int, Handle, void*, int, Handle, Handle);
using FnErrorString = int (*)(int, char*, int*);
using FnGetVersion = int (*)(char*, int*);

constexpr int kThreadSerialized = 2;  // MPI_THREAD_SERIALIZED in Open MPI (and the standard's order)
void* const kInPlace = reinterpret_cast<void*>(1);  // Open MPI's MPI_IN_PLACE

struct Mpi {
  void* lib = nullptr;
  std::string path;
  FnInitialized initialized = nullptr;
  FnInitialized finalized = nullptr;
  FnInitThread init_thread = nullptr;
  FnCommInt comm_rank = nullptr;
  FnCommInt comm_size = nullptr;
  FnBarrier barrier = nullptr;
  FnAllreduce allreduce = nullptr;
  FnFinalize finalize = nullptr;
  FnReduceScatter reduce_scatter = nullptr;
  FnAllgatherv allgatherv = nullptr;
  FnAllgather allgather = nullptr;
  FnErrorString error_string = nullptr;
  FnGetVersion library_version = nullptr;
  Handle comm_world = nullptr, t_float = nullptr, t_double = nullptr;
  Handle op_sum = nullptr, op_min = nullptr, op_max = nullptr;
  bool inited = false;   // MPI_Init_thread done by us
  bool done = false;     // MPI_Finalize done
  int rank = 0, size = 1, provided = 0;
  std::mutex mu;         // serialises every MPI call of the process
};

Mpi& mpi() {
  static Mpi* m = new Mpi();  // never destroyed: a worker thread may still hold the mutex at exit
  return *m;
}

std::string describe(int rc) {
  Mpi& m = mpi();
  if (m.error_string) {
    char buf[512];
    int len = 0;
    if (m.error_string(rc, buf, &len) == 0 && len > 0) return std::string(buf, static_cast<size_t>(len)) + " (code " + std::to_string(rc) + ")";
  }
  return "MPI error code " + std::to_string(rc);
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + " failed: " + describe(rc));
}

template <typename F>
bool sym(void* lib, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  return out != nullptr;
}

// Opens the first loadable library of `paths`; returns "" or the reason none loaded.
std::string load(const std::vector<std::string>& paths) {
  Mpi& m = mpi();
  if (m.lib) return "";
  std::string reasons;
  for (const std::string& p : paths) {
    void* lib = dlopen(p.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      const char* e = dlerror();
      reasons += (reasons.empty() ? "" : "; ") + p + ": " + (e ? e : "not found");
      continue;
    }
    const char* missing = nullptr;
    if (!sym(lib, "MPI_Initialized", m.initialized)) missing = "MPI_Initialized";
    else if (!sym(lib, "MPI_Finalized", m.finalized)) missing = "MPI_Finalized";
    else if (!sym(lib, "MPI_Init_thread", m.init_thread)) missing = "MPI_Init_thread";
    else if (!sym(lib, "MPI_Comm_rank", m.comm_rank)) missing = "MPI_Comm_rank";
    else if (!sym(lib, "MPI_Comm_size", m.comm_size)) missing = "MPI_Comm_size";
    else if (!sym(lib, "MPI_Barrier", m.barrier)) missing = "MPI_Barrier";
    else if (!sym(lib, "MPI_Allreduce", m.allreduce)) missing = "MPI_Allreduce";
    else if (!sym(lib, "MPI_Finalize", m.finalize)) missing = "MPI_Finalize";
    else if (!sym(lib, "MPI_Reduce_scatter", m.reduce_scatter)) missing = "MPI_Reduce_scatter";
    else if (!sym(lib, "MPI_Allgatherv", m.allgatherv)) missing = "MPI_Allgatherv";
    else if (!sym(lib, "MPI_Allgather", m.allgather)) missing = "MPI_Allgather";
    if (missing) {
      reasons += (reasons.empty() ? "" : "; ") + p + ": no symbol " + missing + " (not an MPI library)";
      dlclose(lib);
      continue;
    }
    sym(lib, "MPI_Error_string", m.error_string);
    sym(lib, "MPI_Get_library_version", m.library_version);
    m.comm_world = dlsym(lib, "ompi_mpi_comm_world");
    m.t_float = dlsym(lib, "ompi_mpi_float");
    m.t_double = dlsym(lib, "ompi_mpi_double");
    m.op_sum = dlsym(lib, "ompi_mpi_op_sum");
    m.op_min = dlsym(lib, "ompi_mpi_op_min");
    m.op_max = dlsym(lib, "ompi_mpi_op_max");
    if (!m.comm_world || !m.t_float || !m.t_double || !m.op_sum || !m.op_min || !m.op_max) {
      reasons += (reasons.empty() ? "" : "; ") + p +
                 ": an MPI library without Open MPI's handle symbols (ompi_mpi_comm_world, "
                 "ompi_mpi_float, ...): only Open MPI is supported yet (MPICH, Intel MPI and "
                 "other implementations are not)";
      m.error_string = nullptr;
      m.library_version = nullptr;
      dlclose(lib);
      continue;
    }
    m.lib = lib;
    m.path = p;
    return "";
  }
  return reasons.empty() ? "no library paths given" : reasons;
}

Mpi& active_or_throw(Napi::Env env) {
  Mpi& m = mpi();
  if (!m.lib || !m.inited) throw Napi::Error::New(env, "fused-optim: MPI is not initialised (call init() of fused-optim/distributed)");
  if (m.done) throw Napi::Error::New(env, "fused-optim: MPI has been finalised (the communicator was closed)");
  return m;
}

// load(paths: string[]): { path, version } or throws with every path's reason.
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> paths;
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "Expected an array of library paths for paths");
  Napi::Array a = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "Expected strings in paths");
    paths.push_back(v.As<Napi::String>().Utf8Value());
  }
  std::string why = load(paths);
  if (!why.empty()) throw Napi::Error::New(env, why);
  Mpi& m = mpi();
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", m.path);
  std::string version;
  if (m.library_version) {
    std::vector<char> buf(8192);
    int len = 0;
    if (m.library_version(buf.data(), &len) == 0 && len > 0) version.assign(buf.data(), static_cast<size_t>(len));
  }
  o.Set("version", version);
  return o;
}

// init(): { rank, size, provided }. Requests MPI_THREAD_SERIALIZED.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mpi& m = mpi();
  if (!m.lib) throw Napi::Error::New(env, "fused-optim: libmpi is not loaded");
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.done) throw Napi::Error::New(env, "fused-optim: MPI has been finalised in this process and cannot be initialised again");
  if (!m.inited) {
    int already = 0;
    check(m.initialized(&already), "MPI_Initialized");
    if (already) throw Napi::Error::New(env, "fused-optim: MPI was initialised by other code in this process; fused-optim must initialise it itself");
    int provided = 0;
    int rc = m.init_thread(nullptr, nullptr, kThreadSerialized, &provided);
    if (rc != 0) throw Napi::Error::New(env, "fused-optim: MPI_Init_thread failed: " + describe(rc));
    m.inited = true;
    m.provided = provided;
    check(m.comm_rank(m.comm_world, &m.rank), "MPI_Comm_rank");
    check(m.comm_size(m.comm_world, &m.size), "MPI_Comm_size");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", m.rank);
  o.Set("size", m.size);
  o.Set("provided", m.provided);
  return o;
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Mpi& m = active_or_throw(info.Env());
  std::lock_guard<std::mutex> lock(m.mu);
  int rc = m.barrier(m.comm_world);
  if (rc != 0) throw Napi::Error::New(info.Env(), "fused-optim: MPI_Barrier failed: " + describe(rc));
  return info.Env().Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.inited || m.done) return info.Env().Undefined();
  m.done = true;
  int rc = m.finalize();
  if (rc != 0) throw Napi::Error::New(info.Env(), "fused-optim: MPI_Finalize failed: " + describe(rc));
  return info.Env().Undefined();
}

// allreduceF64(data: Float64Array, op: 'sum' | 'min' | 'max'): in place.
Napi::Value AllreduceF64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mpi& m = active_or_throw(env);
  if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "Expected (Float64Array, 'sum' | 'min' | 'max')");
  }
  auto a = info[0].As<Napi::Float64Array>();
  std::string op = info[1].As<Napi::String>().Utf8Value();
  Handle h = op == "sum" ? m.op_sum : op == "min" ? m.op_min : op == "max" ? m.op_max : nullptr;
  if (!h) throw Napi::RangeError::New(env, "Expected 'sum', 'min' or 'max' for op but received '" + op + "'");
  if (a.ElementLength() > (size_t{1} << 30)) throw Napi::RangeError::New(env, "Expected at most 2^30 elements");
  std::lock_guard<std::mutex> lock(m.mu);
  int rc = m.allreduce(kInPlace, a.Data(), static_cast<int>(a.ElementLength()), m.t_double, h, m.comm_world);
  if (rc != 0) throw Napi::Error::New(env, "fused-optim: MPI_Allreduce failed: " + describe(rc));
  return env.Undefined();
}

// allreduceF32(data: Float32Array): in-place sum (tests, bench).
Napi::Value AllreduceF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  active_or_throw(env);
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "Expected a Float32Array");
  }
  auto a = info[0].As<Napi::Float32Array>();
  try {
    allreduce_sum_f32(a.Data(), static_cast<int64_t>(a.ElementLength()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("fused-optim: ") + e.what());
  }
  return env.Undefined();
}

}  // namespace

bool active() {
  Mpi& m = mpi();
  return m.lib && m.inited && !m.done;
}

void allreduce_sum_f32(float* data, int64_t n) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.lib || !m.inited || m.done) throw std::runtime_error("MPI is not active (not initialised, or the communicator was closed)");
  constexpr int64_t kMax = int64_t{1} << 30;
  for (int64_t at = 0; at < n; at += kMax) {
    int count = static_cast<int>(n - at < kMax ? n - at : kMax);
    check(m.allreduce(kInPlace, data + at, count, m.t_float, m.op_sum, m.comm_world), "MPI_Allreduce");
  }
}

int rank() { return mpi().rank; }
int size() { return mpi().size; }

namespace {
Mpi& locked_active(std::unique_lock<std::mutex>& lock) {
  Mpi& m = mpi();
  lock = std::unique_lock<std::mutex>(m.mu);
  if (!m.lib || !m.inited || m.done) throw std::runtime_error("MPI is not active (not initialised, or the communicator was closed)");
  return m;
}
}  // namespace

void reduce_scatter_sum_f32(const float* send, float* recv, const int* counts) {
  std::unique_lock<std::mutex> lock;
  Mpi& m = locked_active(lock);
  check(m.reduce_scatter(send, recv, counts, m.t_float, m.op_sum, m.comm_world), "MPI_Reduce_scatter");
}

void allgatherv_f32(float* buf, const int* counts, const int* displs) {
  std::unique_lock<std::mutex> lock;
  Mpi& m = locked_active(lock);
  check(m.allgatherv(kInPlace, 0, m.t_float, buf, counts, displs, m.t_float, m.comm_world), "MPI_Allgatherv");
}

void sum_in_rank_order_f64(double* v, int n) {
  std::unique_lock<std::mutex> lock;
  Mpi& m = locked_active(lock);
  std::vector<double> all(static_cast<size_t>(n) * static_cast<size_t>(m.size));
  check(m.allgather(v, n, m.t_double, all.data(), n, m.t_double, m.comm_world), "MPI_Allgather");
  for (int i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int r = 0; r < m.size; ++r) acc += all[static_cast<size_t>(r) * static_cast<size_t>(n) + static_cast<size_t>(i)];
    v[i] = acc;
  }
}

void init_mpi(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("load", Napi::Function::New(env, Load, "load"));
  o.Set("init", Napi::Function::New(env, Init, "init"));
  o.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
  o.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  o.Set("allreduceF64", Napi::Function::New(env, AllreduceF64, "allreduceF64"));
  o.Set("allreduceF32", Napi::Function::New(env, AllreduceF32, "allreduceF32"));
  o.Set("threadSerialized", Napi::Number::New(env, kThreadSerialized));
  exports.Set("mpi", o);
}

}  // namespace fo::dist
