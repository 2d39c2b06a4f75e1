// CPU backend: the step driver over a Layout (fixed chunks, parallel over the pool, ordered
// reduction) and the optimizer arena that owns host memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "../core/backend.h"
#include "../core/decide.h"
#include "../core/layout.h"
#include "../core/step_args.h"

namespace fo::cpu {

// Base pointers of the slots; element offsets come from the Layout.
struct ArenaPointers {
  float* p;
  const float* g;
  float* s[rules::kMaxSlots];   // the rule's state slots (unused ones null)
};

// One step over every chunk of `layout` with `rule`: unscale, reduce, decide, update.
// `applied` is the applied-step count before the step and is advanced unless the step is
// skipped. `tensor_group[t]` is tensor t's group in `s`. `threads` <= 0 means the pool
// default. `tensor_sq`/`tensor_abs` (may be null) receive per-tensor sums.
Outcome run_step(const Layout& layout, const ArenaPointers& ptr, const RuleInfo& rule,
                 const StepSettings& s, const int32_t* tensor_group, int64_t& applied,
                 int threads, double* tensor_sq, double* tensor_abs);

// Host memory of one arena slot, shared (std::shared_ptr) by everything that can still reach
// it: the CpuOptimizer, each JavaScript backing store made over it (and through it any
// ArrayBuffer that a transfer() moved it to), the ArrayBuffer objects the addon handed out
// (a native API such as crypto.randomFill may keep writing through a view's raw pointer after
// that ArrayBuffer was detached), and an in-flight stepAsync. The memory is unmapped/freed only
// when the last of them lets go (native/addon/optimizer_wrap.cc has the protocol).
//
// note: blocks of kMapBytes or more are mapped pages (mmap), not malloc memory. glibc raises its
// mmap threshold to the size of the first large block freed, after which blocks of that size
// come from the malloc heap and free() no longer gives them back to the OS: creating and
// disposing optimizers then grew RSS by ~40 MB per 64 MB arena (scripts/soak.mjs). Mapped
// pages go back to the OS when freed and come zeroed, so they need no memset either.
struct HostBlock {
  static constexpr int64_t kMapBytes = int64_t{1} << 20;
  float* data = nullptr;
  int64_t bytes = 0;
  bool mapped = false;
  // JavaScript backing stores currently made over this block (JS thread only).
  int js_stores = 0;
  static std::shared_ptr<HostBlock> allocate(int64_t elements);
  // Gives the pages of a mapped block back to the OS now while keeping the address range
  // valid (it reads as zeros afterwards): for dispose() when nothing in JavaScript can reach
  // the block any more but a raw pointer may still be in use. Returns the bytes still
  // resident (a malloc block keeps its memory until freed).
  int64_t discard();
  HostBlock() = default;
  HostBlock(const HostBlock&) = delete;
  HostBlock& operator=(const HostBlock&) = delete;
  ~HostBlock();
};

// The CPU arena. Owns its slots, or borrows caller-owned arrays (the functional steps).
class CpuOptimizer final : public OptimizerBackend {
 public:
  CpuOptimizer(ArenaSpec spec, int threads);
  // ZeRO-1 (fused-optim/distributed, `shard: true`; MPI must be initialised): params and grads
  // cover the whole arena on every rank, the rule's state only this rank's slice [lo, hi) of it
  // (world size slices, cut at 16-element boundaries). A step reduce-scatters the gradient into
  // the slice, steps the slice (norms: the slices' sums added in rank order on every rank),
  // then all-gathers the parameters. State slots are read and written by arena offsets as
  // usual: outside the slice, reads give 0 and writes are dropped.
  // The collectives run on `channel` (dist/collectives.h), after the addon's header.
  struct Sharding {
    int rank = 0;
    int size = 1;
    int channel = -1;
  };
  CpuOptimizer(ArenaSpec spec, int threads, Sharding sharding);
  // Borrowed: steps run over `ptr`, owned by the caller; no trace, nothing allocated per slot.
  CpuOptimizer(ArenaSpec spec, const ArenaPointers& ptr, int threads);

  const char* device_name() const override { return "cpu"; }
  void step(const StepSettings& s, double* out) override;
  void tensor_sums(double* sq, double* abs) override;
  float* host_slot(int slot) override;
  void write_slot(int slot, int64_t offset, const float* src, int64_t n) override;
  void read_slot(int slot, int64_t offset, float* dst, int64_t n) override;
  void fill_slot(int slot, float value) override;
  void lerp_slot(int dst, int src, const double* w) override;
  int64_t read_trace(double* dst, int64_t max) override;
  int64_t native_bytes() const override;

  std::shared_ptr<HostBlock> block(int slot) const { return blocks_[slot]; }
  bool sharded() const { return sharded_; }
  void set_threads(int threads) { threads_ = threads; }
  // Borrowed arenas only: point the slots at other caller-owned arrays of the same layout.
  void rebind(const ArenaPointers& ptr) { ptr_ = ptr; }

 private:
  std::shared_ptr<HostBlock> blocks_[kSlotCount];
  ArenaPointers ptr_{};
  int threads_;
  std::vector<double> tensor_sq_, tensor_abs_;
  std::vector<double> trace_;   // ring of kTraceFields doubles per record
  int64_t trace_written_ = 0;   // records ever written
  int64_t trace_read_ = 0;      // records ever read (or dropped)
  // ZeRO-1 (see the sharding constructor).
  bool sharded_ = false;
  int channel_ = -1;                   // the optimizer's MPI channel
  int64_t lo_ = 0, hi_ = 0;            // this rank's slice of the arena
  Layout shard_layout_;                // the slice's pieces of tensors, offsets relative to lo_
  std::vector<int32_t> shard_group_;   // group of each piece
  std::shared_ptr<HostBlock> shard_g_; // the reduce-scattered gradient of the slice
  std::vector<int> counts_, displs_;   // every rank's slice, for the collectives
  void record(const Outcome& o, const StepSettings& s);
};

namespace bench {
// The memory floor's loop (reads a, b, c, d; writes a, c, d) over `layout`'s chunks, on the same
// pool and chunk schedule as a step.
void stream_floor(const Layout& layout, float* a, const float* b, float* c, float* d, float s,
                  int threads);
}  // namespace bench

}  // namespace fo::cpu
