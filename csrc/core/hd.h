// Marks code shared by the CPU kernels and their CUDA twins.
#pragma once
#if defined(__CUDACC__)
#define DSDK_HD __host__ __device__ __forceinline__
#else
#define DSDK_HD inline
#endif
