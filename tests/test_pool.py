"""dsdkern.ops.max_pool2d and dsdkern.nn.MaxPool2d against torch's F.max_pool2d / nn.MaxPool2d:
every window geometry torch accepts (kernel, stride, padding, dilation, ceil_mode), batch 0 /
1 / odd, unbatched input, strided and channels_last input, float64, NaN and inf entries;
bad arguments named in the error; the layer's fallbacks to torch (gradient, indices, dtype);
sparsify / densify swapping it; torch.compile through the fake kernel."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dsdkern import nn as dnn
from dsdkern import ops


def _input(shape, seed, dtype=torch.float32, specials=True):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    if specials and x.numel() > 8:
        flat = x.view(-1)
        flat[1], flat[x.numel() // 2], flat[-3] = float("nan"), float("inf"), float("-inf")
    return x


def _geometries():
    for k, s, d in itertools.product(range(1, 6), range(1, 4), range(1, 3)):
        for p in range(k // 2 + 1):
            for ceil_mode in (False, True):
                yield k, s, p, d, ceil_mode


@pytest.mark.parametrize("k,s,p,d,ceil_mode", list(_geometries()))
def test_matches_torch_over_geometries(k, s, p, d, ceil_mode):
    x = _input((2, 3, 13, 11), seed=k * 100 + s * 10 + p + d)
    want = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode)
    got = ops.max_pool2d(x, k, s, p, d, ceil_mode)
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    ((2, 3), (1, 2), (1, 1), (2, 1)), ((3, 1), (3, 1), (0, 0), (1, 2)), ((5, 2), None, (2, 1), 1),
])
def test_non_square_arguments(kernel, stride, padding, dilation):
    x = _input((1, 4, 17, 10), seed=4)
    for ceil_mode in (False, True):
        want = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        got = ops.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("batch", [0, 1, 5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batches_and_dtypes(batch, dtype):
    x = _input((batch, 3, 20, 20), seed=batch, dtype=dtype)
    want = F.max_pool2d(x, 3, 2, 1)
    got = ops.max_pool2d(x, 3, 2, 1)
    assert got.dtype == dtype and got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


def test_resnet_stem_shape_and_threads():
    x = _input((1, 64, 112, 112), seed=11)
    want = F.max_pool2d(x, 3, 2, 1)
    threads = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            torch.testing.assert_close(ops.max_pool2d(x, 3, 2, 1), want, rtol=0, atol=0,
                                       equal_nan=True)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("layout", ["channels_last", "sliced", "transposed"])
def test_strided_inputs(layout):
    base = _input((2, 6, 15, 18), seed=7)
    x = {"channels_last": base.contiguous(memory_format=torch.channels_last),
         "sliced": base[:, ::2, 1:, ::2],
         "transposed": base.transpose(2, 3)}[layout]
    for args in ((3, 2, 1), (2, 1, 0), (3, 3, 1, 2)):
        torch.testing.assert_close(ops.max_pool2d(x, *args), F.max_pool2d(x, *args), rtol=0,
                                   atol=0, equal_nan=True)


def test_unbatched_input():
    x = _input((3, 9, 9), seed=8)
    got = ops.max_pool2d(x, 2, 2, 1, ceil_mode=True)
    assert got.shape == (3, 5, 5)
    torch.testing.assert_close(got, F.max_pool2d(x, 2, 2, 1, ceil_mode=True), rtol=0, atol=0,
                               equal_nan=True)


def test_nan_and_infinities_propagate():
    x = torch.full((1, 1, 4, 4), -1.0)
    x[0, 0, 0, 0] = float("nan")
    x[0, 0, 3, 3] = float("inf")
    x[0, 0, 0, 3] = float("-inf")
    got = ops.max_pool2d(x, 2, 2)
    torch.testing.assert_close(got, F.max_pool2d(x, 2, 2), rtol=0, atol=0, equal_nan=True)
    assert torch.isnan(got[0, 0, 0, 0]) and got[0, 0, 1, 1] == float("inf")
    # A window whose only value is -inf gives -inf, like one over padding only.
    y = torch.full((1, 1, 1, 1), float("-inf"))
    assert ops.max_pool2d(y, 1).item() == float("-inf")


@pytest.mark.parametrize("kwargs,word", [
    ({"kernel_size": 0}, "kernel_size"), ({"kernel_size": 3, "stride": 0}, "stride"),
    ({"kernel_size": 3, "padding": -1}, "padding"), ({"kernel_size": 3, "dilation": 0}, "dilation"),
    ({"kernel_size": 3, "padding": 2}, "padding"), ({"kernel_size": (3, 3, 3)}, "kernel_size"),
    ({"kernel_size": 3, "stride": (1, 2, 3)}, "stride"),
])
def test_bad_geometry_is_named(kwargs, word):
    x = torch.randn(1, 2, 8, 8)
    with pytest.raises(RuntimeError, match=word):
        ops.max_pool2d(x, **kwargs)


def test_bad_inputs_are_named():
    with pytest.raises(RuntimeError, match="input must be a 3-D"):
        ops.max_pool2d(torch.randn(8, 8), 2)
    with pytest.raises(RuntimeError, match="input dtype torch.int64"):
        ops.max_pool2d(torch.ones(1, 1, 4, 4, dtype=torch.int64), 2)
    with pytest.raises(RuntimeError, match="non-zero channels"):
        ops.max_pool2d(torch.randn(1, 0, 4, 4), 2)


def test_empty_output_is_named():
    x = torch.randn(1, 1, 4, 4)
    with pytest.raises(RuntimeError):  # torch refuses it as well
        F.max_pool2d(x, 5, 1, 0, 2)
    with pytest.raises(RuntimeError, match="empty"):
        ops.max_pool2d(x, 5, 1, 0, 2)


def test_opcheck():
    x = _input((2, 3, 10, 9), seed=3, specials=False)
    torch.library.opcheck(torch.ops.dsdkern.max_pool2d, (x, [3, 3], [2, 2], [1, 1], [1, 1], True))


def test_compile_fullgraph_matches():
    layer = dnn.MaxPool2d(3, 2, 1).eval()
    x = _input((1, 4, 16, 16), seed=5, specials=False)
    compiled = torch.compile(layer, fullgraph=True, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), F.max_pool2d(x, 3, 2, 1), rtol=0, atol=0)


# ---- the layer ----------------------------------------------------------------------------

def test_layer_is_a_maxpool_with_the_same_state():
    ours, theirs = dnn.MaxPool2d(3, padding=1, ceil_mode=True), nn.MaxPool2d(3, padding=1,
                                                                           ceil_mode=True)
    assert isinstance(ours, nn.MaxPool2d)
    assert ours.extra_repr() == theirs.extra_repr() and ours.stride == 3
    assert ours.state_dict() == {} == theirs.state_dict()


def test_layer_runs_ours_only_without_gradient(monkeypatch):
    calls = []
    real = ops.max_pool2d
    monkeypatch.setattr(ops, "max_pool2d", lambda *a, **k: calls.append(1) or real(*a, **k))
    layer = dnn.MaxPool2d(2)
    x = _input((1, 2, 6, 6), seed=1, specials=False)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), F.max_pool2d(x, 2))
    assert len(calls) == 1
    xg = x.clone().requires_grad_()
    out = layer(xg)  # gradient needed: torch's pooling, differentiable
    out.sum().backward()
    ref = x.clone().requires_grad_()
    F.max_pool2d(ref, 2).sum().backward()
    torch.testing.assert_close(xg.grad, ref.grad)
    out, idx = dnn.MaxPool2d(2, return_indices=True)(x)  # indices: torch's
    torch.testing.assert_close(idx, F.max_pool2d(x, 2, return_indices=True)[1])
    half = x.to(torch.bfloat16)
    torch.testing.assert_close(layer(half), F.max_pool2d(half, 2))
    assert len(calls) == 1


def _model():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 2, 1))


def test_sparsify_swaps_the_pool_and_keeps_hooks():
    torch.manual_seed(0)
    model = _model().eval()
    seen = []
    handle = model[2].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    x = torch.randn(1, 3, 12, 12)
    with torch.no_grad():
        ref = model(x)
        dnn.sparsify(model)
        assert type(model[2]) is dnn.MaxPool2d and not model[2].training
        torch.testing.assert_close(model(x), ref)
    assert len(seen) == 2
    handle.remove()
    with torch.no_grad():
        model(x)
    assert len(seen) == 2


def test_sparsify_exclude_and_subclass_leave_pools():
    class MyPool(nn.MaxPool2d):
        pass

    model = nn.Sequential(nn.Conv2d(3, 4, 3), MyPool(2), nn.MaxPool2d(2))
    dnn.sparsify(model, exclude=["2"])
    assert type(model[1]) is MyPool and type(model[2]) is nn.MaxPool2d


def test_densify_swaps_the_pool_back():
    model = dnn.sparsify(_model())
    plain = dnn.densify(model)
    assert type(plain[2]) is nn.MaxPool2d and type(model[2]) is dnn.MaxPool2d
    assert plain[2].kernel_size == 2 and plain[2].stride == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_input_runs_torchs_pooling():
    layer = dnn.MaxPool2d(3, 2, 1).eval()
    x = _input((2, 8, 20, 20), seed=12).cuda()
    with torch.no_grad():
        got = layer(x)
    assert got.is_cuda
    torch.testing.assert_close(got, F.max_pool2d(x, 3, 2, 1), rtol=0, atol=0, equal_nan=True)
    with pytest.raises((NotImplementedError, RuntimeError)):  # the op itself is CPU only
        ops.max_pool2d(x, 3, 2, 1)
