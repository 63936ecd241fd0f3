// Host stand-ins for the cub device algorithms used by csrc/cuda, with cub's
// signatures and calling convention: a call with d_temp_storage == nullptr
// only sets temp_storage_bytes; the next call, with that much device memory,
// does the work (checked: enough temp storage, all arrays in device memory).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

void emu_check_device(const void* p, size_t bytes, const char* what);

namespace cub {
namespace emu {

// False for the size query (then sets bytes); true when the work is to be done.
inline bool have_temp(void* temp, size_t& bytes, size_t n, size_t per_item, const char* what) {
  const size_t want = 1024 + n * per_item;
  if (!temp) {
    bytes = want;
    return false;
  }
  emu_check_device(temp, std::max(bytes, want), what);
  return true;
}

// cub's radix order: floating point by value with -0.0 == +0.0 (negative
// NaNs first, positive NaNs last), signed integers by value.
template <class K>
uint64_t radix_key(K k) {
  if constexpr (std::is_floating_point<K>::value) {
    using U = std::conditional_t<sizeof(K) == 8, uint64_t, uint32_t>;
    if (k == K(0)) k = K(0);
    U b;
    std::memcpy(&b, &k, sizeof b);
    const U sign = U(1) << (8 * sizeof(K) - 1);
    return uint64_t((b & sign) ? U(~b) : U(b | sign));
  } else if constexpr (std::is_signed<K>::value) {
    using U = std::make_unsigned_t<K>;
    return uint64_t(U(k) ^ (U(1) << (8 * sizeof(K) - 1)));
  } else {
    return uint64_t(k);
  }
}

}  // namespace emu

struct DeviceRadixSort {
  // Stable ascending sort of (key, value) pairs by bits [begin_bit, end_bit) of the key.
  template <class K, class V, class N>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes,
                               const K* d_keys_in, K* d_keys_out, const V* d_values_in,
                               V* d_values_out, N num_items, int begin_bit = 0,
                               int end_bit = int(sizeof(K) * 8), cudaStream_t = 0) {
    const size_t n = size_t(num_items);
    if (!emu::have_temp(d_temp_storage, temp_storage_bytes, n, sizeof(K) + sizeof(V),
                        "DeviceRadixSort::SortPairs temp storage"))
      return cudaSuccess;
    emu_check_device(d_keys_in, n * sizeof(K), "SortPairs d_keys_in");
    emu_check_device(d_keys_out, n * sizeof(K), "SortPairs d_keys_out");
    emu_check_device(d_values_in, n * sizeof(V), "SortPairs d_values_in");
    emu_check_device(d_values_out, n * sizeof(V), "SortPairs d_values_out");
    const uint64_t low = begin_bit >= 64 ? ~0ull : (1ull << begin_bit) - 1;
    const uint64_t high = end_bit >= 64 ? ~0ull : (1ull << end_bit) - 1;
    const uint64_t bits = high & ~low;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return (emu::radix_key(d_keys_in[a]) & bits) < (emu::radix_key(d_keys_in[b]) & bits);
    });
    std::vector<K> keys(n);
    std::vector<V> values(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = d_keys_in[order[i]];
      values[i] = d_values_in[order[i]];
    }
    std::copy(keys.begin(), keys.end(), d_keys_out);
    std::copy(values.begin(), values.end(), d_values_out);
    return cudaSuccess;
  }
};

struct DeviceSelect {
  // d_out = the d_in[i] with d_flags[i] != 0, in order; *d_num_selected_out = their count.
  template <class In, class Flags, class Out, class NumSelected, class N>
  static cudaError_t Flagged(void* d_temp_storage, size_t& temp_storage_bytes, In d_in,
                             Flags d_flags, Out d_out, NumSelected d_num_selected_out,
                             N num_items, cudaStream_t = 0) {
    const size_t n = size_t(num_items);
    if (!emu::have_temp(d_temp_storage, temp_storage_bytes, n, 4,
                        "DeviceSelect::Flagged temp storage"))
      return cudaSuccess;
    emu_check_device(&d_in[0], n * sizeof(d_in[0]), "Flagged d_in");
    emu_check_device(&d_flags[0], n * sizeof(d_flags[0]), "Flagged d_flags");
    emu_check_device(&d_num_selected_out[0], sizeof(d_num_selected_out[0]),
                     "Flagged d_num_selected_out");
    size_t k = 0;
    for (size_t i = 0; i < n; ++i)
      if (d_flags[i]) ++k;
    if (k) emu_check_device(&d_out[0], k * sizeof(d_out[0]), "Flagged d_out");
    k = 0;
    for (size_t i = 0; i < n; ++i)
      if (d_flags[i]) d_out[k++] = d_in[i];
    *d_num_selected_out = std::remove_reference_t<decltype(*d_num_selected_out)>(k);
    return cudaSuccess;
  }
};

}  // namespace cub
