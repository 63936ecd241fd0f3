"""Builds dsdkern._C: the torch-free core (csrc/core, csrc/cpu, csrc/cuda) plus the
torch layer (csrc/torch). CUDA sources are compiled when torch has CUDA and nvcc is
found, or when FORCE_CUDA=1; the GPU itself is never probed."""
import glob
import os
import shutil

# torch guesses CUDA_HOME from the location of nvcc's parent; point it at the toolkit
# before torch.utils.cpp_extension reads it.
if "CUDA_HOME" not in os.environ and os.path.exists("/usr/local/cuda/bin/nvcc"):
    os.environ["CUDA_HOME"] = "/usr/local/cuda"
os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "8.0;9.0")

import torch  # noqa: E402
from setuptools import find_packages, setup  # noqa: E402
from torch.utils.cpp_extension import (  # noqa: E402
    CUDA_HOME, BuildExtension, CppExtension, CUDAExtension)

ROOT = os.path.dirname(os.path.abspath(__file__))


def want_cuda():
    if os.environ.get("FORCE_CUDA", "") == "1":
        return True
    if os.environ.get("FORCE_CUDA", "") == "0":
        return False
    has_nvcc = CUDA_HOME is not None and os.path.exists(os.path.join(CUDA_HOME, "bin", "nvcc"))
    return torch.version.cuda is not None and (has_nvcc or shutil.which("nvcc") is not None)


def rel(pattern):
    return sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))


def cuda_include_dirs():
    # cuBLAS/cuSPARSE headers that torch's CUDA headers include ship with torch's
    # pip dependencies (nvidia/cu13/include or nvidia/*/include), not with the toolkit.
    dirs = []
    for sp in {os.path.dirname(os.path.dirname(torch.__file__))}:
        dirs += glob.glob(os.path.join(sp, "nvidia", "cu*", "include"))
        dirs += glob.glob(os.path.join(sp, "nvidia", "*", "include"))
    return sorted(set(dirs))


use_cuda = want_cuda()
sources = rel("csrc/core/*.cpp") + rel("csrc/cpu/*.cpp")
torch_sources = rel("csrc/torch/*.cpp")
sources += [s for s in torch_sources if not s.endswith("_cuda.cpp")]
include_dirs = [os.path.join(ROOT, "csrc"), os.path.join(ROOT, "csrc", "include")]
# torch >= 2.10 headers require C++20; the core itself stays C++17 (CMakeLists.txt).
cxx = ["-O3", "-std=c++20", "-fopenmp", "-Wall", "-Wno-unknown-pragmas"]
link = ["-fopenmp"]
if use_cuda:
    sources += rel("csrc/cuda/*.cu") + [s for s in torch_sources if s.endswith("_cuda.cpp")]
    include_dirs += cuda_include_dirs()
    macros = [("DSDK_WITH_CUDA", None)]
    ext = CUDAExtension(
        "dsdkern._C", sources, include_dirs=include_dirs, define_macros=macros,
        extra_compile_args={"cxx": cxx, "nvcc": ["-O3", "-std=c++20", "--expt-relaxed-constexpr",
                                                 "-lineinfo"]},
        extra_link_args=link)
else:
    ext = CppExtension("dsdkern._C", sources, include_dirs=include_dirs,
                       extra_compile_args={"cxx": cxx}, extra_link_args=link)

setup(
    name="dsdkern",
    version="0.1.0",
    description="Masked sparse convolution and parallel kernel SVM kernels for PyTorch",
    package_dir={"": "python"},
    packages=find_packages("python"),
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExtension},
    python_requires=">=3.10",
    install_requires=["torch", "numpy", "scikit-learn"],
)
