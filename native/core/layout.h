// The segment table of a flat arena: where each tensor lives, and the fixed chunking used by
// every pass and every reduction. Shared by the CPU and CUDA backends.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "step_args.h"

namespace fo {

// A contiguous run of one tensor's elements, at most kChunkElems long.
struct Chunk {
  int64_t begin;   // element offset in the arena
  int64_t end;     // one past the last element
  int32_t tensor;  // index of the tensor it belongs to
};

struct Layout {
  // Segments start on 64-byte boundaries: 16 floats.
  static constexpr int64_t kAlignElems = 16;

  std::vector<int64_t> offset;   // element offset of tensor i
  std::vector<int64_t> length;   // element count of tensor i
  std::vector<int32_t> first_chunk;  // index of tensor i's first chunk; size = tensors + 1
  std::vector<Chunk> chunks;
  int64_t total = 0;             // arena length in elements, padding included
  int64_t elements = 0;          // sum of the lengths

  size_t tensors() const { return length.size(); }

  // Packs tensors one after another, each aligned to kAlignElems when `align`.
  static Layout packed(const std::vector<int64_t>& lengths, bool align = true) {
    Layout l;
    l.first_chunk.reserve(lengths.size() + 1);
    int64_t at = 0;
    for (size_t t = 0; t < lengths.size(); ++t) {
      if (align) at = (at + kAlignElems - 1) / kAlignElems * kAlignElems;
      l.offset.push_back(at);
      l.length.push_back(lengths[t]);
      l.first_chunk.push_back(static_cast<int32_t>(l.chunks.size()));
      for (int64_t b = 0; b < lengths[t]; b += kChunkElems) {
        int64_t e = b + kChunkElems < lengths[t] ? b + kChunkElems : lengths[t];
        l.chunks.push_back(Chunk{at + b, at + e, static_cast<int32_t>(t)});
      }
      at += lengths[t];
      l.elements += lengths[t];
    }
    l.first_chunk.push_back(static_cast<int32_t>(l.chunks.size()));
    l.total = (at + kAlignElems - 1) / kAlignElems * kAlignElems;
    return l;
  }
};

// Folds chunk partials into per-tensor and global sums, always in chunk order.
struct Reduced {
  double sq = 0.0;
  double abs = 0.0;
  bool non_finite = false;
  double l2() const { return std::sqrt(sq); }
};

inline Reduced fold_partials(const Layout& layout, const Partial* partials, double* tensor_sq,
                             double* tensor_abs) {
  Reduced r;
  for (size_t t = 0; t < layout.tensors(); ++t) {
    double s = 0.0, a = 0.0;
    for (int32_t c = layout.first_chunk[t]; c < layout.first_chunk[t + 1]; ++c) {
      s += partials[c].sq;
      a += partials[c].abs;
    }
    if (tensor_sq) tensor_sq[t] = s;
    if (tensor_abs) tensor_abs[t] = a;
    r.sq += s;
    r.abs += a;
  }
  // Sums of |g| in double cannot overflow from finite floats, so a non-finite sum means a
  // NaN or an Inf in the gradient.
  r.non_finite = !std::isfinite(r.abs) || !std::isfinite(r.sq);
  return r;
}

}  // namespace fo
