"""The sparse (no-grad) path of the masked layers against torch as the reference: every
algorithm and "auto" against F.conv2d(x, w * m) / F.linear(x, w * m) over a grid of shapes,
layouts and sparsities, on CPU and (where there is a GPU) CUDA; the packed-weight cache and its
invalidation; torch.compile; opcheck of the sparse ops; bad input."""
import copy
import io
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dsdkern import ops, prune
from dsdkern.nn import MaskedConv2d, MaskedLinear, sparsify
from op_helpers import TOL, make_mask, needs_cuda

CONV_ALGOS = ops.sparse_algorithms("conv")
LINEAR_ALGOS = ops.sparse_algorithms("linear")
CONV_FIXED = [a for a in CONV_ALGOS if a != "auto"]
LINEAR_FIXED = [a for a in LINEAR_ALGOS if a != "auto"]
# 1.0 prunes everything; "empty" prunes half the output channels whole (the rest at 50 %).
SPARSITIES = [0.0, 0.5, 0.9, 0.99, 1.0, "empty"]

# (in, out, kernel, stride, padding, dilation, groups, batch, height/width)
CONV_CASES = [
    (4, 6, 3, 1, 1, 1, 1, 2, 7),
    (4, 6, 3, 2, 1, 1, 1, 1, 8),
    (6, 6, 3, 1, 2, 2, 3, 3, 9),   # groups and dilation
    (8, 8, 3, 2, 1, 1, 8, 1, 7),   # depthwise, stride 2
    (5, 7, 1, 1, 0, 1, 1, 3, 5),   # 1x1
    (3, 4, 5, 2, 2, 1, 1, 0, 9),   # 5x5, empty batch
]
LAYOUTS = ["contiguous", "channels_last", "sliced"]
# Every device test runs on CUDA too: there it fails when ops_cuda.cpp lacks the sparse ops.
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]
HALF_TOL = {torch.float16: dict(rtol=2e-2, atol=5e-2), torch.bfloat16: dict(rtol=5e-2, atol=2e-1)}


@pytest.fixture(autouse=True)
def fresh_choices():
    ops.clear_algorithm_choices()
    yield
    ops.force_sparse_algorithm(None)
    ops.clear_algorithm_choices()


