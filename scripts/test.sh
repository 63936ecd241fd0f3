#!/usr/bin/env bash
# The test command: builds everything from this checkout and runs every test.
#   1. the torch-free core and its C++ tests (ctest), with the CUDA backend compiled
#      when nvcc is present;
#   2. the same C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (CPU);
#   3. the CUDA sources run on the CPU under an emulation of the CUDA execution
#      model (tests/emu), at -O2 and under ASan + UBSan, where the CUDA headers exist;
#   4. the Python package (built by setup.py) and its pytest suite.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The arguments are pytest's; setup_env.sh would read them as more pip packages.
pytest_args=("$@")
set --
# shellcheck disable=SC1091
source "$here/scripts/setup_env.sh"
cd "$here"

echo "== C++ core + ctest"
cmake -S . -B build/core -G Ninja -DCMAKE_MAKE_PROGRAM="$(command -v ninja)" >/dev/null
cmake --build build/core -j "$MAX_JOBS"
ctest --test-dir build/core --output-on-failure

echo "== C++ tests under ASan + UBSan"
cmake -S . -B build/asan -G Ninja -DCMAKE_MAKE_PROGRAM="$(command -v ninja)" \
  -DDSDK_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/asan -j "$MAX_JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure

echo "== CUDA kernels on the CPU, under the CUDA emulator (tests/emu)"
if [ -f "${CUDA_HOME:-/usr/local/cuda}/include/cuda_runtime.h" ] && [ "$(uname -m)" = x86_64 ]; then
  JOBS="$MAX_JOBS" bash tests/emu/run.sh O2
  JOBS="$MAX_JOBS" bash tests/emu/run.sh asan
else
  echo "skipped: needs the CUDA headers (cuda_runtime.h) and x86-64"
fi

echo "== pytest"
python -m pytest tests -q -p no:cacheprovider "${pytest_args[@]}"
