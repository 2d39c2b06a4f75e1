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
#include <sched.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
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
using FnBcast = int (*)(void*, int, Handle, int, Handle);
using FnErrorString = int (*)(int, char*, int*);
using FnGetVersion = int (*)(char*, int*);
using FnIallreduce = int (*)(const void*, void*, int, Handle, Handle, Handle, Handle*);
using FnTest = int (*)(Handle*, int*, void*);
using FnCommIdup = int (*)(Handle, Handle*, Handle*);
using FnCommFree = int (*)(Handle*);

constexpr int kThreadSerialized = 2;  // MPI_THREAD_SERIALIZED in Open MPI (and the standard's order)
void* const kInPlace = reinterpret_cast<void*>(1);  // Open MPI's MPI_IN_PLACE
void* const kStatusIgnore = nullptr;                 // Open MPI's MPI_STATUS_IGNORE

constexpr char kCodeTimeout[] = "ERR_FUSED_OPTIM_MPI_TIMEOUT";
constexpr char kCodeRankLeft[] = "ERR_FUSED_OPTIM_RANK_LEFT";
constexpr char kCodeMismatch[] = "ERR_FUSED_OPTIM_MPI_MISMATCH";
constexpr char kCodeMpi[] = "ERR_FUSED_OPTIM_MPI";

// A header: {leaving rank + 1 or 0, op, -op, iteration, -iteration}, reduced with MPI_MAX, so
// that the result holds the highest leaving rank, and the largest and (negated) smallest op
// and iteration. A leaving rank sends kAbsent for the others, which never wins a maximum.
constexpr int kHeader = 5;
constexpr double kAbsent = -1e300;

struct Channel {
  enum State { kOpen, kLeft, kEnded, kFreed } state = kOpen;
  Handle comm = nullptr;
  Handle leave_req = nullptr;                 // the pending "leaving" header, while kLeft
  std::array<double, kHeader> leave_send{}, leave_recv{};
};

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
  FnBcast bcast = nullptr;
  FnIallreduce iallreduce = nullptr;
  FnTest test = nullptr;
  FnCommIdup comm_idup = nullptr;
  FnCommFree comm_free = nullptr;
  FnErrorString error_string = nullptr;
  FnGetVersion library_version = nullptr;
  Handle comm_world = nullptr, t_float = nullptr, t_double = nullptr;
  Handle op_sum = nullptr, op_min = nullptr, op_max = nullptr;
  bool inited = false;   // MPI_Init_thread done by us
  bool done = false;     // MPI_Finalize done (or given up on: see broken)
  int rank = 0, size = 1, provided = 0;
  double timeout_ms = 30.0 * 60.0 * 1000.0;
  std::string broken;    // why MPI can't be used any more (a collective timed out), or ""
  std::vector<std::unique_ptr<Channel>> channels;  // ids are indices; never shrinks
  std::mutex mu;         // serialises every MPI call of the process, and guards the above
};

Mpi& mpi() {
  static Mpi* m = new Mpi();  // never destroyed: a worker thread may still hold the mutex at exit
  return *m;
}