@pytest.fixture(autouse=True)
def no_tf32():
    """The "dense_torch" candidate and the references run torch's CUDA kernels, which may
    round float32 to TF32; full float32 keeps TOL meaningful."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    with torch.backends.cudnn.flags(allow_tf32=False):
        yield
    torch.backends.cuda.matmul.allow_tf32 = matmul


def layer_mask(shape, sparsity, gen):
    if sparsity != "empty":
        return make_mask(shape, sparsity, gen)
    mask = make_mask(shape, 0.5, gen)
    mask[::2] = False
    return mask


def conv_layer(case, sparsity, dtype, algo, seed, device="cpu"):
    cin, cout, k, stride, padding, dilation, groups, _, _ = case
    gen = torch.Generator().manual_seed(seed)
    layer = MaskedConv2d(cin, cout, k, stride, padding, dilation, groups, dtype=dtype,
                         algo=algo).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=dtype))
        layer.bias.copy_(torch.randn(cout, generator=gen, dtype=dtype))
    layer.set_mask(layer_mask(layer.weight.shape, sparsity, gen))
    return layer.to(device)


def conv_input(case, layout, dtype, seed, device="cpu"):
    cin, n, hw = case[0], case[7], case[8]
    gen = torch.Generator().manual_seed(seed)
    if layout == "sliced":  # every other channel and column of a larger tensor
        x = torch.randn(n, 2 * cin, hw, 2 * hw, generator=gen, dtype=dtype).to(device)
        return x[:, ::2, :, ::2]
    x = torch.randn(n, cin, hw, hw, generator=gen, dtype=dtype).to(device)
    return x.contiguous(memory_format=torch.channels_last) if layout == "channels_last" else x


def conv_reference(layer, x):
    return F.conv2d(x, layer.weight * layer.mask, layer.bias, layer.stride, layer.padding,
                    layer.dilation, layer.groups)


def check_conv(case, sparsity, layout, dtype, algo, seed=0, device="cpu"):
    layer = conv_layer(case, sparsity, dtype, algo, seed, device)
    x = conv_input(case, layout, dtype, seed + 1, device)
    with torch.inference_mode():
        out = layer(x)
    ref = conv_reference(layer, x)
    torch.testing.assert_close(out, ref, **TOL[dtype])
    assert out.is_contiguous(memory_format=torch._prims_common.suggest_memory_format(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algo", CONV_ALGOS)
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("sparsity", SPARSITIES, ids=str)
def test_conv_matches_torch(algo, case, sparsity, device):
    layout = LAYOUTS[(CONV_CASES.index(case) + SPARSITIES.index(sparsity)) % len(LAYOUTS)]
    check_conv(case, sparsity, layout, torch.float32, algo, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algo", CONV_ALGOS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sparsity", [0.0, 0.9, "empty"], ids=str)
def test_conv_float64(algo, layout, sparsity, device):
    check_conv(CONV_CASES[2], sparsity, layout, torch.float64, algo, device=device)


@needs_cuda
@pytest.mark.parametrize("dtype", list(HALF_TOL), ids=str)
@pytest.mark.parametrize("algo", CONV_ALGOS)
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_cuda_conv_half_precision_against_float32(case, algo, dtype):
    """float16 / bfloat16 on CUDA (float32 accumulation) against float32 on the same values."""
    layer = conv_layer(case, 0.9, torch.float32, algo, 41, "cuda")
    x = conv_input(case, LAYOUTS[CONV_CASES.index(case) % 3], torch.float32, 42, "cuda")
    ref = conv_reference(layer, x)
    layer.to(dtype)
    with torch.inference_mode():
        out = layer(x.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), ref, **HALF_TOL[dtype])


def linear_layer(cin, cout, sparsity, dtype, algo, seed, bias=True, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    layer = MaskedLinear(cin, cout, bias=bias, dtype=dtype, algo=algo).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=dtype))
    layer.set_mask(layer_mask(layer.weight.shape, sparsity, gen))
    return layer.to(device)


# Each takes randn(*shape) on the test's device and shapes the input from it.
LINEAR_INPUTS = {
    "batch1": lambda r: r(1, 9),
    "odd3d": lambda r: r(3, 5, 9),
    "empty": lambda r: r(0, 9),
    "transposed": lambda r: r(9, 7).t(),
    "sliced": lambda r: r(5, 18)[:, ::2],
    "vector": lambda r: r(9),
}


def linear_input(shape, dtype, seed, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    return LINEAR_INPUTS[shape](
        lambda *size: torch.randn(size, generator=gen, dtype=dtype).to(device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algo", LINEAR_ALGOS)
@pytest.mark.parametrize("shape", list(LINEAR_INPUTS))
@pytest.mark.parametrize("sparsity", SPARSITIES, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_linear_matches_torch(algo, shape, sparsity, dtype, device):
    layer = linear_layer(9, 6, sparsity, dtype, algo, seed=3, bias=shape != "sliced",
                         device=device)
    x = linear_input(shape, dtype, 4, device)
    with torch.no_grad():
        out = layer(x)
    torch.testing.assert_close(out, F.linear(x, layer.weight * layer.mask, layer.bias),
                               **TOL[dtype])


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_sparse_gemm_every_row_length(batch, dtype):
    """Row r of the packed matrix keeps r random entries (0 up to past two AVX-512 vectors,
    where the dot kernel's vector steps, single step and scalar tail meet), the last row
    all of them; batch 1 runs the dot kernel, batch 3 the panel kernel."""
    gen = torch.Generator().manual_seed(11)
    cin, cout = 300, 72
    order = torch.rand(cout, cin, generator=gen).argsort(dim=1)
    mask = order < torch.arange(cout).unsqueeze(1)
    mask[-1] = True
    layer = linear_layer(cin, cout, 0.0, dtype, "sparse_gemm", seed=12)
    layer.set_mask(mask)
    x = torch.randn(batch, cin, generator=gen, dtype=dtype)
    with torch.inference_mode():
        out = layer(x)
    torch.testing.assert_close(out, F.linear(x, layer.weight * layer.mask, layer.bias),
                               **TOL[dtype])


@pytest.mark.parametrize("sparsity", [0.9, 1.0], ids=str)
def test_sparse_gemm_wide_rows_take_32_bit_columns(sparsity):
    """More input features than 16-bit column indices address, at batch 1 and 2."""
    layer = linear_layer(70000, 5, sparsity, torch.float32, "sparse_gemm", seed=13)
    for batch in (1, 2):
        x = torch.randn(batch, 70000, generator=torch.Generator().manual_seed(14 + batch))
        with torch.inference_mode():
            out = layer(x)
        torch.testing.assert_close(out, F.linear(x, layer.weight * layer.mask, layer.bias),
                                   **TOL[torch.float32])


@needs_cuda
@pytest.mark.parametrize("dtype", list(HALF_TOL), ids=str)
@pytest.mark.parametrize("algo", LINEAR_ALGOS)
@pytest.mark.parametrize("shape", list(LINEAR_INPUTS))
def test_cuda_linear_half_precision_against_float32(shape, algo, dtype):
    layer = linear_layer(9, 6, 0.9, torch.float32, algo, seed=43, device="cuda")
    x = linear_input(shape, torch.float32, 44, "cuda")
    ref = F.linear(x, layer.weight * layer.mask, layer.bias)
    layer.to(dtype)
    with torch.inference_mode():
        out = layer(x.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), ref, **HALF_TOL[dtype])


# ---------------------------------------------------------------- auto

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("winner", CONV_FIXED)
def test_conv_auto_correct_whichever_wins(winner, device):
    ops.force_sparse_algorithm(winner)
    for i, case in enumerate(CONV_CASES[:4]):
        check_conv(case, [0.0, 0.9, "empty", 1.0][i], LAYOUTS[i % 3], torch.float32, "auto", i,
                   device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("winner", LINEAR_FIXED)
def test_linear_auto_correct_whichever_wins(winner, device):
    ops.force_sparse_algorithm(winner)
    layer = linear_layer(9, 6, 0.9, torch.float32, "auto", seed=5, device=device)
    x = torch.randn(4, 9, generator=torch.Generator().manual_seed(6)).to(device)
    with torch.inference_mode():
        out = layer(x)
    torch.testing.assert_close(out, F.linear(x, layer.weight * layer.mask, layer.bias),
                               **TOL[torch.float32])


@pytest.mark.parametrize("device", DEVICES)
def test_auto_measures_once_per_problem_and_lists_every_candidate(device):
    layer = conv_layer(CONV_CASES[0], 0.9, torch.float32, "auto", 7, device)
    x = conv_input(CONV_CASES[0], "contiguous", torch.float32, 8, device)
    before = ops._C.sparse_algorithm_measurements()
    with torch.inference_mode():
        first = layer(x)
        second = layer(x)
    assert ops._C.sparse_algorithm_measurements() == before + 1
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    (entry,) = ops.sparse_algorithm_choices()
    assert set(entry["times_ms"]) == set(CONV_FIXED)
    assert entry["algorithm"] == min(entry["times_ms"], key=entry["times_ms"].get)
    assert "sparsity_bucket=18" in entry["key"]

    # Another sparsity bucket is another problem; the same bucket is not.
    layer.set_mask(make_mask(layer.weight.shape, 0.5, torch.Generator().manual_seed(9)).to(device))
    with torch.inference_mode():
        layer(x)
    assert ops._C.sparse_algorithm_measurements() == before + 2
    layer.set_mask(make_mask(layer.weight.shape, 0.51, torch.Generator().manual_seed(9)).to(device))
    with torch.inference_mode():
        layer(x)
    assert ops._C.sparse_algorithm_measurements() == before + 2

    ops.clear_algorithm_choices()
    assert ops.sparse_algorithm_choices() == []


def test_forced_winner_that_cannot_run_is_a_clear_error():
    ops.force_sparse_algorithm("no_such_algorithm")
    layer = linear_layer(9, 6, 0.5, torch.float32, "auto", seed=1)
    with torch.no_grad(), pytest.raises(ValueError, match="forced algorithm"):
        layer(torch.randn(2, 9))


@needs_cuda
@pytest.mark.parametrize("algo", CONV_FIXED)
def test_cuda_packs_and_runs_on_the_current_stream(algo):
    """A weight and an input written late on a side stream: packing or running on any other
    stream would read them before they are written."""
    layer = conv_layer(CONV_CASES[0], 0.9, torch.float32, algo, 51, "cuda")
    x_src = conv_input(CONV_CASES[0], "contiguous", torch.float32, 52, "cuda")
    w_new = layer.weight.detach() * -3.0
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side), torch.no_grad():
        x = torch.zeros_like(x_src)
        torch.cuda._sleep(50_000_000)
        x.copy_(x_src)
        layer.weight.copy_(w_new)
        out = layer(x)
    torch.cuda.current_stream().wait_stream(side)
    torch.testing.assert_close(out, conv_reference(layer, x_src), **TOL[torch.float32])


# ---------------------------------------------------------------- which path runs

def test_training_keeps_the_masked_ops_and_their_per_direction_choice():
    """Under grad the layer runs masked_conv: its forward, backward-data and backward-filter
    are each a measured choice of their own; the sparse ops are not used."""
    ops.set_algorithm_choice("auto")
    layer = conv_layer(CONV_CASES[0], 0.9, torch.float32, "auto", 11).train()
    x = conv_input(CONV_CASES[0], "contiguous", torch.float32, 12).requires_grad_()
    layer(x).sum().backward()
    directions = {e["key"].split(" ")[1] for e in ops.algorithm_choices()
                  if e["key"].startswith("masked_conv ")}
    assert directions == {"forward", "backward-data", "backward-filter"}
    assert layer._sparse_cache.builds() == 0 and ops.sparse_algorithm_choices() == []
    # A no-grad forward of the same layer, eval or not, takes the sparse path.
    with torch.no_grad():
        layer(x)
    assert len(ops.sparse_algorithm_choices()) == 1

    linear = linear_layer(9, 6, 0.9, torch.float32, "sparse_gemm", seed=12).train()
    linear(torch.randn(4, 9, requires_grad=True)).sum().backward()
    directions = {e["key"].split(" ")[1] for e in ops.algorithm_choices()
                  if e["key"].startswith("masked_linear ")}
    assert directions == {"forward", "backward-data", "backward-filter"}
    assert linear._sparse_cache.builds() == 0


def test_frozen_weights_with_input_grad_stay_masked():
    layer = conv_layer(CONV_CASES[0], 0.5, torch.float32, "direct_sparse", 13)
    layer.requires_grad_(False)
    x = conv_input(CONV_CASES[0], "contiguous", torch.float32, 14).requires_grad_()
    layer(x).sum().backward()  # the sparse ops have no backward: this ran masked_conv
    assert layer._sparse_cache.builds() == 0 and x.grad is not None
    layer(x.detach())  # nothing needs a gradient: sparse, even with grad mode on
    assert layer._sparse_cache.builds() == 1


# ---------------------------------------------------------------- the cache

def run_nograd(layer, x):
    with torch.no_grad():
        return layer(x)


@pytest.fixture(params=DEVICES)
def cached_conv(request):
    layer = conv_layer(CONV_CASES[0], 0.5, torch.float64, "direct_sparse", 21, request.param)
    x = conv_input(CONV_CASES[0], "contiguous", torch.float64, 22, request.param)
    run_nograd(layer, x)
    run_nograd(layer, x)
    assert layer._sparse_cache.builds() == 1  # packed once, run twice
    return layer, x


def assert_fresh(layer, x, builds):
    out = run_nograd(layer, x)
    torch.testing.assert_close(out, conv_reference(layer, x), **TOL[x.dtype])
    assert layer._sparse_cache.builds() == builds


def test_cache_set_mask(cached_conv):
    layer, x = cached_conv
    gen = torch.Generator().manual_seed(1)
    layer.set_mask(make_mask(layer.weight.shape, 0.9, gen).to(x.device))
    assert_fresh(layer, x, 2)


def test_cache_inplace_weight_edit(cached_conv):
    layer, x = cached_conv
    with torch.no_grad():
        layer.weight.mul_(-2.0)
    assert_fresh(layer, x, 2)
    with torch.no_grad():
        layer.weight[0].add_(1.0)  # through a view: the version counter is shared
    assert_fresh(layer, x, 3)


def test_cache_weight_data_edit_needs_clear(cached_conv):
    """torch gives `.data` a version counter of its own, so no counter sees this edit; the
    documented remedy is clear_sparse_cache()."""
    layer, x = cached_conv
    layer.weight.data.mul_(-2.0)
    layer.mask.data[0] = False
    layer.clear_sparse_cache()
    assert_fresh(layer, x, 1)


def test_cache_load_state_dict(cached_conv):
    layer, x = cached_conv
    other = conv_layer(CONV_CASES[0], 0.9, torch.float64, "auto", 23)
    layer.load_state_dict(other.state_dict())
    assert_fresh(layer, x, 2)
    assert not any("cache" in k for k in layer.state_dict())


def test_cache_prune(cached_conv):
    layer, x = cached_conv
    prune.magnitude(layer, 0.8, exclude_first_conv=False)
    assert_fresh(layer, x, 2)
    prune.by_std(layer, 1.0)
    assert_fresh(layer, x, 3)


def test_cache_replaced_tensors_and_to(cached_conv):
    layer, x = cached_conv
    layer.weight = nn.Parameter(layer.weight.detach() * 3)
    assert_fresh(layer, x, 2)
    layer.to(torch.float32)
    x32 = x.float()
    out = run_nograd(layer, x32)
    torch.testing.assert_close(out, conv_reference(layer, x32), **TOL[torch.float32])
    assert layer._sparse_cache.builds() == 3


def test_cache_deepcopy_and_pickle(cached_conv):
    layer, x = cached_conv
    twin = copy.deepcopy(layer)
    assert twin._sparse_cache is not layer._sparse_cache and twin._sparse_cache.builds() == 0
    with torch.no_grad():
        twin.weight.mul_(5.0)
    assert_fresh(twin, x, 1)
    assert_fresh(layer, x, 1)  # the original is untouched and still cached
    buffer = io.BytesIO()
    torch.save(layer, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert loaded._sparse_cache.builds() == 0 and loaded.algo == "direct_sparse"
    assert_fresh(loaded, x, 1)
    assert pickle.loads(pickle.dumps(layer)).algo == "direct_sparse"


def test_inference_tensor_weights_are_rebuilt_every_call():
    """A layer built under inference_mode holds inference tensors, which have no version
    counter: the cache cannot vouch for them and rebuilds on every call."""
    with torch.inference_mode():
        layer = linear_layer(9, 6, 0.5, torch.float32, "sparse_gemm", seed=8)
        x = torch.randn(3, 9)
        for builds in (1, 2):
            torch.testing.assert_close(layer(x), F.linear(x, layer.weight * layer.mask,
                                                          layer.bias))
            assert layer._sparse_cache.builds() == builds


@pytest.mark.parametrize("device", DEVICES)
def test_sparse_path_devices(device):
    from dsdkern.nn import _SPARSE_DEVICES
    assert all(device in devices for devices in _SPARSE_DEVICES.values())


def test_dense_form_cached_too():
    layer = linear_layer(9, 6, 0.5, torch.float32, "dense_torch", seed=2)
    x = torch.randn(3, 9)
    for _ in range(3):
        run_nograd(layer, x)
    assert layer._sparse_cache.builds() == 1
    layer.set_mask(torch.ones_like(layer.mask))
    torch.testing.assert_close(run_nograd(layer, x), F.linear(x, layer.weight, layer.bias))
    assert layer._sparse_cache.builds() == 2


# ---------------------------------------------------------------- algo attribute, sparsify

def test_algo_attribute_and_bad_names():
    layer = MaskedConv2d(2, 3, 3)
    assert layer.algo == "auto"
    layer.algo = "direct_sparse"
    assert layer.algo == "direct_sparse" and "algo='direct_sparse'" in repr(layer)
    for bad in ("sparse_gemm", "Auto", "", 3):
        with pytest.raises(ValueError, match="algo"):
            layer.algo = bad
    assert layer.algo == "direct_sparse"
    with pytest.raises(ValueError, match="algo"):
        MaskedLinear(2, 3, algo="direct_sparse")


def test_sparsify_passes_algo_on():
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    sparsify(model, algo={"conv": "direct_sparse", "linear": "sparse_gemm"})
    assert [model[0].algo, model[2].algo] == ["direct_sparse", "sparse_gemm"]
    with pytest.raises(ValueError, match="algo"):
        sparsify(model, algo="direct_sparse")  # not a linear algorithm: nothing changes
    assert [model[0].algo, model[2].algo] == ["direct_sparse", "sparse_gemm"]
    sparsify(model, algo="dense_torch")
    assert [model[0].algo, model[2].algo] == ["dense_torch", "dense_torch"]
    with pytest.raises(ValueError, match="algo"):
        sparsify(model, algo={"convolution": "auto"})


# ---------------------------------------------------------------- torch.compile, opcheck

@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compile_fullgraph_eval_matches_eager(backend):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=2),
                          nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    sparsify(model)
    for layer in (model[0], model[2], model[4]):
        layer.set_mask(make_mask(layer.weight.shape, 0.8, torch.Generator().manual_seed(1)))
    model.eval()
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    compiled = torch.compile(model, fullgraph=True, backend=backend)
    with torch.inference_mode():
        eager = model(x)
        out = compiled(x)
    torch.testing.assert_close(out, eager, **TOL[torch.float32])
    assert all(layer._sparse_cache.builds() >= 1 for layer in (model[0], model[2], model[4]))
    # The compiled model runs the sparse op, which sees an edit made after compiling.
    builds = model[0]._sparse_cache.builds()
    model[0].set_mask(torch.zeros_like(model[0].mask))
    with torch.inference_mode():
        out = compiled(x)
    assert model[0]._sparse_cache.builds() > builds
    with torch.inference_mode():
        torch.testing.assert_close(out, model(x), **TOL[torch.float32])


# opcheck's test_schema clones its inputs with len() on each, which a torch ScriptObject (the
# cache) answers with NotImplementedError instead of TypeError; the schema's promise (no input
# is mutated) is asserted by hand instead.
OPCHECK_UTILS = ("test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic")


def opcheck_unmutated(op, args):
    before = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    torch.library.opcheck(op, args, test_utils=OPCHECK_UTILS)
    op(*args)
    for a, b in zip(args, before):
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck_sparse_ops(device):
    gen = torch.Generator().manual_seed(31)
    w, m, x, b, wl, ml, xl = (t.to(device) for t in (
        torch.randn(6, 2, 3, 3, generator=gen), make_mask((6, 2, 3, 3), 0.7, gen),
        torch.randn(2, 4, 7, 7, generator=gen), torch.randn(6, generator=gen),
        torch.randn(5, 7, generator=gen), make_mask((5, 7), 0.7, gen),
        torch.randn(3, 7, generator=gen)))
    for algo in CONV_ALGOS:
        opcheck_unmutated(torch.ops.dsdkern.sparse_conv2d.default,
                          (x, w, m, b, [1, 1], [1, 1], [1, 1], 2, algo, ops.SparseWeight()))
    for algo in LINEAR_ALGOS:
        opcheck_unmutated(torch.ops.dsdkern.sparse_linear.default,
                          (xl, wl, ml, None, algo, ops.SparseWeight()))


# ---------------------------------------------------------------- the eager entry

def eager_problem(kind):
    """A small layer of `kind` with a fixed algo, its input, the op and the op's arguments."""
    gen = torch.Generator().manual_seed(37)
    if kind == "conv":
        layer = MaskedConv2d(4, 6, 3, padding=1, algo="direct_sparse").eval()
        x = torch.randn(2, 4, 7, 7, generator=gen)
    else:
        layer = MaskedLinear(9, 5, algo="sparse_gemm").eval()
        x = torch.randn(3, 9, generator=gen)
    layer.set_mask(make_mask(layer.weight.shape, 0.8, gen))
    if kind == "conv":
        return (layer, x, torch.ops.dsdkern.sparse_conv2d, ops._C.sparse_conv2d_dispatch,
                (x, layer.weight, layer.mask, layer.bias, [1, 1], [1, 1], [1, 1], 1,
                 "direct_sparse", layer._sparse_cache),
                F.conv2d(x, layer.weight * layer.mask, layer.bias, padding=1))
    return (layer, x, torch.ops.dsdkern.sparse_linear, ops._C.sparse_linear_dispatch,
            (x, layer.weight, layer.mask, layer.bias, "sparse_gemm", layer._sparse_cache),
            F.linear(x, layer.weight * layer.mask, layer.bias))


@pytest.mark.parametrize("kind", ["conv", "linear"])
def test_eager_entry_is_the_op(kind):
    """The layers' shortcut past torch.ops' Python side gives torch.ops' result."""
    layer, x, op, entry, args, ref = eager_problem(kind)
    with torch.inference_mode():
        torch.testing.assert_close(entry(*args), op(*args), rtol=0, atol=0)
        torch.testing.assert_close(layer(x), ref, **TOL[torch.float32])


@pytest.mark.parametrize("kind", ["conv", "linear"])
def test_eager_entry_keeps_modes_and_subclasses(kind):
    """A torch function mode, a dispatch mode and a tensor subclass with __torch_function__
    each still see the sparse op when a layer runs it."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record:
        def __init__(self):
            self.funcs = []

        def __call__(self, func, types, args=(), kwargs=None):
            self.funcs.append(func)
            return func(*args, **(kwargs or {}))

    class FunctionMode(TorchFunctionMode, Record):
        def __init__(self):
            TorchFunctionMode.__init__(self)
            Record.__init__(self)

        def __torch_function__(self, func, types, args=(), kwargs=None):
            return self(func, types, args, kwargs)

    class DispatchMode(TorchDispatchMode, Record):
        def __init__(self):
            TorchDispatchMode.__init__(self)
            Record.__init__(self)

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return self(func, types, args, kwargs)

    seen = []

    class Traced(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            return super().__torch_function__(func, types, args, kwargs)

    layer, x, op, _, _, _ = eager_problem(kind)
    with torch.no_grad():
        ref = layer(x)
        for mode in (FunctionMode(), DispatchMode()):
            with mode:
                torch.testing.assert_close(layer(x), ref, rtol=0, atol=0)
            assert any(op in (f, getattr(f, "overloadpacket", None)) for f in mode.funcs)
        torch.testing.assert_close(layer(x.as_subclass(Traced)).as_subclass(torch.Tensor), ref,
                                   rtol=0, atol=0)
    assert op in seen


# ---------------------------------------------------------------- bad input

def test_bad_input_is_a_clear_error():
    cache = ops.SparseWeight()
    w = torch.randn(4, 2, 3, 3)
    m = torch.ones(4, 2, 3, 3, dtype=torch.bool)
    x = torch.randn(1, 2, 5, 5)
    conv = torch.ops.dsdkern.sparse_conv2d
    with pytest.raises(ValueError, match='algo must be one of .*got "nope"'):
        conv(x, w, m, None, [1, 1], [0, 0], [1, 1], 1, "nope", cache)
    with pytest.raises(RuntimeError, match="mask shape"):
        conv(x, w, m[:2], None, [1, 1], [0, 0], [1, 1], 1, "auto", cache)
    with pytest.raises(RuntimeError, match="weight dtype"):
        conv(x, w.double(), m, None, [1, 1], [0, 0], [1, 1], 1, "auto", cache)
    with pytest.raises(RuntimeError, match="groups"):
        conv(x, w, m, None, [1, 1], [0, 0], [1, 1], 3, "direct_sparse", cache)
    with pytest.raises(RuntimeError, match="not supported on CPU"):
        conv(x.half(), w.half(), m, None, [1, 1], [0, 0], [1, 1], 1, "auto", cache)
    lin = torch.ops.dsdkern.sparse_linear
    with pytest.raises(ValueError, match="algo"):
        lin(torch.randn(2, 3), torch.randn(4, 3), torch.ones(4, 3, dtype=torch.bool), None,
            "direct_sparse", cache)
    with pytest.raises(RuntimeError, match="in_features"):
        lin(torch.randn(2, 5), torch.randn(4, 3), torch.ones(4, 3, dtype=torch.bool), None,
            "sparse_gemm", cache)
    with pytest.raises(ValueError, match="kind"):
        ops.sparse_algorithms("conv3d")
    assert cache.builds() == 0


@needs_cuda
def test_cuda_operands_on_two_devices_are_a_clear_error():
    cache = ops.SparseWeight()
    w = torch.randn(4, 2, 3, 3)
    m = torch.ones(4, 2, 3, 3, dtype=torch.bool, device="cuda")
    with pytest.raises(RuntimeError, match="weight is on cpu but input is on cuda"):
        torch.ops.dsdkern.sparse_conv2d(torch.randn(1, 2, 5, 5, device="cuda"), w, m, None,
                                        [1, 1], [0, 0], [1, 1], 1, "auto", cache)
    with pytest.raises(RuntimeError, match="weight is on cpu but input is on cuda"):
        torch.ops.dsdkern.sparse_linear(torch.randn(2, 3, device="cuda"), torch.randn(4, 3),
                                        torch.ones(4, 3, dtype=torch.bool, device="cuda"),
                                        None, "sparse_gemm", cache)
    assert cache.builds() == 0
