#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include <sys/mman.h>

#include "../dist/collectives.h"
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

// Per-group constants of applied step t, reused across steps on the same thread.
struct GroupConsts {
  std::vector<uint32_t> words;   // groups * consts_bytes / 4 (Consts are 4-byte words)
  std::vector<UpdateFn> fn;      // [group][reduce] -> the variant's loop
  std::vector<PrepareFn> prepare;   // [group], trust-ratio rules
  std::vector<ApplyFn> apply;       // [group], trust-ratio rules
  const void* at(int32_t g, int cb) const { return words.data() + static_cast<size_t>(g) * cb / 4; }
};

GroupConsts& group_consts(const KernelTable& k, const RuleInfo& rule, const StepSettings& s,
                          int64_t t) {
  thread_local GroupConsts gc;
  const int cb = rule.consts_bytes;
  gc.words.resize(static_cast<size_t>(s.groups) * cb / 4 + 1);
  gc.fn.resize(static_cast<size_t>(s.groups) * 2);
  gc.prepare.resize(static_cast<size_t>(s.groups));
  gc.apply.resize(static_cast<size_t>(s.groups));
  const RuleLoops& loops = k.rules[static_cast<int>(rule.id)];
  for (int32_t g = 0; g < s.groups; ++g) {
    void* c = gc.words.data() + static_cast<size_t>(g) * cb / 4;
    rule.make(s.group(g), t, c);
    const int v = rule.variant(c);
    gc.fn[static_cast<size_t>(g) * 2] = loops.update[v][0];
    gc.fn[static_cast<size_t>(g) * 2 + 1] = loops.update[v][1];
    gc.prepare[static_cast<size_t>(g)] = loops.prepare[v];
    gc.apply[static_cast<size_t>(g)] = loops.apply[v];
  }
  return gc;
}

Partial update_chunk(const GroupConsts& gc, int cb, const Chunk& ch, const ArenaPointers& ptr,
                     const int32_t* tensor_group, float scale, float clip, bool reduce) {
  const int32_t grp = tensor_group[ch.tensor];
  const int64_t b = ch.begin;
  ChunkArgs a{ptr.p + b, ptr.g + b, {}, ch.end - b, scale, clip, gc.at(grp, cb)};
  for (int k = 0; k < rules::kMaxSlots; ++k) a.s[k] = ptr.s[k] ? ptr.s[k] + b : nullptr;
  return gc.fn[static_cast<size_t>(grp) * 2 + (reduce ? 1 : 0)](a);
}

ChunkArgs chunk_args(const GroupConsts& gc, int cb, const Chunk& ch, const ArenaPointers& ptr,
                     int32_t grp, float scale, float clip) {
  const int64_t b = ch.begin;
  ChunkArgs a{ptr.p + b, ptr.g + b, {}, ch.end - b, scale, clip, gc.at(grp, cb)};
  for (int k = 0; k < rules::kMaxSlots; ++k) a.s[k] = ptr.s[k] ? ptr.s[k] + b : nullptr;
  return a;
}

