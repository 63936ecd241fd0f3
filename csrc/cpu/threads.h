// How many OpenMP threads a loop deserves.
#pragma once
#include <cstdint>

namespace dsdk {
namespace cpu {

// Threads for a loop of about `work` element operations: one below ~256k, where
// waking a team costs more than it saves (and, on a loaded machine, a barrier
// can wait a whole scheduler slice for a descheduled thread).
inline int threads_for(int64_t work, int max_threads) {
  return work < (int64_t(1) << 18) ? 1 : max_threads;
}

}  // namespace cpu
}  // namespace dsdk