// Buffers of nonblocking collectives abandoned by a timeout: MPI may still write into them.
void abandon(std::shared_ptr<void> buffer) {
  static auto* kept = new std::vector<std::shared_ptr<void>>();
  kept->push_back(std::move(buffer));
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
  if (rc != 0) throw Error(std::string(what) + " failed: " + describe(rc), kCodeMpi);
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
    else if (!sym(lib, "MPI_Bcast", m.bcast)) missing = "MPI_Bcast";
    else if (!sym(lib, "MPI_Iallreduce", m.iallreduce)) missing = "MPI_Iallreduce (MPI 3)";
    else if (!sym(lib, "MPI_Test", m.test)) missing = "MPI_Test";
    else if (!sym(lib, "MPI_Comm_idup", m.comm_idup)) missing = "MPI_Comm_idup (MPI 3)";
    else if (!sym(lib, "MPI_Comm_free", m.comm_free)) missing = "MPI_Comm_free";
    if (missing) {
      reasons += (reasons.empty() ? "" : "; ") + p + ": no symbol " + missing + " (not an MPI library, or older than MPI 3)";
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

// Throws unless collectives may run now. Caller holds m.mu.
void require_usable(Mpi& m) {
  if (!m.lib || !m.inited) throw Error("MPI is not initialised (call init() of fused-optim/distributed)", kCodeMpi);
  if (!m.broken.empty()) throw Error("MPI cannot be used any more in this process: " + m.broken, kCodeTimeout);
  if (m.done) throw Error("MPI has been finalised (the communicator was closed)", kCodeMpi);
}

std::string seconds(double ms) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g s", ms / 1000.0);
  return buf;
}

// Polls a nonblocking request until it completes. Past the communicator's timeout, MPI is
// marked broken (the request cannot be cancelled), `buffers` are kept forever and a Timeout
// error is thrown. Called without m.mu held; takes it for each MPI_Test only, so that other
// threads' calls interleave.
void wait(Mpi& m, Handle& req, const std::string& what, std::shared_ptr<void> buffers) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  double limit;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    limit = m.timeout_ms;
  }
  for (int spin = 0;; ++spin) {
    {
      std::lock_guard<std::mutex> lock(m.mu);
      int flag = 0;
      check(m.test(&req, &flag, kStatusIgnore), "MPI_Test");
      if (flag) return;
    }
    const double elapsed = std::chrono::duration<double, std::milli>(clock::now() - start).count();
    if (elapsed > limit) {
      abandon(std::move(buffers));
      std::lock_guard<std::mutex> lock(m.mu);
      m.broken = what + " timed out after " + seconds(limit) + " (the communicator's timeoutMs)";
      throw Error(what + ": not every rank arrived within " + seconds(limit) +
                      " (the communicator's timeoutMs): a rank is stalled, has crashed, or runs a "
                      "different sequence of collectives. MPI cannot be used again in this "
                      "process (a collective can't be cancelled); save what you need and exit: "
                      "the launcher ends the job",
                  kCodeTimeout);
    }
    // Ranks usually arrive together: yield first, then poll gently.
    if (spin < 2000) sched_yield();
    else usleep(100);
  }
}

Channel& channel_locked(Mpi& m, int id) {
  if (id < 0 || static_cast<size_t>(id) >= m.channels.size()) throw Error("no such channel " + std::to_string(id), kCodeMpi);
  return *m.channels[static_cast<size_t>(id)];
}

// Frees the channels whose "leaving" header completed. Caller holds m.mu.
void poll_left(Mpi& m) {
  for (auto& c : m.channels) {
    if (c->state != Channel::kLeft || !c->leave_req) continue;
    int flag = 0;
    if (m.test(&c->leave_req, &flag, kStatusIgnore) != 0 || !flag) continue;
    c->leave_req = nullptr;
    m.comm_free(&c->comm);
    c->state = Channel::kFreed;
  }
}

void leave_locked(Mpi& m, Channel& c) {
  if (c.state != Channel::kOpen) return;
  c.leave_send.fill(kAbsent);
  c.leave_send[0] = m.rank + 1;
  check(m.iallreduce(c.leave_send.data(), c.leave_recv.data(), kHeader, m.t_double, m.op_max, c.comm, &c.leave_req), "MPI_Iallreduce");
  c.state = Channel::kLeft;
}

const char* op_name(double op) {
  switch (static_cast<int>(op)) {
    case static_cast<int>(Op::Step): return "step()";
    case static_cast<int>(Op::Sync): return "a state sync (stateDict, getWeights)";
    case static_cast<int>(Op::Barrier): return "a checkpoint";
    case static_cast<int>(Op::Setup): return "building the optimizer (broadcasting rank 0's parameters)";
    default: return "an unknown operation";
  }
}

