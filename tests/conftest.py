"""Shared pytest setup: import dsdkern from an in-place build in python/ if there is one, and run every
device-parametrised test on CPU and, where there is a GPU, on CUDA."""
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

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason="no CUDA device")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(params=["dsdk", "torch"])
def forced_algorithm(request):
    """Runs a test once per forced candidate of the ops' measured algorithm choice."""
    import dsdkern

    previous = dsdkern.ops.algorithm_choice()
    dsdkern.ops.set_algorithm_choice(request.param)
    yield request.param
    dsdkern.ops.set_algorithm_choice(previous)
