// Max pooling on the CPU: one (image, channel) plane per task, each by the plane kernel
// of the ISA in use (max_pool_kernels.h); this file also holds its portable build.
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu/gemm_kernels.h"
#include "cpu/max_pool_body.h"
#include "cpu/max_pool_kernels.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {

template <typename T>
const MaxPoolKernels<T>* generic_max_pool_kernels() {
  static const MaxPoolKernels<T> k = max_pool_table<T>("generic");
  return &k;
}

namespace {

template <typename T>
const MaxPoolKernels<T>& kernels() {
  if (active_isa() >= Isa::kAvx2 && avx2_max_pool_kernels<T>()) return *avx2_max_pool_kernels<T>();
  return *generic_max_pool_kernels<T>();
}

template <class T>
dsdkStatus_t run(const MaxPoolArgs& a, int num_threads) {
  const PoolShape& s = a.s;
  const int64_t planes = a.n * a.c;
  const int64_t work = planes * (s.h * s.w + s.out_h * s.out_w * s.win_h * s.win_w);
  const int threads = int(std::min<int64_t>(threads_for(work, num_threads), planes));
  const int64_t per_thread = max_pool_buffer_elems(s);
  std::vector<T> bufs(size_t(threads * per_thread), -std::numeric_limits<T>::infinity());
  const MaxPoolPlaneFn<T> plane = kernels<T>().plane;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t pl = 0; pl < planes; ++pl)
    plane(a, pl, bufs.data() + omp_get_thread_num() * per_thread);
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

dsdkStatus_t max_pool_forward(const MaxPoolArgs& a, int num_threads) {
  if (a.n == 0) return DSDK_STATUS_SUCCESS;
  return a.dtype == DSDK_DATA_DOUBLE ? run<double>(a, num_threads)
                                     : run<float>(a, num_threads);
}

template const MaxPoolKernels<float>* generic_max_pool_kernels<float>();
template const MaxPoolKernels<double>* generic_max_pool_kernels<double>();

}  // namespace cpu
}  // namespace dsdk