// MPI's counts are ints: in-place bulk collectives over n elements of `width` bytes go in
// pieces of at most 2^30 elements. Caller holds m.mu.
void allreduce_pieces(Mpi& m, void* data, int64_t n, size_t width, Handle type, Handle op, Handle comm) {
  constexpr int64_t kMax = int64_t{1} << 30;
  for (int64_t at = 0; at < n; at += kMax) {
    const int count = static_cast<int>(n - at < kMax ? n - at : kMax);
    check(m.allreduce(kInPlace, static_cast<char*>(data) + static_cast<size_t>(at) * width, count, type, op, comm), "MPI_Allreduce");
  }
}

void bcast_pieces(Mpi& m, void* data, int64_t n, size_t width, Handle type, int root, Handle comm) {
  constexpr int64_t kMax = int64_t{1} << 30;
  for (int64_t at = 0; at < n; at += kMax) {
    const int count = static_cast<int>(n - at < kMax ? n - at : kMax);
    check(m.bcast(static_cast<char*>(data) + static_cast<size_t>(at) * width, count, type, root, comm), "MPI_Bcast");
  }
}

// A rendezvous: every rank's `mine` reduced with MPI_MAX (nonblocking, polled against the
// timeout). `comm_of(m)` runs under m.mu just before the post: it checks what must hold and
// returns the communicator. Returns the maxima; a pair {x, -x} in `mine` comes back as
// {max x, -min x}, so the ranks agree on x iff the two are opposite (see spread()).
template <size_t N, typename CommOf>
std::array<double, N> agree(Mpi& m, const std::array<double, N>& mine, const std::string& what, CommOf&& comm_of) {
  auto buf = std::make_shared<std::array<double, 2 * N>>();
  std::copy(mine.begin(), mine.end(), buf->begin());
  Handle req = nullptr;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    require_usable(m);
    Handle comm = comm_of(m);
    check(m.iallreduce(buf->data(), buf->data() + N, static_cast<int>(N), m.t_double, m.op_max, comm, &req), "MPI_Iallreduce");
  }
  wait(m, req, what, buf);
  std::array<double, N> got;
  std::copy(buf->begin() + N, buf->end(), got.begin());
  return got;
}

// Whether the ranks disagreed on the value sent as the pair at got[i], got[i + 1].
template <size_t N>
bool spread(const std::array<double, N>& got, size_t i) {
  return got[i] != -got[i + 1];
}

// The JS-facing collectives of the world communicator. Each starts with a rendezvous, waited
// with the timeout: a 7-double MPI_Iallreduce(MAX) of {0, call, -call, count, -count, root,
// -root}, the same collective whatever the call, so that ranks in different calls (a barrier
// on one, an all-reduce on another) or with different counts or roots get a Mismatch error on
// every rank instead of undefined behaviour. Then, with every rank inside the same call, MPI's
// blocking collective runs on the caller's array (its fastest algorithms; the nonblocking ones
// measured 2-3x slower for megabytes here, plus the copies a buffer safe to abandon would need).
enum class WorldCall : int { Barrier = 1, AllreduceSum = 2, AllreduceMin = 3, AllreduceMax = 4, AllreduceSumF32 = 5, BroadcastF32 = 6, BroadcastF64 = 7 };

const char* world_call_name(double c) {
  switch (static_cast<int>(c)) {
    case 1: return "barrier()";
    case 2: return "allreduce(Float64Array, 'sum')";
    case 3: return "allreduce(Float64Array, 'min')";
    case 4: return "allreduce(Float64Array, 'max')";
    case 5: return "allreduceSum(Float32Array)";
    case 6: return "broadcast(Float32Array)";
    case 7: return "broadcast(Float64Array)";
    default: return "an unknown call";
  }
}