// A rule with a per-tensor trust ratio (LAMB): reduce g and decide; then a pass that updates
// the moments and sums p² and u² per chunk; then per tensor ratio = ‖p‖ / ‖u‖ (1 when either
// is 0); then a pass that moves p. Three passes; every sum in chunk order.
Outcome run_trust_step(const KernelTable& k, const Layout& layout, const ArenaPointers& ptr,
                       const RuleInfo& rule, const StepSettings& s, const int32_t* tensor_group,
                       int64_t& applied, int threads, double* tensor_sq, double* tensor_abs) {
  const size_t nchunks = layout.chunks.size();
  Partial* parts = scratch(nchunks).data();
  const float scale = static_cast<float>(s.grad_scale);
  const int cb = rule.consts_bytes;
  for_each_chunk(layout, threads, [&](int64_t c) {
    const Chunk& ch = layout.chunks[c];
    parts[c] = k.reduce(ptr.g + ch.begin, ch.end - ch.begin, scale);
  });
  const Reduced r = fold_partials(layout, parts, tensor_sq, tensor_abs);
  const Outcome o = decide(r.sq, r.abs, true, s.skip_non_finite(), s.clipping(), s.max_grad_norm,
                           applied);
  if (o.skipped) return o;
  const GroupConsts& gc = group_consts(k, rule, s, o.applied);
  const float clip = static_cast<float>(o.clip);
  for_each_chunk(layout, threads, [&](int64_t c) {
    const Chunk& ch = layout.chunks[c];
    const int32_t grp = tensor_group[ch.tensor];
    parts[c] = gc.prepare[static_cast<size_t>(grp)](chunk_args(gc, cb, ch, ptr, grp, scale, clip));
  });
  thread_local std::vector<double> psq, usq;
  thread_local std::vector<float> ratio;
  psq.resize(layout.tensors());
  usq.resize(layout.tensors());
  ratio.resize(layout.tensors());
  fold_partials(layout, parts, psq.data(), usq.data());
  // note: the pool's threads must not name these thread_local vectors (each thread has its
  // own); they read the caller's through this pointer.
  float* rt = ratio.data();
  for (size_t t = 0; t < layout.tensors(); ++t) {
    rt[t] = psq[t] > 0.0 && usq[t] > 0.0 ? static_cast<float>(std::sqrt(psq[t]) / std::sqrt(usq[t]))
                                         : 1.0f;
  }
  for_each_chunk(layout, threads, [&](int64_t c) {
    const Chunk& ch = layout.chunks[c];
    const int32_t grp = tensor_group[ch.tensor];
    gc.apply[static_cast<size_t>(grp)](chunk_args(gc, cb, ch, ptr, grp, scale, clip),
                                       rt[static_cast<size_t>(ch.tensor)]);
  });
  applied = o.applied;
  return o;
}

}  // namespace

Outcome run_step(const Layout& layout, const ArenaPointers& ptr, const RuleInfo& rule,
                 const StepSettings& s, const int32_t* tensor_group, int64_t& applied,
                 int threads, double* tensor_sq, double* tensor_abs) {
  const KernelTable& k = kernels();
  if ((rule.norms & rules::kNeedsTrustRatio) != 0) {
    return run_trust_step(k, layout, ptr, rule, s, tensor_group, applied, threads, tensor_sq,
                          tensor_abs);
  }
  const size_t nchunks = layout.chunks.size();
  std::vector<Partial>& partials = scratch(nchunks);
  Partial* parts = partials.data();
  const float scale = static_cast<float>(s.grad_scale);
  const int cb = rule.consts_bytes;
  const bool two_pass = s.two_pass();

  if (!two_pass) {
    // One pass: reduce and update together; a non-finite gradient is reported, not skipped.
    const GroupConsts& gc = group_consts(k, rule, s, applied + 1);
    for_each_chunk(layout, threads, [&](int64_t c) {
      parts[c] = update_chunk(gc, cb, layout.chunks[c], ptr, tensor_group, scale, 1.0f, true);
    });
  } else {
    for_each_chunk(layout, threads, [&](int64_t c) {
      const Chunk& ch = layout.chunks[c];
      parts[c] = k.reduce(ptr.g + ch.begin, ch.end - ch.begin, scale);
    });
  }
  Reduced r = fold_partials(layout, parts, tensor_sq, tensor_abs);
  if (s.global_sums) {
    double sums[2] = {r.sq, r.abs};
    s.global_sums(s.global_sums_ctx, sums);
    r.sq = sums[0];
    r.abs = sums[1];
  }
  const Outcome o = decide(r.sq, r.abs, two_pass, s.skip_non_finite(), s.clipping(),
                           s.max_grad_norm, applied);
  if (two_pass && !o.skipped) {
    const GroupConsts& gc = group_consts(k, rule, s, o.applied);
    const float clip = static_cast<float>(o.clip);
    for_each_chunk(layout, threads, [&](int64_t c) {
      update_chunk(gc, cb, layout.chunks[c], ptr, tensor_group, scale, clip, false);
    });
  }
  applied = o.applied;
  return o;
}

namespace bench {
void stream_floor(const Layout& layout, float* a, const float* b, float* c, float* d, float s,
                  int threads) {
  const KernelTable& k = kernels();
  for_each_chunk(layout, threads, [&](int64_t ci) {
    const Chunk& ch = layout.chunks[ci];
    k.stream4r3w(a + ch.begin, b + ch.begin, c + ch.begin, d + ch.begin, ch.end - ch.begin, s);
  });
}
}  // namespace bench

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

