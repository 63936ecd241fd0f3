"""The convolution bias, added in each algorithm's own store (dsdk*ConvolutionBiasForward),
against F.conv2d with the same bias: every fixed algo of sparse_conv2d and masked_conv's
forward, with no bias, a bias tensor and a strided view as bias, NCHW and channels_last,
float32 and float64, on shapes that reach both orientations of the implicit GEMM's tiles
(many pixels; one image of 3x3 outputs with many channels)."""
import pytest
import torch
import torch.nn.functional as F

from dsdkern import ops
from op_helpers import FORCED, TOL, make_mask, needs_cuda

CONV_FIXED = [a for a in ops.sparse_algorithms("conv") if a != "auto"]
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]
# (in, out, kernel, stride, padding, groups, batch, height/width)
CASES = [
    (16, 24, 3, 1, 1, 1, 1, 20),  # many pixels: channels are the micro-tiles' rows
    (32, 72, 3, 1, 1, 1, 1, 3),   # few pixels: the implicit GEMM runs transposed
    (6, 8, 3, 2, 1, 2, 3, 9),     # groups, stride, odd batch
]
BIASES = ["none", "tensor", "strided"]


def problem(case, bias_kind, layout, dtype, device, seed):
    cin, cout, k, stride, padding, groups, n, hw = case
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(cout, cin // groups, k, k, generator=gen, dtype=dtype)
    m = make_mask(w.shape, 0.7, gen)
    x = torch.randn(n, cin, hw, hw, generator=gen, dtype=dtype)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    b = {"none": None,
         "tensor": 4 * torch.randn(cout, generator=gen, dtype=dtype),
         "strided": 4 * torch.randn(2 * cout, generator=gen, dtype=dtype)[::2]}[bias_kind]
    to = (lambda t: t if t is None else t.to(device))
    return to(x), to(w), to(m), to(b), (stride, padding, groups)


def reference(x, w, m, b, geo):
    stride, padding, groups = geo
    return F.conv2d(x, w * m, b, stride, padding, 1, groups)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("bias_kind", BIASES)
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("algo", CONV_FIXED)
def test_sparse_conv2d_bias(algo, case, bias_kind, layout, dtype, device):
    x, w, m, b, geo = problem(case, bias_kind, layout, dtype, device, seed=CASES.index(case))
    stride, padding, groups = geo
    with torch.inference_mode():
        out = ops.sparse_conv2d(x, w, m, b, stride, padding, 1, groups, algo, ops.SparseWeight())
    torch.testing.assert_close(out, reference(x, w, m, b, geo), **TOL[dtype])


@FORCED
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("bias_kind", BIASES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_masked_conv_forward_bias(case, bias_kind, layout, device):
    x, w, m, b, geo = problem(case, bias_kind, layout, torch.float32, device, seed=7)
    stride, padding, groups = geo
    out = ops.masked_conv(x, w, m, b, stride, padding, 1, groups)
    torch.testing.assert_close(out, reference(x, w, m, b, geo), **TOL[torch.float32])
