// The build boilerplate of the per-ISA kernel files (gemm_kernels_*.cpp,
// sparse_kernels_*.cpp). Each compiles its body for its ISA by pragma, so the library
// needs no global -march, where the compiler targets x86-64 with GCC or Clang
// (DSDK_X86_ISA); elsewhere its accessor returns nullptr, so that the run-time choice
// (gemm_kernels_generic.cpp, sparse_kernels_generic.cpp) skips the ISA. Headers go
// first, before DSDK_ISA_BEGIN, so that no inline function of theirs becomes ISA code.
//
//   #if DSDK_X86_ISA
//   DSDK_ISA_BEGIN("avx2,fma")
//   ... template <typename T> const Table<T>* accessor() { ... }
//   DSDK_ISA_END
//   #else
//   DSDK_ISA_NONE(Table, accessor)
//   #endif
//   DSDK_ISA_INSTANTIATE(Table, accessor)
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define DSDK_X86_ISA 1
#else
#define DSDK_X86_ISA 0
#endif

#define DSDK_ISA_PRAGMA(x) _Pragma(#x)
#define DSDK_ISA_BEGIN(targets) \
  DSDK_ISA_PRAGMA(GCC push_options) DSDK_ISA_PRAGMA(GCC target(targets))
#define DSDK_ISA_END DSDK_ISA_PRAGMA(GCC pop_options)

#define DSDK_ISA_NONE(Table, accessor) \
  namespace dsdk {                     \
  namespace cpu {                      \
  template <typename T>                \
  const Table<T>* accessor() {         \
    return nullptr;                    \
  }                                    \
  }                                    \
  }

#define DSDK_ISA_INSTANTIATE(Table, accessor)            \
  namespace dsdk {                                       \
  namespace cpu {                                        \
  template const Table<float>* accessor<float>();        \
  template const Table<double>* accessor<double>();      \
  }                                                      \
  }
