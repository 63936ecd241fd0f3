// Kernel functions of the SVM, evaluated from a dot product and the two squared
// norms, so that a whole block of kernel values is one GEMM plus an elementwise
// finish. Written once for the CPU solvers and their CUDA twins.
//
// The evaluation is split in two stages: kernel_arg (affine in the dot product,
// cheap, vectorises) and kernel_finish (the transcendental part: exp, tanh or an
// integer power). The CPU path runs the finish over whole rows with its own
// vectorised exp/tanh; kernel_value composes both for scalar use.
#pragma once
#include <cmath>

#include "core/hd.h"
#include "dsdkern/dsdkern.h"

namespace dsdk {

DSDK_HD float kernel_exp(float x) { return expf(x); }
DSDK_HD double kernel_exp(double x) { return exp(x); }
DSDK_HD float kernel_tanh(float x) { return tanhf(x); }
DSDK_HD double kernel_tanh(double x) { return tanh(x); }

// x^degree for degree >= 1 by repeated squaring (exact for integer degrees,
// unlike pow, and defined for a negative base).
template <typename T>
DSDK_HD T kernel_ipow(T x, int degree) {
  T r = T(1);
  while (degree > 0) {
    if (degree & 1) r *= x;
    x *= x;
    degree >>= 1;
  }
  return r;
}

// The kernel's parameters in the precision of the computation.
template <typename T>
struct KernelFn {
  dsdkSVMKernel_t kind;
  T gamma, coef0;
  int degree;
};

// Stage 1: LINEAR -> <x,z>; POLY, SIGMOID -> gamma <x,z> + coef0;
// RBF -> -gamma |x - z|^2 with |x - z|^2 = |x|^2 + |z|^2 - 2 <x,z> clamped at 0
// (rounding can make it slightly negative for near-duplicate points).
template <typename T>
DSDK_HD T kernel_arg(const KernelFn<T>& k, T dot, T sqnorm_x, T sqnorm_z) {
  switch (k.kind) {
    case DSDK_SVM_KERNEL_RBF: {
      T d2 = sqnorm_x + sqnorm_z - T(2) * dot;
      return -k.gamma * (d2 > T(0) ? d2 : T(0));
    }
    case DSDK_SVM_KERNEL_POLY:
    case DSDK_SVM_KERNEL_SIGMOID: return k.gamma * dot + k.coef0;
    default: return dot;
  }
}

// Stage 2: RBF -> exp(arg); POLY -> arg^degree; SIGMOID -> tanh(arg); LINEAR -> arg.
template <typename T>
DSDK_HD T kernel_finish(const KernelFn<T>& k, T arg) {
  switch (k.kind) {
    case DSDK_SVM_KERNEL_RBF: return kernel_exp(arg);
    case DSDK_SVM_KERNEL_POLY: return kernel_ipow(arg, k.degree);
    case DSDK_SVM_KERNEL_SIGMOID: return kernel_tanh(arg);
    default: return arg;
  }
}

// Whether kernel_arg needs the squared norms (only RBF does).
template <typename T>
DSDK_HD bool kernel_needs_norms(const KernelFn<T>& k) {
  return k.kind == DSDK_SVM_KERNEL_RBF;
}

template <typename T>
DSDK_HD T kernel_value(const KernelFn<T>& k, T dot, T sqnorm_x, T sqnorm_z) {
  return kernel_finish(k, kernel_arg(k, dot, sqnorm_x, sqnorm_z));
}

// K(x, x): the diagonal needs no dot product beyond |x|^2.
template <typename T>
DSDK_HD T kernel_self(const KernelFn<T>& k, T sqnorm_x) {
  return kernel_value(k, sqnorm_x, sqnorm_x, sqnorm_x);
}

}  // namespace dsdk
