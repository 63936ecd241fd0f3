# Sourced by scripts/test.sh and scripts/demo.sh (extra arguments: more pip packages):
# makes .venv with what the project needs, builds dsdkern's extension in place
# (python/dsdkern/_C*.so) and puts python/ on the venv's path (a .pth file), so that
# `import dsdkern` in .venv runs this checkout.
# The CUDA kernels are compiled whenever nvcc is present (no GPU needed), so a
# CUDA compile error fails here.
# A later run reuses what an earlier one did: the pip install is skipped when this
# .venv already got the same requirement line, and the build when a hash over csrc/,
# setup.py, the torch version and the build settings matches the last build (and the
# built library is the one that build left). When they differ, ninja recompiles only
# the translation units whose sources or included headers changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamps=.venv/dsdk-stamps
mkdir -p "$stamps"

fingerprint() { sha256sum | cut -c1-32; }

# torch 2.14.1 is the CUDA build (with the CUDA headers the extension compiles against);
# set DSDK_TORCH=torch==2.13.0 for the small CPU-only build.
requirements=("${DSDK_TORCH:-torch==2.14.1}" numpy scipy scikit-learn pytest pytest-benchmark
              ninja pybind11 matplotlib expecttest setuptools wheel tqdm mnist1d "$@")
# torchvision (the ResNet-18 of `bench sparse`) goes in without its dependencies, so that
# pip keeps the torch above; 0.29 is torch 2.14's (set DSDK_TORCHVISION with DSDK_TORCH).
torchvision=${DSDK_TORCHVISION:-torchvision==0.29.1}
pip_stamp=$stamps/pip-$(printf '%s\n' "$(python -V 2>&1)" "${requirements[@]}" "$torchvision" |
                        fingerprint)
if [ -e "$pip_stamp" ]; then
  echo "== pip: this requirement line is installed already ($pip_stamp)"
else
  pip install -q "${requirements[@]}"
  pip install -q --no-deps "$torchvision"
  touch "$pip_stamp"
fi

if [ -z "${CUDA_HOME:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDA_HOME=/usr/local/cuda
fi
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-"8.0;9.0"}
export MAX_JOBS=${MAX_JOBS:-$(nproc)}

built_lib() { stat -c '%n %s %Y' python/dsdkern/_C*.so 2>/dev/null || true; }
build_key=$({
  python -c 'import importlib.metadata as m; print(m.version("torch"))'
  printf '%s\n' "${CUDA_HOME:-}" "$TORCH_CUDA_ARCH_LIST" "${FORCE_CUDA:-}"
  find csrc setup.py -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | fingerprint)
if [ -s "$stamps/build" ] && [ "$(cat "$stamps/build")" = "$build_key $(built_lib)" ]; then
  echo "== dsdkern: sources unchanged since the last build, reusing $(built_lib | cut -d' ' -f1)"
else
  echo "== building dsdkern (CUDA_HOME=${CUDA_HOME:-none}, arch list ${TORCH_CUDA_ARCH_LIST}, ${MAX_JOBS} jobs)"
  # ninja (in build/temp.*) keeps the objects of earlier builds and recompiles what changed.
  if ! python setup.py -q build_ext --inplace > "$stamps/build.log" 2>&1; then
    tail -n 60 "$stamps/build.log"
    echo "dsdkern build failed; the whole log: $stamps/build.log" >&2
    exit 1
  fi
  # A copy installed by an older `pip install .` would shadow the checkout.
  if python -c 'import importlib.metadata as m; m.version("dsdkern")' 2>/dev/null; then
    pip uninstall -q -y dsdkern
  fi
  echo "$build_key $(built_lib)" > "$stamps/build"
fi
echo "$PWD/python" > "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/dsdkern-checkout.pth"
python -c "import dsdkern, torch; print('dsdkern', dsdkern.__version__, '| torch', torch.__version__, '| CUDA backend built:', dsdkern._C.has_cuda_backend())"