CpuOptimizer::CpuOptimizer(ArenaSpec spec, int threads)
    : OptimizerBackend(std::move(spec)), threads_(threads) {
  for (int s = 0; s < slots(); ++s) blocks_[s] = HostBlock::allocate(layout_.total);
  ptr_.p = blocks_[kParams]->data;
  ptr_.g = blocks_[kGrads]->data;
  for (int k = 0; k < rule_->slots; ++k) ptr_.s[k] = blocks_[kFirstState + k]->data;
  tensor_sq_.assign(layout_.tensors(), 0.0);
  tensor_abs_.assign(layout_.tensors(), 0.0);
  trace_.assign(static_cast<size_t>(trace_capacity_ * kTraceFields), 0.0);
}

CpuOptimizer::CpuOptimizer(ArenaSpec spec, const ArenaPointers& ptr, int threads)
    : OptimizerBackend(std::move(spec)), ptr_(ptr), threads_(threads) {
  trace_capacity_ = 0;
}

CpuOptimizer::CpuOptimizer(ArenaSpec spec, int threads, Sharding sh)
    : OptimizerBackend(std::move(spec)), threads_(threads) {
  if (sh.size < 1 || sh.rank < 0 || sh.rank >= sh.size) throw std::runtime_error("bad sharding");
  if (layout_.total > (int64_t{1} << 31) - 1) {
    throw std::runtime_error("a sharded arena is limited to 2^31 - 1 elements (MPI counts are int)");
  }
  if ((rule_->norms & rules::kNeedsTrustRatio) != 0) {
    throw std::runtime_error("a rule with per-tensor trust ratios (LAMB) cannot be sharded");
  }
  sharded_ = true;
  channel_ = sh.channel;
  auto cut = [&](int r) {
    return r >= sh.size ? layout_.total
                        : layout_.total * r / sh.size / Layout::kAlignElems * Layout::kAlignElems;
  };
  for (int r = 0; r < sh.size; ++r) {
    displs_.push_back(static_cast<int>(cut(r)));
    counts_.push_back(static_cast<int>(cut(r + 1) - cut(r)));
  }
  lo_ = cut(sh.rank);
  hi_ = cut(sh.rank + 1);
  // The slice's pieces of tensors, chunked as a layout of their own.
  Layout& l = shard_layout_;
  for (size_t t = 0; t < layout_.tensors(); ++t) {
    const int64_t a = std::max(layout_.offset[t], lo_);
    const int64_t b = std::min(layout_.offset[t] + layout_.length[t], hi_);
    if (a >= b) continue;
    const int32_t piece = static_cast<int32_t>(l.length.size());
    l.offset.push_back(a - lo_);
    l.length.push_back(b - a);
    l.first_chunk.push_back(static_cast<int32_t>(l.chunks.size()));
    for (int64_t c = a; c < b; c += kChunkElems) {
      l.chunks.push_back(Chunk{c - lo_, std::min(b, c + kChunkElems) - lo_, piece});
    }
    l.elements += b - a;
    shard_group_.push_back(tensor_group_[t]);
  }
  l.first_chunk.push_back(static_cast<int32_t>(l.chunks.size()));
  l.total = hi_ - lo_;
  blocks_[kParams] = HostBlock::allocate(layout_.total);
  blocks_[kGrads] = HostBlock::allocate(layout_.total);
  for (int k = 0; k < rule_->slots; ++k) blocks_[kFirstState + k] = HostBlock::allocate(hi_ - lo_);
  shard_g_ = HostBlock::allocate(hi_ - lo_);
  ptr_.p = blocks_[kParams]->data;
  ptr_.g = blocks_[kGrads]->data;
  for (int k = 0; k < rule_->slots; ++k) ptr_.s[k] = blocks_[kFirstState + k]->data;
  trace_.assign(static_cast<size_t>(trace_capacity_ * kTraceFields), 0.0);
}

namespace {
void sharded_global_sums(const void* channel, double* sums) {
  dist::sum_in_rank_order_f64(*static_cast<const int*>(channel), sums, 2);
}
}  // namespace

