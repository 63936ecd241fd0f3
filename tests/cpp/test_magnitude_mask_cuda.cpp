// dsdkMagnitudeMask on a CUDA handle against the reference of mask_reference.h and the
// CPU backend: TOPK and THRESHOLD in float, double, half and bfloat16 over keep
// 0 / 1 / n-1 / n and others, heavy ties, infinities and signed zeros, on a created
// stream; NaN refused with its index; argument checks as on the CPU.
// Without a GPU it skips (exit 77, check::cuda_handle_or_skip).
#include <cstdio>

#ifndef DSDK_WITH_CUDA
#include "check.h"

int main() { check::cuda_handle_or_skip("test_magnitude_mask_cuda"); }
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "mask_reference.h"

namespace {

struct Buffer {
  void* p = nullptr;
  explicit Buffer(size_t bytes) {
    if (bytes && cudaMalloc(&p, bytes) != cudaSuccess) {
      std::printf("cudaMalloc(%zu) failed\n", bytes);
      p = nullptr;
      ++check::failures();
    }
  }
  ~Buffer() { cudaFree(p); }
};

size_t type_bytes(dsdkDataType_t t) {
  return t == DSDK_DATA_DOUBLE ? 8 : t == DSDK_DATA_FLOAT ? 4 : 2;
}

// v rounded to t and back (what the kernel sees), and its bytes in t's storage format.
double round_to(dsdkDataType_t t, double v) {
  switch (t) {
    case DSDK_DATA_FLOAT: return double(float(v));
    case DSDK_DATA_HALF: return double(__half2float(__float2half_rn(float(v))));
    case DSDK_DATA_BFLOAT16: return double(__bfloat162float(__float2bfloat16_rn(float(v))));
    default: return v;
  }
}

std::vector<unsigned char> to_bytes(dsdkDataType_t t, const std::vector<double>& w) {
  std::vector<unsigned char> out(w.size() * type_bytes(t));
  for (size_t i = 0; i < w.size(); ++i) {
    unsigned char* at = out.data() + i * type_bytes(t);
    if (t == DSDK_DATA_DOUBLE) {
      std::memcpy(at, &w[i], 8);
    } else if (t == DSDK_DATA_FLOAT) {
      const float f = float(w[i]);
      std::memcpy(at, &f, 4);
    } else if (t == DSDK_DATA_HALF) {
      const __half h = __float2half_rn(float(w[i]));
      std::memcpy(at, &h, 2);
    } else {
      const __nv_bfloat16 b = __float2bfloat16_rn(float(w[i]));
      std::memcpy(at, &b, 2);
    }
  }
  return out;
}

// One call on `h` with device copies of w; the mask comes back to the host.
dsdkStatus_t run(dsdkHandle_t h, dsdkMaskMode_t mode, dsdkDataType_t t,
                 const std::vector<double>& w, int64_t keep, double threshold,
                 std::vector<uint8_t>* mask, bool device) {
  const int64_t n = int64_t(w.size());
  const std::vector<unsigned char> bytes = to_bytes(t, w);
  size_t ws_bytes = 0;
  CHECK_OK(dsdkGetMagnitudeMaskWorkspaceSize(h, mode, t, n, &ws_bytes));
  mask->assign(w.size(), 0xAB);
  if (!device) {
    std::vector<int64_t> ws(ws_bytes / 8 + 1);
    return dsdkMagnitudeMask(h, mode, t, n, bytes.data(), keep, threshold, ws.data(), ws_bytes,
                             mask->data());
  }
  Buffer dw(bytes.size()), dm(w.size()), dws(ws_bytes);
  cudaMemcpy(dw.p, bytes.data(), bytes.size(), cudaMemcpyHostToDevice);
  cudaMemset(dm.p, 0xAB, w.size());
  const dsdkStatus_t st = dsdkMagnitudeMask(h, mode, t, n, dw.p, keep, threshold, dws.p,
                                            ws_bytes, static_cast<uint8_t*>(dm.p));
  if (!w.empty()) cudaMemcpy(mask->data(), dm.p, w.size(), cudaMemcpyDeviceToHost);
  return st;
}

const dsdkDataType_t kTypes[] = {DSDK_DATA_FLOAT, DSDK_DATA_DOUBLE, DSDK_DATA_HALF,
                                 DSDK_DATA_BFLOAT16};

void test_values(dsdkHandle_t gpu, dsdkHandle_t cpu) {
  uint32_t seed = 40;
  std::vector<uint8_t> got, on_cpu;
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(2), int64_t(17), int64_t(1000),
                    int64_t(20000)})
    for (mask_ref::Kind kind : mask_ref::kKinds)
      for (dsdkDataType_t t : kTypes) {
        ++seed;
        const std::vector<double> w =
            mask_ref::make(kind, n, seed, [t](double v) { return round_to(t, v); });
        const bool cpu_has = t == DSDK_DATA_FLOAT || t == DSDK_DATA_DOUBLE;
        const mask_ref::Ranking ranking(w);
        for (int64_t keep : mask_ref::keeps(n, seed)) {
          CHECK_OK(run(gpu, DSDK_MASK_TOPK, t, w, keep, 0.0, &got, true));
          if (got != ranking.topk(keep)) {
            std::printf("  topk n=%lld keep=%lld dtype=%d differs\n", (long long)n,
                        (long long)keep, int(t));
            CHECK(false);
          }
          if (cpu_has) {
            CHECK_OK(run(cpu, DSDK_MASK_TOPK, t, w, keep, 0.0, &on_cpu, false));
            CHECK(got == on_cpu);
          }
        }
        for (double thr : {0.0, 0.05, 0.25, 3.0, double(INFINITY), 0.1 + 1e-9}) {
          CHECK_OK(run(gpu, DSDK_MASK_THRESHOLD, t, w, 0, thr, &got, true));
          CHECK(got == mask_ref::threshold(w, thr));
        }
      }
}

