// Minimal assertions for the C++ tests: count failures, keep going, exit non-zero.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dsdkern/dsdkern.h"

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