void world_rendezvous(Mpi& m, WorldCall call, int64_t count, int root) {
  const double c = static_cast<double>(call);
  const double n = static_cast<double>(count);
  const double r = static_cast<double>(root);
  const char* what = world_call_name(c);
  const auto recv = agree<7>(m, {0, c, -c, n, -n, r, -r}, std::string(what) + " (waiting for every rank to call it)", [](Mpi& mm) { return mm.comm_world; });
  if (spread(recv, 1)) {
    throw Error(std::string("the ranks are in different collective calls of the communicator: this rank (") + std::to_string(m.rank) + ") calls " + what + ", another " + world_call_name(recv[1] != c ? recv[1] : -recv[2]) + "; every rank must make the same calls in the same order (building a distributed optimizer is one). Nothing was changed", kCodeMismatch);
  }
  if (spread(recv, 3)) {
    char b[200];
    std::snprintf(b, sizeof b, "%s: the ranks passed arrays of different lengths (from %.17g to %.17g; this rank %lld). Nothing was changed", what, -recv[4], recv[3], static_cast<long long>(count));
    throw Error(b, kCodeMismatch);
  }
  if (spread(recv, 5)) {
    char b[200];
    std::snprintf(b, sizeof b, "%s: the ranks named different roots (from %.17g to %.17g). Nothing was changed", what, -recv[6], recv[5]);
    throw Error(b, kCodeMismatch);
  }
}

template <typename T>
void world_allreduce(Mpi& m, T* data, int64_t n, Handle type, Handle op, WorldCall call) {
  world_rendezvous(m, call, n, 0);
  std::lock_guard<std::mutex> lock(m.mu);
  require_usable(m);
  allreduce_pieces(m, data, n, sizeof(T), type, op, m.comm_world);
}

// Leaves every open channel, waits for their headers (with the timeout), then MPI_Finalize.
// Throws Timeout (MPI is then left unfinalised) or Error.
void finish(Mpi& m) {
  std::vector<Channel*> pending;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (!m.inited || m.done) return;
    if (!m.broken.empty()) {
      m.done = true;
      throw Error("MPI was not finalised: " + m.broken, kCodeTimeout);
    }
    for (auto& c : m.channels) leave_locked(m, *c);
    for (auto& c : m.channels) if (c->state == Channel::kLeft && c->leave_req) pending.push_back(c.get());
  }
  for (Channel* c : pending) {
    // (Channels are never freed, so a timeout has nothing to keep alive.)
    wait(m, c->leave_req, "close(): waiting for the other ranks to leave a distributed optimizer", nullptr);
  }
  std::lock_guard<std::mutex> lock(m.mu);
  for (Channel* c : pending) {
    m.comm_free(&c->comm);
    c->state = Channel::kFreed;
  }
  m.done = true;
  check(m.finalize(), "MPI_Finalize");
}

// --- Node-API ------------------------------------------------------------------------------

[[noreturn]] void throw_js(Napi::Env env, const Error& e) {
  Napi::Error err = Napi::Error::New(env, std::string("fused-optim: ") + e.what());
  err.Set("code", Napi::String::New(env, e.code()));
  throw err;
}

template <typename F>
Napi::Value guarded(Napi::Env env, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    throw_js(env, e);
  }
  return env.Undefined();
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
    if (m.initialized(&already) != 0) throw Napi::Error::New(env, "fused-optim: MPI_Initialized failed");
    if (already) throw Napi::Error::New(env, "fused-optim: MPI was initialised by other code in this process; fused-optim must initialise it itself");
    int provided = 0;
    int rc = m.init_thread(nullptr, nullptr, kThreadSerialized, &provided);
    if (rc != 0) throw Napi::Error::New(env, "fused-optim: MPI_Init_thread failed: " + describe(rc));
    m.inited = true;
    m.provided = provided;
    if (m.comm_rank(m.comm_world, &m.rank) != 0 || m.comm_size(m.comm_world, &m.size) != 0) {
      throw Napi::Error::New(env, "fused-optim: MPI_Comm_rank or MPI_Comm_size failed");
    }
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", m.rank);
  o.Set("size", m.size);
  o.Set("provided", m.provided);
  return o;
}

