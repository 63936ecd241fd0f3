"""Shared pytest setup: import dsdkern from python/ without installing it, and run every
device-parametrised test on CPU and, where there is a GPU, on CUDA."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason="no CUDA device")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param
