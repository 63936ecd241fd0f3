// Minimal assertions for the C++ tests: count failures, keep going, exit non-zero.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dsdkern/dsdkern.h"
#ifdef DSDK_WITH_CUDA
#include <cuda_runtime.h>
#include <sys/stat.h>
#endif

namespace check {
inline int& failures() {
  static int n = 0;
  return n;
}
inline int report(const char* name) {
  if (failures()) std::printf("%s: %d check(s) failed\n", name, failures());
  else std::printf("%s: all checks passed\n", name);
  return failures() ? 1 : 0;
}

// ctest's SKIP_RETURN_CODE for the tests (CMakeLists.txt registers it).
constexpr int kSkipped = 77;

#ifdef DSDK_WITH_CUDA
// No GPU is visible: the runtime says there is none, or there is no driver
// and no NVIDIA device node (a driver too old for a GPU that is there is a
// failure, not a skip).
inline bool no_gpu_visible(cudaError_t e, int devices) {
  if (e == cudaErrorNoDevice || (e == cudaSuccess && devices == 0)) return true;
  struct stat st;
  return e == cudaErrorInsufficientDriver && stat("/dev/nvidia0", &st) != 0;
}
#endif

// A CUDA handle for a CUDA test, or the end of the test: exit kSkipped when no
// GPU is visible (or the build lacks CUDA), after checking that the handle is
// then refused cleanly; exit 1 when a GPU is visible and the handle cannot be
// created, so that a broken CUDA path never passes as a skip.
inline dsdkHandle_t cuda_handle_or_skip(const char* name) {
  dsdkHandle_t h = nullptr;
  const dsdkStatus_t created = dsdkCreate(&h, DSDK_BACKEND_CUDA);
  bool none = true;
  const char* why = "built without the CUDA backend";
#ifdef DSDK_WITH_CUDA
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  (void)cudaGetLastError();
  none = no_gpu_visible(e, devices);
  why = "no CUDA device visible";
  if (!none && created != DSDK_STATUS_SUCCESS) {
    std::printf("%s: FAILED: dsdkCreate(CUDA) returned %s with a GPU present (%s, %d device(s))\n",
                name, dsdkGetErrorString(created), cudaGetErrorString(e), devices);
    std::exit(1);
  }
#endif
  if (!none) return h;
  if (created == DSDK_STATUS_SUCCESS || h != nullptr) {
    std::printf("%s: FAILED: dsdkCreate(CUDA) succeeded without a GPU\n", name);
    std::exit(1);
  }
  std::printf("%s: skipped: %s\n", name, why);
  std::exit(kSkipped);
}
}  // namespace check

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
      ++check::failures();                                                       \
    }                                                                            \
  } while (0)

#define CHECK_STATUS(expr, expected)                                                       \
  do {                                                                                     \
    dsdkStatus_t s_ = (expr);                                                              \
    if (s_ != (expected)) {                                                                \
      std::printf("%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #expr,       \
                  dsdkGetErrorString(s_), dsdkGetErrorString(expected));                   \
      ++check::failures();                                                                 \
    }                                                                                      \
  } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, DSDK_STATUS_SUCCESS)

// The handle's last message mentions `word` (the argument it blames).
#define CHECK_MESSAGE(handle, word)                                                        \
  do {                                                                                     \
    const char* m_ = dsdkGetLastErrorMessage(handle);                                      \
    if (!std::strstr(m_, word)) {                                                          \
      std::printf("%s:%d: message \"%s\" does not name \"%s\"\n", __FILE__, __LINE__, m_,  \
                  word);                                                                   \
      ++check::failures();                                                                 \
    }                                                                                      \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                              \
  do {                                                                                     \
    double a_ = (a), b_ = (b);                                                             \
    if (!(std::fabs(a_ - b_) <= (tol))) {                                                  \
      std::printf("%s:%d: |%s - %s| = |%g - %g| > %g\n", __FILE__, __LINE__, #a, #b, a_, b_, \
                  double(tol));                                                            \
      ++check::failures();                                                                 \
    }                                                                                      \
  } while (0)
