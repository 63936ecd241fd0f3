"""What the op suites (test_masked_conv.py, test_masked_linear.py) share: tolerances, the
CUDA skip, the mark that runs a test on both forced algorithm choices, exact-count masks."""
import math

import pytest
import torch

TOL = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-10, atol=1e-10)}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
# The key tests run on both candidates of the measured algorithm choice (conftest.py).
FORCED = pytest.mark.usefixtures("forced_algorithm")


def make_mask(shape, sparsity, gen, dtype=torch.bool):
    """A mask with exactly round(sparsity * numel) pruned entries."""
    numel = math.prod(shape)
    keep = torch.ones(numel, dtype=torch.bool)
    keep[torch.randperm(numel, generator=gen)[:round(sparsity * numel)]] = False
    return keep.view(shape).to(dtype)