void test_bad_input(dsdkHandle_t gpu) {
  std::vector<uint8_t> got;
  for (dsdkDataType_t t : kTypes)
    for (int64_t at : {int64_t(0), int64_t(700), int64_t(999)}) {
      std::vector<double> w(1000, 0.5);
      w[size_t(at)] = NAN;
      if (at < 999) w[999] = NAN;  // a second NaN after the first
      const std::string want = "w[" + std::to_string(at) + "] is NaN";
      for (int64_t keep : {int64_t(0), int64_t(3), int64_t(1000)}) {
        CHECK_STATUS(run(gpu, DSDK_MASK_TOPK, t, w, keep, 0.0, &got, true), DSDK_STATUS_BAD_PARAM);
        CHECK_MESSAGE(gpu, want.c_str());
      }
      CHECK_STATUS(run(gpu, DSDK_MASK_THRESHOLD, t, w, 0, 0.25, &got, true),
                   DSDK_STATUS_BAD_PARAM);
      CHECK_MESSAGE(gpu, want.c_str());
    }
  const std::vector<double> w(10, 1.0);
  CHECK_STATUS(run(gpu, DSDK_MASK_TOPK, DSDK_DATA_HALF, w, 11, 0.0, &got, true),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "keep");
  CHECK_STATUS(run(gpu, DSDK_MASK_THRESHOLD, DSDK_DATA_BFLOAT16, w, 0, -1.0, &got, true),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "threshold");
  size_t need = 0;
  CHECK_OK(dsdkGetMagnitudeMaskWorkspaceSize(gpu, DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 10, &need));
  CHECK(need > 0);
  Buffer dw(40), dm(10), dws(need);
  CHECK_STATUS(dsdkMagnitudeMask(gpu, DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 10, dw.p, 3, 0.0, dws.p,
                                 need - 1, static_cast<uint8_t*>(dm.p)),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "workspaceSizeInBytes");
}

}  // namespace

int main() {
  dsdkHandle_t gpu = check::cuda_handle_or_skip("test_magnitude_mask_cuda"), cpu = nullptr;
  CHECK_OK(dsdkCreate(&cpu, DSDK_BACKEND_CPU));
  cudaStream_t stream = nullptr;
  if (cudaStreamCreate(&stream) != cudaSuccess) {
    std::printf("cudaStreamCreate failed\n");
    return 1;
  }
  CHECK_OK(dsdkSetStream(gpu, stream));
  test_values(gpu, cpu);
  test_bad_input(gpu);
  cudaStreamDestroy(stream);
  dsdkDestroy(cpu);
  dsdkDestroy(gpu);
  return check::report("test_magnitude_mask_cuda");
}
#endif  // DSDK_WITH_CUDA
