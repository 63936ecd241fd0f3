"""pytest-benchmark setup: import dsdkern from an in-place build in python/ if there is one, and give every
contender the same thread count (--threads, default: torch's)."""
import glob
import os
import sys

import pytest
import torch

# An in-place build (setup.py build_ext --inplace) leaves _C beside the sources: test those
# then; otherwise test the installed package (what scripts/test.sh builds).
_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python")
if glob.glob(os.path.join(_SRC, "dsdkern", "_C*.so")):
    sys.path.insert(0, _SRC)


def pytest_addoption(parser):
    parser.addoption("--threads", type=int, default=None,
                     help="torch.set_num_threads for every contender")
    parser.addoption("--device", default="cpu", choices=["cpu", "cuda"])


@pytest.fixture(scope="session")
def threads(request):
    n = request.config.getoption("--threads")
    if n is not None:
        torch.set_num_threads(n)
    return torch.get_num_threads()


@pytest.fixture(scope="session")
def device(request):
    d = request.config.getoption("--device")
    if d == "cuda" and not torch.cuda.is_available():
        pytest.skip("--device cuda but no CUDA device")
    return d
