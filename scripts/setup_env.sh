# Sourced by scripts/test.sh and scripts/demo.sh: makes .venv with what the project
# needs, then builds and installs dsdkern from this checkout into it.
# The CUDA kernels are compiled whenever nvcc is present (no GPU needed), so a
# CUDA compile error fails here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate

# torch 2.14.1 is the CUDA build (with the CUDA headers the extension compiles against);
# set DSDK_TORCH=torch==2.13.0 for the small CPU-only build.
pip install -q "${DSDK_TORCH:-torch==2.14.1}" numpy scipy scikit-learn pytest pytest-benchmark \
  ninja pybind11 matplotlib expecttest setuptools wheel tqdm "$@"

if [ -z "${CUDA_HOME:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDA_HOME=/usr/local/cuda
fi
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-"8.0;9.0"}
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
echo "== building dsdkern (CUDA_HOME=${CUDA_HOME:-none}, arch list ${TORCH_CUDA_ARCH_LIST}, ${MAX_JOBS} jobs)"
pip install -q --no-build-isolation --no-deps .
python -c "import dsdkern, torch; print('dsdkern', dsdkern.__version__, '| torch', torch.__version__, '| CUDA backend built:', dsdkern._C.has_cuda_backend())"