// setTimeout(ms): the limit on waiting for the other ranks (Infinity: none).
Napi::Value SetTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "Expected a number for timeoutMs");
  const double ms = info[0].As<Napi::Number>().DoubleValue();
  if (!(ms > 0)) throw Napi::RangeError::New(env, "Expected a positive timeoutMs");
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  m.timeout_ms = ms;
  return env.Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Mpi& m = mpi();
  return guarded(info.Env(), [&] { world_rendezvous(m, WorldCall::Barrier, 0, 0); });
}

// finish(): leave every distributed optimizer, wait for the other ranks, MPI_Finalize.
Napi::Value Finish(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { finish(mpi()); });
}

// allreduceF64(data: Float64Array, op: 'sum' | 'min' | 'max'): in place.
Napi::Value AllreduceF64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mpi& m = mpi();
  if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "Expected (Float64Array, 'sum' | 'min' | 'max')");
  }
  auto a = info[0].As<Napi::Float64Array>();
  std::string op = info[1].As<Napi::String>().Utf8Value();
  Handle h = op == "sum" ? m.op_sum : op == "min" ? m.op_min : op == "max" ? m.op_max : nullptr;
  if (!h) throw Napi::RangeError::New(env, "Expected 'sum', 'min' or 'max' for op but received '" + op + "'");
  const WorldCall call = op == "sum" ? WorldCall::AllreduceSum : op == "min" ? WorldCall::AllreduceMin : WorldCall::AllreduceMax;
  return guarded(env, [&] { world_allreduce(m, a.Data(), static_cast<int64_t>(a.ElementLength()), m.t_double, h, call); });
}

// allreduceF32(data: Float32Array): in-place sum over the world.
Napi::Value AllreduceF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mpi& m = mpi();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "Expected a Float32Array");
  }
  auto a = info[0].As<Napi::Float32Array>();
  return guarded(env, [&] { world_allreduce(m, a.Data(), static_cast<int64_t>(a.ElementLength()), m.t_float, m.op_sum, WorldCall::AllreduceSumF32); });
}

// broadcast(data: Float32Array | Float64Array, root): root's values to every rank (world).
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mpi& m = mpi();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "Expected (Float32Array | Float64Array, root)");
  auto t = info[0].As<Napi::TypedArray>();
  const napi_typedarray_type kind = t.TypedArrayType();
  if (kind != napi_float32_array && kind != napi_float64_array) throw Napi::TypeError::New(env, "Expected a Float32Array or a Float64Array");
  const int root = info[1].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= m.size) throw Napi::RangeError::New(env, "Expected a root rank");
  return guarded(env, [&] {
    const int64_t n = static_cast<int64_t>(t.ElementLength());
    world_rendezvous(m, kind == napi_float32_array ? WorldCall::BroadcastF32 : WorldCall::BroadcastF64, n, root);
    std::lock_guard<std::mutex> lock(m.mu);
    require_usable(m);
    const bool f32 = kind == napi_float32_array;
    char* base = static_cast<char*>(t.ArrayBuffer().Data()) + t.ByteOffset();
    bcast_pieces(m, base, n, f32 ? 4 : 8, f32 ? m.t_float : m.t_double, root, m.comm_world);
  });
}

int require_channel_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "Expected a channel id");
  return info[0].As<Napi::Number>().Int32Value();
}

Napi::Value OpenChannel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = -1;
  guarded(env, [&] { id = open_channel(); });
  return Napi::Number::New(env, id);
}

// header(channel, op, iteration)
Napi::Value Header(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ch = require_channel_arg(info);
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) throw Napi::TypeError::New(env, "Expected (channel, op, iteration)");
  const int op = info[1].As<Napi::Number>().Int32Value();
  if (op < 1 || op > 4) throw Napi::RangeError::New(env, "Expected op 1, 2, 3 or 4");
  return guarded(env, [&] { header(ch, static_cast<Op>(op), info[2].As<Napi::Number>().DoubleValue()); });
}

Napi::Value Leave(const Napi::CallbackInfo& info) {
  int ch = require_channel_arg(info);
  return guarded(info.Env(), [&] { leave(ch); });
}

