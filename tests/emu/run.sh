#!/bin/bash
# Runs the CUDA code on the CPU, no GPU needed: builds the real csrc/cuda
# kernels under the emulator of this folder (see emu_runtime.cpp for what it
# checks) and runs gemm_check.cu and the CUDA C++ tests (tests/cpp/test_svm_cuda.cpp,
# test_masked_gemm_cuda.cpp, test_magnitude_mask_cuda.cpp, test_conv_cuda.cpp,
# test_sparse_cuda.cpp) with them.
#
#   tests/emu/run.sh            -O2 build
#   tests/emu/run.sh asan       AddressSanitizer + UBSan build (about 3x slower)
#
# Environment: EMU_SEED (thread-order seed, default 12345), EMU_FREE_MB (what
# cudaMemGetInfo reports free), DSDK_TEST_QUICK=1 (skip the slowest SVM test case;
# the convolution test always runs its quick grid here),
# EMU_NO_POISON=1 (device and shared memory not filled with 0xff bytes),
# EMU_NO_DEVICE=1 (no device visible: the test must skip, and run.sh exits 77), JOBS (parallel
# compile jobs, default 2). Build folder: build-emu/<config>. x86-64 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CFG=${1:-O2}
case $CFG in
  O2) SAN=OFF ;;
  asan) SAN=ON ;;
  *) echo "usage: $0 [O2|asan]" >&2; exit 2 ;;
esac
OUT=$ROOT/build-emu/$CFG
cmake -S "$ROOT/tests/emu" -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE= -DEMU_SANITIZE=$SAN \
  -DEMU_CUDA_INCLUDE="${CUDA_HOME:-/usr/local/cuda}/include" > /dev/null
cmake --build "$OUT" -j "${JOBS:-2}"
"$OUT/gemm_check"
# The emulator always has a device, so a skip (exit 77, tests/cpp/check.h) is a
# failure here, unless EMU_NO_DEVICE hides it: then every test must skip, and
# this script exits 77 as they did.
run_test() {
  local rc=0
  env "$@" || rc=$?
  if [ -n "${EMU_NO_DEVICE:-}" ]; then
    [ $rc -eq 77 ] && return 0
    echo "run.sh: $* exited $rc with EMU_NO_DEVICE set; a skip (77) was expected" >&2
    exit 1
  fi
  if [ $rc -eq 77 ]; then
    echo "run.sh: $* skipped although the emulator has a device" >&2
    exit 1
  fi
  [ $rc -eq 0 ] || exit $rc
}
run_test "$OUT/test_svm_cuda"
run_test "$OUT/test_masked_gemm_cuda"
run_test "$OUT/test_magnitude_mask_cuda"
# Every 7th combination of the convolution grid still covers each (case, dtype,
# direction), in about 10 CPU-seconds at -O2.
run_test DSDK_TEST_QUICK=1 "$OUT/test_conv_cuda"
# The sparse convolutions and GEMM: the whole grid at -O2 (about 20 CPU-seconds);
# under ASan every (case, dtype, algorithm) with a seventh of the other axes.
sparse_env=()
[ "$CFG" = asan ] && sparse_env=(DSDK_TEST_QUICK=1)
run_test "${sparse_env[@]}" "$OUT/test_sparse_cuda"
if [ -n "${EMU_NO_DEVICE:-}" ]; then exit 77; fi