void CpuOptimizer::step(const StepSettings& s, double* out) {
  if (sharded_) {
    dist::reduce_scatter_sum_f32(channel_, ptr_.g, shard_g_->data, counts_.data());
    ArenaPointers sp = ptr_;
    sp.p = ptr_.p + lo_;
    sp.g = shard_g_->data;
    StepSettings ss = s;
    ss.global_sums = &sharded_global_sums;
    ss.global_sums_ctx = &channel_;
    const Outcome o = run_step(shard_layout_, sp, *rule_, ss, shard_group_.data(), applied_,
                               threads_, nullptr, nullptr);
    // Every rank made the same decision (global sums); a skipped step moved nothing.
    if (!o.skipped) dist::allgatherv_f32(channel_, ptr_.p, counts_.data(), displs_.data());
    write_outcome(o, out);
    record(o, s);
    return;
  }
  const bool owned = blocks_[kParams] != nullptr;
  const Outcome o = run_step(layout_, ptr_, *rule_, s, tensor_group_.data(), applied_, threads_,
                             owned ? tensor_sq_.data() : nullptr,
                             owned ? tensor_abs_.data() : nullptr);
  write_outcome(o, out);
  record(o, s);
}

void CpuOptimizer::record(const Outcome& o, const StepSettings& s) {
  if (trace_capacity_ > 0) {
    if (trace_written_ - trace_read_ >= trace_capacity_) {  // ring full: drop the oldest
      ++trace_read_;
      ++trace_dropped_;
    }
    double* rec = &trace_[static_cast<size_t>((trace_written_ % trace_capacity_) * kTraceFields)];
    write_trace_record(o, s.lr0(), rec);
    ++trace_written_;
  }
  ++iteration_;
}

void CpuOptimizer::tensor_sums(double* sq, double* abs) {
  if (tensor_sq_.empty()) return;
  std::copy(tensor_sq_.begin(), tensor_sq_.end(), sq);
  std::copy(tensor_abs_.begin(), tensor_abs_.end(), abs);
}

float* CpuOptimizer::host_slot(int slot) {
  if (slot < 0 || slot >= slots()) return nullptr;
  if (slot == kParams) return ptr_.p;
  if (slot == kGrads) return const_cast<float*>(ptr_.g);
  return ptr_.s[slot - kFirstState];
}

void CpuOptimizer::write_slot(int slot, int64_t offset, const float* src, int64_t n) {
  if (sharded_ && slot >= kFirstState) {  // only the part inside this rank's slice
    const int64_t a = std::max(offset, lo_), b = std::min(offset + n, hi_);
    if (a < b) std::memcpy(host_slot(slot) + (a - lo_), src + (a - offset), static_cast<size_t>(b - a) * 4);
    return;
  }
  std::memcpy(host_slot(slot) + offset, src, static_cast<size_t>(n) * 4);
}

void CpuOptimizer::read_slot(int slot, int64_t offset, float* dst, int64_t n) {
  if (sharded_ && slot >= kFirstState) {  // zeros outside this rank's slice
    std::fill(dst, dst + n, 0.0f);
    const int64_t a = std::max(offset, lo_), b = std::min(offset + n, hi_);
    if (a < b) std::memcpy(dst + (a - offset), host_slot(slot) + (a - lo_), static_cast<size_t>(b - a) * 4);
    return;
  }
  std::memcpy(dst, host_slot(slot) + offset, static_cast<size_t>(n) * 4);
}

void CpuOptimizer::fill_slot(int slot, float value) {
  float* p = host_slot(slot);
  std::fill(p, p + (sharded_ && slot >= kFirstState ? hi_ - lo_ : layout_.total), value);
}

void CpuOptimizer::lerp_slot(int dst, int src, const double* w) {
  if (sharded_) throw std::runtime_error("lerp_slot is not available on a sharded arena");
  float* d = host_slot(dst);
  const float* from = host_slot(src);
  std::vector<float> wf(static_cast<size_t>(groups_));
  for (int32_t g = 0; g < groups_; ++g) wf[static_cast<size_t>(g)] = static_cast<float>(w[g]);
  for_each_chunk(layout_, threads_, [&](int64_t c) {
    const Chunk& ch = layout_.chunks[c];
    const float k = wf[static_cast<size_t>(tensor_group_[ch.tensor])];
    for (int64_t i = ch.begin; i < ch.end; ++i) d[i] = d[i] + k * (from[i] - d[i]);
  });
}

int64_t CpuOptimizer::read_trace(double* dst, int64_t max) {
  if (trace_capacity_ <= 0) return 0;
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
  if (shard_g_) b += shard_g_->bytes;
  return b + static_cast<int64_t>(trace_.size() * 8 + tensor_sq_.size() * 16);
}

}  // namespace fo::cpu
