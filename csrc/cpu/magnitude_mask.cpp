// Magnitude masks on the CPU.
//
// TOPK is a radix select on the magnitude keys (core/magnitude_key.h), most significant
// digit first: each level histograms one 11-bit digit of the keys that match the digits
// chosen so far and picks the bucket holding the keep-th largest key. It stops when that
// bucket is kept whole or when every digit is fixed (the bucket is then one key value,
// K). The mask is key >= lower bound of the bucket; when the bucket is one value with
// more copies than are kept, the surplus copies with the highest indices are cleared
// again, which is what "lower index first" asks for. THRESHOLD is key >= the smallest
// key whose value reaches the threshold. Every pass is over fixed chunks of
// the input, so the histograms and the tie counts are the same for every thread count.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/magnitude_key.h"
#include "core/mask_backends.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr int kDigitBits = 11;
constexpr int kBuckets = 1 << kDigitBits;
// Chunks of the input for n >= 2^18 (one below, as threads_for runs one thread there):
// enough to balance up to a few dozen threads, few enough that merging the per-chunk
// histograms stays cheap.
constexpr int64_t kChunks = 32;

int64_t chunk_count(int64_t n) { return threads_for(n, 2) > 1 ? kChunks : 1; }

struct ChunkCounts {
  int64_t hist[kBuckets];
  int64_t nan;    // NaN keys in the chunk (first level only)
  int64_t equal;  // keys equal to the bucket's value (tie pass only)
};

template <dsdkDataType_t D>
struct Select {
  using Key = typename MagnitudeKey<D>::Key;
  using T = std::conditional_t<D == DSDK_DATA_DOUBLE, double, float>;

  const T* w;
  int64_t n, chunks;
  ChunkCounts* counts;
  int threads;

  int64_t begin(int64_t c) const { return n * c / chunks; }
  int64_t end(int64_t c) const { return n * (c + 1) / chunks; }

  Key key(int64_t i) const {
    Key bits;
    std::memcpy(&bits, &w[i], sizeof bits);
    return magnitude_key<D>(bits);
  }

  // Histogram of digit [shift, hi) over the keys whose bits above hi equal prefix; the
  // merged histogram goes to total.
  void histogram(Key prefix, int hi, int shift, bool count_nan, int64_t* total) const {
    const Key digit_mask = Key((Key(1) << (hi - shift)) - 1);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      ChunkCounts& cc = counts[c];
      std::fill(cc.hist, cc.hist + kBuckets, int64_t(0));
      int64_t nan = 0;
      for (int64_t i = begin(c), e = end(c); i < e; ++i) {
        const Key k = key(i);
        if (count_nan) nan += key_is_nan<D>(k);
        if (Key(k >> hi) == prefix) ++cc.hist[(k >> shift) & digit_mask];
      }
      cc.nan = nan;
    }
    std::fill(total, total + kBuckets, int64_t(0));
    for (int64_t c = 0; c < chunks; ++c)
      for (int b = 0; b < kBuckets; ++b) total[b] += counts[c].hist[b];
  }

  dsdkStatus_t nan_error(std::string* msg) const {
    int64_t i = 0;
    while (!key_is_nan<D>(key(i))) ++i;
    if (msg) *msg = "w[" + std::to_string(i) + "] is NaN";
    return DSDK_STATUS_BAD_PARAM;
  }

  // mask = key >= lo; with surplus > 0 (lo is then the selected value and has
  // surplus more copies than are kept) the last `surplus` copies are cleared.
  void write(Key lo, int64_t surplus, uint8_t* mask) const {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t equal = 0;
      for (int64_t i = begin(c), e = end(c); i < e; ++i) {
        const Key k = key(i);
        mask[i] = k >= lo;
        if (surplus) equal += k == lo;
      }
      counts[c].equal = equal;
    }
    if (surplus == 0) return;
    // The highest-indexed copies are cleared: from the last chunk backwards.
    std::vector<int64_t> clear(size_t(chunks), 0);
    for (int64_t c = chunks - 1, left = surplus; c >= 0 && left > 0; --c) {
      clear[size_t(c)] = std::min(left, counts[c].equal);
      left -= clear[size_t(c)];
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < chunks; ++c)
      for (int64_t i = end(c) - 1, left = clear[size_t(c)]; left > 0; --i)
        if (key(i) == lo) {
          mask[i] = 0;
          --left;
        }
  }

  dsdkStatus_t topk(int64_t keep, uint8_t* mask, std::string* msg) const {
    std::vector<int64_t> total(kBuckets);
    Key prefix = 0;
    int64_t need = keep;  // keys still to keep inside the current bucket
    int hi = MagnitudeKey<D>::kBits;
    for (bool first = true;; first = false) {
      const int shift = std::max(0, hi - kDigitBits);
      histogram(prefix, hi, shift, first, total.data());
      if (first) {
        int64_t nans = 0;
        for (int64_t c = 0; c < chunks; ++c) nans += counts[c].nan;
        if (nans) return nan_error(msg);
        if (keep == 0) {
          write(Key(~Key(0)), 0, mask);
          return DSDK_STATUS_SUCCESS;
        }
      }
      int b = kBuckets - 1;
      for (; total[size_t(b)] < need; --b) need -= total[size_t(b)];
      prefix = Key((prefix << (hi - shift)) | Key(b));
      if (total[size_t(b)] == need || shift == 0) {
        write(Key(prefix << shift), total[size_t(b)] - need, mask);
        return DSDK_STATUS_SUCCESS;
      }
      hi = shift;
    }
  }

  dsdkStatus_t threshold(double t, uint8_t* mask, std::string* msg) const {
    const Key lo = threshold_key<D>(t);
    int64_t nans = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : nans)
    for (int64_t i = 0; i < n; ++i) {
      const Key k = key(i);
      mask[i] = k >= lo;
      nans += key_is_nan<D>(k);
    }
    return nans ? nan_error(msg) : DSDK_STATUS_SUCCESS;
  }
};

template <dsdkDataType_t D>
dsdkStatus_t run(const MagnitudeMaskArgs& a, int num_threads, std::string* msg) {
  Select<D> s{static_cast<const typename Select<D>::T*>(a.w), a.n, chunk_count(a.n),
              static_cast<ChunkCounts*>(a.workspace), threads_for(a.n, num_threads)};
  return a.mode == DSDK_MASK_THRESHOLD ? s.threshold(a.threshold, a.mask, msg)
                                       : s.topk(a.keep, a.mask, msg);
}

}  // namespace

size_t magnitude_mask_workspace(dsdkMaskMode_t mode, int64_t n) {
  return mode == DSDK_MASK_TOPK && n > 0 ? size_t(chunk_count(n)) * sizeof(ChunkCounts) : 0;
}

dsdkStatus_t magnitude_mask(const MagnitudeMaskArgs& a, int num_threads, std::string* msg) {
  if (a.n == 0) return DSDK_STATUS_SUCCESS;
  return a.dtype == DSDK_DATA_DOUBLE ? run<DSDK_DATA_DOUBLE>(a, num_threads, msg)
                                     : run<DSDK_DATA_FLOAT>(a, num_threads, msg);
}

}  // namespace cpu
}  // namespace dsdk