Napi::Value Ended(const Napi::CallbackInfo& info) {
  int ch = require_channel_arg(info);
  bool e = false;
  guarded(info.Env(), [&] { e = ended(ch); });
  return Napi::Boolean::New(info.Env(), e);
}

// channelBroadcastF32(channel, data: Float32Array, root): after a header.
Napi::Value ChannelBroadcastF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ch = require_channel_arg(info);
  if (info.Length() < 3 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "Expected (channel, Float32Array, root)");
  }
  auto a = info[1].As<Napi::Float32Array>();
  const int root = info[2].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= mpi().size) throw Napi::RangeError::New(env, "Expected a root rank");
  return guarded(env, [&] { broadcast_f32(ch, a.Data(), static_cast<int64_t>(a.ElementLength()), root); });
}

// channelAllreduceF32(channel, data: Float32Array): in-place sum over the channel (after a
// header).
Napi::Value ChannelAllreduceF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ch = require_channel_arg(info);
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "Expected (channel, Float32Array)");
  }
  auto a = info[1].As<Napi::Float32Array>();
  return guarded(env, [&] { allreduce_sum_f32(ch, a.Data(), static_cast<int64_t>(a.ElementLength())); });
}

}  // namespace

bool active() {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  return m.lib && m.inited && !m.done && m.broken.empty();
}

int rank() { return mpi().rank; }
int size() { return mpi().size; }

int open_channel() {
  Mpi& m = mpi();
  Channel* c = nullptr;
  Handle req = nullptr;
  int id = -1;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    require_usable(m);
    poll_left(m);
    m.channels.push_back(std::make_unique<Channel>());
    c = m.channels.back().get();
    c->state = Channel::kFreed;  // until the duplicate exists
    id = static_cast<int>(m.channels.size() - 1);
    check(m.comm_idup(m.comm_world, &c->comm, &req), "MPI_Comm_idup");
  }
  // Channels are never freed, so a timeout has nothing to keep alive.
  wait(m, req, "building a distributed optimizer (MPI_Comm_idup)", nullptr);
  std::lock_guard<std::mutex> lock(m.mu);
  c->state = Channel::kOpen;
  return id;
}

void header(int id, Op op, double iteration) {
  Mpi& m = mpi();
  const double o = static_cast<double>(op);
  const char* what = op_name(o);
  const auto recv = agree<kHeader>(m, {0, o, -o, iteration, -iteration}, std::string(what) + " (waiting for every rank to start it)", [&](Mpi& mm) {
    poll_left(mm);
    Channel& c = channel_locked(mm, id);
    if (c.state == Channel::kEnded) {
      throw Error(std::string(what) + ": another rank has left this distributed optimizer (disposed it, or closed the communicator); it cannot run collectives any more: dispose it", kCodeRankLeft);
    }
    if (c.state != Channel::kOpen) throw Error(std::string(what) + ": this distributed optimizer has been disposed", kCodeMpi);
    return c.comm;
  });
  if (recv[0] > 0) {
    std::lock_guard<std::mutex> lock(m.mu);
    Channel& c = channel_locked(m, id);
    c.state = Channel::kEnded;
    m.comm_free(&c.comm);
    const int who = static_cast<int>(recv[0]) - 1;
    throw Error(std::string(what) + ": rank " + std::to_string(who) +
                    " has left this distributed optimizer (disposed it, or closed the "
                    "communicator) while this rank (" + std::to_string(m.rank) +
                    ") still uses it; no rank can step it any more: dispose it",
                kCodeRankLeft);
  }
  if (spread(recv, 1)) {
    throw Error(std::string("the ranks disagree on the collective operation of a distributed optimizer: this rank (") + std::to_string(m.rank) + ") runs " + what + ", another runs " + op_name(recv[1] != o ? recv[1] : -recv[2]) + "; every rank must call the same methods in the same order. Nothing was changed", kCodeMismatch);
  }
  if (spread(recv, 3)) {
    char buf2[160];
    std::snprintf(buf2, sizeof buf2, "iterations from %.17g to %.17g", -recv[4], recv[3]);
    throw Error(std::string(what) + ": the ranks' optimizers are at different iterations (" + buf2 + "; this rank: " + std::to_string(static_cast<long long>(iteration)) + "); every rank must take the same steps. Nothing was changed", kCodeMismatch);
  }
}

