#include "engine.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include <sys/mman.h>

#include "dispatch.h"
#include "pool.h"

namespace fo::cpu {
namespace {

// Below this many elements a step runs on the calling thread: waking the pool costs more.
constexpr int64_t kParallelMinElems = 1 << 15;

// Partials scratch, reused across steps on the same thread.
std::vector<Partial>& scratch(size_t n) {
  thread_local std::vector<Partial> buf;
  if (buf.size() < n) buf.resize(n);
  return buf;
}

// Runs body(chunk_index) for every chunk, spread over the pool. Which thread runs which chunk
// varies; nothing that depends on it is kept.
template <class Body>
void for_each_chunk(const Layout& layout, int threads, const Body& body) {
  const int64_t nchunks = static_cast<int64_t>(layout.chunks.size());
  if (threads <= 0) threads = ThreadPool::instance().threads();
  if (layout.elements < kParallelMinElems || nchunks < 2) threads = 1;
  if (threads > nchunks) threads = static_cast<int>(nchunks);
  if (threads <= 1) {
    for (int64_t c = 0; c < nchunks; ++c) body(c);
    return;
  }
  std::atomic<int64_t> next{0};
  ThreadPool::instance().run(threads, [&](int) {
    for (;;) {
      // note: grab a few chunks at a time so small chunks do not contend on the counter.
      int64_t c0 = next.fetch_add(4, std::memory_order_relaxed);
      if (c0 >= nchunks) break;
      int64_t c1 = std::min(c0 + 4, nchunks);
      for (int64_t c = c0; c < c1; ++c) body(c);
    }
  });
}

Partial update_chunk(const KernelTable& k, const Chunk& ch, const StepPointers& ptr, Kind kind,
                     float scale, float clip, const AdamConsts& ac, const SgdConsts& sc,
                     bool with_reduce) {
  const int64_t b = ch.begin, n = ch.end - ch.begin;
  if (kind == Kind::Adam) {
    return k.adam(ptr.p + b, ptr.g + b, ptr.s1 + b, ptr.s2 + b, n, scale, clip, ac, with_reduce);
  }
  return k.sgd(ptr.p + b, ptr.g + b, ptr.s1 ? ptr.s1 + b : nullptr, n, scale, clip, sc,
               with_reduce);
}

}  // namespace

StepOutcome run_step(const Layout& layout, const StepPointers& ptr, const HyperParams& h,
                     int64_t& applied, int threads, double* tensor_sq, double* tensor_abs) {
  const KernelTable& k = kernels();
  const size_t nchunks = layout.chunks.size();
  std::vector<Partial>& partials = scratch(nchunks);
  Partial* parts = partials.data();
  const float scale = static_cast<float>(h.grad_scale);
  StepOutcome o;

  if (!h.two_pass()) {
    // One pass: reduce and update together; a non-finite gradient is reported, not skipped.
    const int64_t t = applied + 1;
    const AdamConsts ac = h.kind == Kind::Adam ? make_adam_consts(h, t) : AdamConsts{};
    const SgdConsts sc = h.kind == Kind::SGD ? make_sgd_consts(h, t) : SgdConsts{};
    for_each_chunk(layout, threads, [&](int64_t c) {
      parts[c] = update_chunk(k, layout.chunks[c], ptr, h.kind, scale, 1.0f, ac, sc, true);
    });
    Reduced r = fold_partials(layout, parts, tensor_sq, tensor_abs);
    o.l2 = r.l2();
    o.l1 = r.abs;
    o.non_finite = r.non_finite;
    applied = t;
    return o;
  }

  // Two passes: reduce, decide (skip / clip coefficient), update.
  for_each_chunk(layout, threads, [&](int64_t c) {
    const Chunk& ch = layout.chunks[c];
    parts[c] = k.reduce(ptr.g + ch.begin, ch.end - ch.begin, scale);
  });
  Reduced r = fold_partials(layout, parts, tensor_sq, tensor_abs);
  o.l2 = r.l2();
  o.l1 = r.abs;
  o.non_finite = r.non_finite;
  if (r.non_finite && h.skip_non_finite()) {
    o.skipped = true;
    o.clip = 1.0;
    return o;
  }
  o.clip = clip_coefficient(h, o.l2);
  const float clip = static_cast<float>(o.clip);
  const int64_t t = applied + 1;
  const AdamConsts ac = h.kind == Kind::Adam ? make_adam_consts(h, t) : AdamConsts{};
  const SgdConsts sc = h.kind == Kind::SGD ? make_sgd_consts(h, t) : SgdConsts{};
  for_each_chunk(layout, threads, [&](int64_t c) {
    update_chunk(k, layout.chunks[c], ptr, h.kind, scale, clip, ac, sc, false);
  });
  applied = t;
  return o;
}

void stream_floor(const Layout& layout, float* a, const float* b, float* c, float* d, float s,
                  int threads) {
  const KernelTable& k = kernels();
  for_each_chunk(layout, threads, [&](int64_t ci) {
    const Chunk& ch = layout.chunks[ci];
    k.stream4r3w(a + ch.begin, b + ch.begin, c + ch.begin, d + ch.begin, ch.end - ch.begin, s);
  });
}

void write_outcome(const StepOutcome& o, int64_t applied, double* out) {
  out[kOutL2] = o.l2;
  out[kOutL1] = o.l1;
  out[kOutClipCoef] = o.clip;
  out[kOutSkipped] = o.skipped ? 1.0 : 0.0;
  out[kOutNonFinite] = o.non_finite ? 1.0 : 0.0;
  out[kOutApplied] = static_cast<double>(applied);
}

std::shared_ptr<HostBlock> HostBlock::allocate(int64_t elements) {
  auto b = std::make_shared<HostBlock>();
  // At least one cache line, so an empty arena still has a valid, aligned pointer.
  int64_t bytes = std::max<int64_t>(64, (elements * 4 + 63) / 64 * 64);
  if (bytes >= kMapBytes) {
    void* mem = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    b->data = static_cast<float*>(mem);  // page-aligned, zero-filled
    b->mapped = true;
  } else {
    void* mem = std::aligned_alloc(64, static_cast<size_t>(bytes));
    if (!mem) throw std::bad_alloc();
    std::memset(mem, 0, static_cast<size_t>(bytes));
    b->data = static_cast<float*>(mem);
  }
  b->bytes = bytes;
  return b;
}

int64_t HostBlock::discard() {
  if (!data || !mapped) return bytes;
  // MADV_DONTNEED on private anonymous pages: freed now, zero-filled on the next touch.
  if (madvise(data, static_cast<size_t>(bytes), MADV_DONTNEED) != 0) return bytes;
  return 0;
}

HostBlock::~HostBlock() {
  if (!data) return;
  if (mapped) {
    munmap(data, static_cast<size_t>(bytes));
  } else {
    std::free(data);
  }
}

CpuOptimizer::CpuOptimizer(Kind kind, Layout layout, int64_t trace_capacity, int threads)
    : OptimizerBackend(kind, std::move(layout), trace_capacity), threads_(threads) {
  for (int s = 0; s < slots(); ++s) blocks_[s] = HostBlock::allocate(layout_.total);
  tensor_sq_.assign(layout_.tensors(), 0.0);
  tensor_abs_.assign(layout_.tensors(), 0.0);
  trace_.assign(static_cast<size_t>(trace_capacity_ * kTraceFields), 0.0);
}

void CpuOptimizer::step(const HyperParams& h, double* out) {
  StepPointers ptr{blocks_[kParams]->data, blocks_[kGrads]->data,
                   blocks_[kState1] ? blocks_[kState1]->data : nullptr,
                   blocks_[kState2] ? blocks_[kState2]->data : nullptr};
  StepOutcome o = run_step(layout_, ptr, h, applied_, threads_, tensor_sq_.data(),
                           tensor_abs_.data());
  write_outcome(o, applied_, out);
  if (trace_capacity_ > 0) {
    if (trace_written_ - trace_read_ >= trace_capacity_) {  // ring full: drop the oldest
      ++trace_read_;
      ++trace_dropped_;
    }
    double* rec = &trace_[static_cast<size_t>((trace_written_ % trace_capacity_) * kTraceFields)];
    rec[0] = o.l2;
    rec[1] = o.l1;
    rec[2] = h.lr;
    rec[3] = o.skipped ? 1.0 : 0.0;
    ++trace_written_;
  }
  ++iteration_;
}

void CpuOptimizer::tensor_sums(double* sq, double* abs) {
  std::copy(tensor_sq_.begin(), tensor_sq_.end(), sq);
  std::copy(tensor_abs_.begin(), tensor_abs_.end(), abs);
}

float* CpuOptimizer::host_slot(int slot) {
  return slot >= 0 && slot < kSlotCount && blocks_[slot] ? blocks_[slot]->data : nullptr;
}

void CpuOptimizer::write_slot(int slot, int64_t offset, const float* src, int64_t n) {
  std::memcpy(host_slot(slot) + offset, src, static_cast<size_t>(n) * 4);
}

void CpuOptimizer::read_slot(int slot, int64_t offset, float* dst, int64_t n) {
  std::memcpy(dst, host_slot(slot) + offset, static_cast<size_t>(n) * 4);
}

void CpuOptimizer::fill_slot(int slot, float value) {
  float* p = host_slot(slot);
  std::fill(p, p + layout_.total, value);
}

int64_t CpuOptimizer::read_trace(double* dst, int64_t max) {
  int64_t n = std::min(max, trace_written_ - trace_read_);
  for (int64_t i = 0; i < n; ++i) {
    const double* rec =
        &trace_[static_cast<size_t>(((trace_read_ + i) % trace_capacity_) * kTraceFields)];
    std::copy(rec, rec + kTraceFields, dst + i * kTraceFields);
  }
  trace_read_ += n;
  return n;
}

int64_t CpuOptimizer::native_bytes() const {
  int64_t b = 0;
  for (const auto& blk : blocks_) if (blk) b += blk->bytes;
  return b + static_cast<int64_t>(trace_.size() * 8 + tensor_sq_.size() * 16);
}

}  // namespace fo::cpu
