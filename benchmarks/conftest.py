"""pytest-benchmark setup: import dsdkern from python/ without installing it, and give every
contender the same thread count (--threads, default: torch's)."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))


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