void leave(int id) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.lib || !m.inited || m.done || !m.broken.empty()) return;
  if (id < 0 || static_cast<size_t>(id) >= m.channels.size()) return;
  leave_locked(m, *m.channels[static_cast<size_t>(id)]);
  poll_left(m);
}

bool ended(int id) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  return channel_locked(m, id).state == Channel::kEnded;
}

namespace {
// The channel's communicator, for a bulk collective after its header. Caller holds m.mu.
Handle bulk_comm(Mpi& m, int id) {
  require_usable(m);
  Channel& c = channel_locked(m, id);
  if (c.state != Channel::kOpen) throw Error("a collective on a channel that is no longer open", kCodeMpi);
  return c.comm;
}
}  // namespace

void allreduce_sum_f32(int id, float* data, int64_t n) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  allreduce_pieces(m, data, n, sizeof(float), m.t_float, m.op_sum, bulk_comm(m, id));
}

void reduce_scatter_sum_f32(int id, const float* send, float* recv, const int* counts) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  Handle comm = bulk_comm(m, id);
  check(m.reduce_scatter(send, recv, counts, m.t_float, m.op_sum, comm), "MPI_Reduce_scatter");
}

void allgatherv_f32(int id, float* buf, const int* counts, const int* displs) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  Handle comm = bulk_comm(m, id);
  check(m.allgatherv(kInPlace, 0, m.t_float, buf, counts, displs, m.t_float, comm), "MPI_Allgatherv");
}

void sum_in_rank_order_f64(int id, double* v, int n) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  Handle comm = bulk_comm(m, id);
  std::vector<double> all(static_cast<size_t>(n) * static_cast<size_t>(m.size));
  check(m.allgather(v, n, m.t_double, all.data(), n, m.t_double, comm), "MPI_Allgather");
  for (int i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int r = 0; r < m.size; ++r) acc += all[static_cast<size_t>(r) * static_cast<size_t>(n) + static_cast<size_t>(i)];
    v[i] = acc;
  }
}

void broadcast_f32(int id, float* data, int64_t n, int root) {
  Mpi& m = mpi();
  std::lock_guard<std::mutex> lock(m.mu);
  bcast_pieces(m, data, n, sizeof(float), m.t_float, root, bulk_comm(m, id));
}

void init_mpi(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("load", Napi::Function::New(env, Load, "load"));
  o.Set("init", Napi::Function::New(env, Init, "init"));
  o.Set("setTimeout", Napi::Function::New(env, SetTimeout, "setTimeout"));
  o.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
  o.Set("finish", Napi::Function::New(env, Finish, "finish"));
  o.Set("allreduceF64", Napi::Function::New(env, AllreduceF64, "allreduceF64"));
  o.Set("allreduceF32", Napi::Function::New(env, AllreduceF32, "allreduceF32"));
  o.Set("openChannel", Napi::Function::New(env, OpenChannel, "openChannel"));
  o.Set("header", Napi::Function::New(env, Header, "header"));
  o.Set("leave", Napi::Function::New(env, Leave, "leave"));
  o.Set("ended", Napi::Function::New(env, Ended, "ended"));
  o.Set("channelAllreduceF32", Napi::Function::New(env, ChannelAllreduceF32, "channelAllreduceF32"));
  o.Set("channelBroadcastF32", Napi::Function::New(env, ChannelBroadcastF32, "channelBroadcastF32"));
  o.Set("broadcast", Napi::Function::New(env, Broadcast, "broadcast"));
  o.Set("threadSerialized", Napi::Number::New(env, kThreadSerialized));
  exports.Set("mpi", o);
}

}  // namespace fo::dist
