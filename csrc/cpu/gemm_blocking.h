// Pieces the blocked GEMM drivers share: carving a caller's workspace into aligned
// buffers (one code path both sizes and carves it, so the size query and the compute
// call cannot disagree) and splitting the C matrices of a batch of GEMMs over threads.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dsdk {
namespace cpu {

// Hands out 64-byte aligned pieces of `base`; with base == nullptr it only adds up
// the bytes a later carve of the same requests needs.
class Carver {
 public:
  explicit Carver(void* base)
      : base_(base ? reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + 63) & ~uintptr_t(63))
                   : nullptr) {}
  template <typename U>
  U* take(int64_t count) {
    off_ = (off_ + 63) & ~size_t(63);
    U* p = base_ ? reinterpret_cast<U*>(base_ + off_) : nullptr;
    off_ += size_t(count) * sizeof(U);
    return p;
  }
  // Bytes needed, including the slack for aligning an arbitrary base.
  size_t size() const { return off_ + 64; }

 private:
  char* base_;
  size_t off_ = 0;
};

// [begin, end) of chunk i when `total` units are cut into `parts` near-equal chunks.
inline int64_t chunk_begin(int64_t total, int64_t parts, int64_t i) { return total * i / parts; }

// How `groups` independent C matrices of mp x np micro-tiles are cut into
// groups * tm * tn work items, dealt to threads in contiguous runs.
struct WorkSplit {
  int tm, tn;
  int64_t items() const { return int64_t(groups) * tm * tn; }
  int groups;
};

// Picks tm x tn minimising the busiest thread's micro-tiles, counting B packing (done
// once per item and column panel, and duplicated when rows are split) as `pack_cost`
// micro-tiles per column panel; ties go to fewer items.
inline WorkSplit choose_split(int groups, int64_t mp, int64_t np, int nth, double pack_cost) {
  WorkSplit best{1, 1, groups};
  if (groups >= 4 * nth) return best;
  double best_cost = -1;
  for (int tm = 1; tm <= nth && tm <= mp; ++tm)
    for (int tn = 1; tn <= 4 * nth && tn <= np; ++tn) {
      WorkSplit w{tm, tn, groups};
      const int64_t items = w.items();
      double worst = 0;
      for (int t = 0; t < nth; ++t) {
        double load = 0;
        for (int64_t it = chunk_begin(items, nth, t); it < chunk_begin(items, nth, t + 1); ++it) {
          const int64_t im = (it / tn) % tm, in = it % tn;
          const double m = double(chunk_begin(mp, tm, im + 1) - chunk_begin(mp, tm, im));
          const double n = double(chunk_begin(np, tn, in + 1) - chunk_begin(np, tn, in));
          load += m * n + pack_cost * n;
        }
        if (load > worst) worst = load;
      }
      if (best_cost < 0 || worst < best_cost * 0.999) {
        best_cost = worst;
        best = w;
      }
    }
  return best;
}

}  // namespace cpu
}  // namespace dsdk
