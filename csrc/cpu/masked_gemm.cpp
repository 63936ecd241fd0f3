// dsdkMaskedGemm on the CPU: the data type picks the packed engine's instantiation, and
// small products run on one thread (threads_for), whose workspace the query covers too.
#include "core/gemm_backends.h"
#include "cpu/gemm.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

int gemm_threads(int64_t m, int64_t n, int64_t k, int num_threads) {
  return threads_for(m * n * (k > 0 ? k : 1), num_threads);
}

template <typename T>
void run(const GemmArgs& a, void* ws, int nt) {
  gemm_masked<T>(a.trans_a, a.trans_b, a.m, a.n, a.k, T(a.alpha), static_cast<const T*>(a.a),
                 a.lda, static_cast<const T*>(a.b), a.ldb, a.mask_b, T(a.beta),
                 static_cast<T*>(a.c), a.ldc, a.mask_c, ws, nt);
}

}  // namespace

size_t masked_gemm_workspace(dsdkDataType_t dtype, int64_t m, int64_t n, int64_t k,
                             int num_threads) {
  const int nt = gemm_threads(m, n, k, num_threads);
  return dtype == DSDK_DATA_DOUBLE ? gemm_masked_workspace<double>(m, n, k, nt)
                                   : gemm_masked_workspace<float>(m, n, k, nt);
}

dsdkStatus_t masked_gemm(const GemmArgs& a, void* ws, size_t, int num_threads, std::string*) {
  const int nt = gemm_threads(a.m, a.n, a.k, num_threads);
  if (a.dtype == DSDK_DATA_DOUBLE) run<double>(a, ws, nt);
  else run<float>(a, ws, nt);
  return DSDK_STATUS_SUCCESS;
}

}  // namespace cpu
}  // namespace dsdk
