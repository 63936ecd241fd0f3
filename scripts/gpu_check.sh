#!/usr/bin/env bash
# Everything a session does on a lent GPU machine, in one go (see README):
#   build the core with CUDA and run the C++ tests, compute-sanitizer memcheck on a
#   small subset, build and install the Python package from source, run the CUDA
#   pytest suite, then the GPU benchmarks (conv vs cuDNN, SVM vs LIBSVM).
# Usage:  bash scripts/gpu_check.sh [test|bench|all]   (default all)
#   test     ~5 min: builds, C++ and pytest CUDA tests, memcheck
#   bench    ~7 min: conv vs cuDNN; the sparse convolutions vs cuDNN on W ⊙ M at
#            0-95 % (build/gpu/bench_sparse_cuda, ~1 min with its build); SVM at
#            30000 and 100000 points vs LIBSVM.
#            LIBSVM (single-threaded, ~6 min for both sizes) runs from the start on
#            core 0 while everything else runs on the other cores and the GPU;
#            the SVM table joins its rows (bench svm --rows-from).
# The device tool stops a command after 10 minutes: run test and bench as
# separate calls there ("all" is for a machine without that limit).
# Writes summary.txt, test.log, bench.log and JSON tables into $OUT (or ./gpu_out).
# The device machine has no network: it uses its own python3, torch and pip packages.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-all}
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export PATH="$CUDA_HOME/bin:$PATH"
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
export PYTHONUNBUFFERED=1
fails=0

step() {  # step LOG NAME CMD...: runs CMD, appends its output to LOG, records rc
  local log=$1 name=$2
  shift 2
  echo "== $name" | tee -a "$OUT/$log"
  local t0=$SECONDS
  "$@" >>"$OUT/$log" 2>&1
  local rc=$?
  echo "$name: rc=$rc ($((SECONDS - t0)) s)" | tee -a "$OUT/summary.txt"
  [ $rc -eq 0 ] || fails=$((fails + 1))
  return $rc
}

if [ "$what" = test ] || [ "$what" = all ]; then
  step test.log info bash -c "nvidia-smi; $PY -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'"
  step test.log cmake-build bash -c "cmake -S . -B build/gpu -G Ninja -DDSDK_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES=${TORCH_CUDA_ARCH_LIST//./} && cmake --build build/gpu -j $MAX_JOBS"
  step test.log ctest ctest --test-dir build/gpu --output-on-failure
  # memcheck on a subset of the conv grids (DSDK_TEST_QUICK: dense and sparse), the small
  # SVM problems, the masked GEMM and the magnitude masks
  for t in test_conv_cuda test_sparse_cuda test_svm_cuda test_masked_gemm_cuda \
      test_magnitude_mask_cuda; do
    step test.log "memcheck-$t" env DSDK_TEST_QUICK=1 timeout 480 \
      compute-sanitizer --tool memcheck --error-exitcode 1 build/gpu/$t
  done
  step test.log pip-install $PY -m pip install --no-build-isolation --no-deps -v .
  step test.log pytest-cuda $PY -m pytest tests -q -p no:cacheprovider -k "cuda or CUDA" -rs
  step test.log pytest-all $PY -m pytest tests -q -p no:cacheprovider -x
fi
if [ "$what" = bench ] || [ "$what" = all ]; then
  ncpu=$(nproc)
  pin_lib=() pin_rest=()
  if command -v taskset >/dev/null && [ "$ncpu" -ge 4 ]; then
    pin_lib=(taskset -c 0) pin_rest=(taskset -c "1-$((ncpu - 1))")
    ncpu=$((ncpu - 1))
  fi
  # LIBSVM needs only scikit-learn: it starts before dsdkern is built.
  echo "== libsvm-rows (background)" | tee -a "$OUT/bench.log"
  t_lib=$SECONDS
  "${pin_lib[@]}" $PY python/dsdkern/bench/svm.py --libsvm-rows "$OUT/libsvm_rows.json" \
    "$ncpu" 30000 100000 >"$OUT/libsvm.log" 2>&1 &
  lib_pid=$!
  $PY -c "import dsdkern" 2>/dev/null ||
    step bench.log pip-install "${pin_rest[@]}" $PY -m pip install --no-build-isolation --no-deps .
  step bench.log bench-conv-cuda "${pin_rest[@]}" $PY -m dsdkern bench conv --device cuda \
    --json "$OUT/bench_conv_cuda.json"
  # The sparse convolutions against cuDNN: the C++ driver comes with the test step's
  # build, or is built here (the machine may be a fresh one).
  [ -x build/gpu/bench_sparse_cuda ] ||
    step bench.log cmake-build-bench bash -c "cmake -S . -B build/gpu -G Ninja -DDSDK_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES=${TORCH_CUDA_ARCH_LIST//./} && \
      cmake --build build/gpu -j $MAX_JOBS --target bench_sparse_cuda"
  step bench.log bench-sparse-cuda "${pin_rest[@]}" $PY benchmarks/cpp/sparse_cuda_vs_cudnn.py \
    --json "$OUT/bench_sparse_cuda.json"
  step bench.log bench-svm-cuda "${pin_rest[@]}" $PY -m dsdkern bench svm --device cuda \
    --sizes 30000 100000 --threads "$ncpu" --peers '' --json "$OUT/bench_svm_cuda_only.json"
  wait "$lib_pid"
  rc=$?
  cat "$OUT/libsvm.log" >>"$OUT/bench.log"
  echo "libsvm-rows: rc=$rc ($((SECONDS - t_lib)) s)" | tee -a "$OUT/summary.txt"
  [ $rc -eq 0 ] || fails=$((fails + 1))
  # The table: GPU rows and LIBSVM's, speed-ups against LIBSVM (nothing is re-run).
  step bench.log svm-table $PY -m dsdkern bench svm --sizes 30000 100000 --threads "$ncpu" \
    --solvers '' --peers '' --rows-from "$OUT/bench_svm_cuda_only.json" "$OUT/libsvm_rows.json" \
    --json "$OUT/bench_svm_cuda.json"
  grep -A21 "^| layer | N | sparsity" "$OUT/bench.log" | tail -22
  grep -A8 "^| data" "$OUT/bench.log" | tail -9
fi
echo "failed steps: $fails" | tee -a "$OUT/summary.txt"
exit $((fails > 0))
