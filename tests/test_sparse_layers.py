"""The sparse (no-grad) path of the masked layers against torch as the reference: every
algorithm and "auto" against F.conv2d(x, w * m) / F.linear(x, w * m) over a grid of shapes,
layouts and sparsities; the packed-weight cache and its invalidation; torch.compile; opcheck of
the sparse ops; bad input."""
import copy
import io
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dsdkern import ops, prune
from dsdkern.nn import MaskedConv2d, MaskedLinear, sparsify
from op_helpers import TOL, make_mask

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


@pytest.fixture(autouse=True)
def fresh_choices():
    ops.clear_algorithm_choices()
    yield
    ops.force_sparse_algorithm(None)
    ops.clear_algorithm_choices()


def layer_mask(shape, sparsity, gen):
    if sparsity != "empty":
        return make_mask(shape, sparsity, gen)
    mask = make_mask(shape, 0.5, gen)
    mask[::2] = False
    return mask


def conv_layer(case, sparsity, dtype, algo, seed):
    cin, cout, k, stride, padding, dilation, groups, _, _ = case
    gen = torch.Generator().manual_seed(seed)
    layer = MaskedConv2d(cin, cout, k, stride, padding, dilation, groups, dtype=dtype,
                         algo=algo).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=dtype))
        layer.bias.copy_(torch.randn(cout, generator=gen, dtype=dtype))
    layer.set_mask(layer_mask(layer.weight.shape, sparsity, gen))
    return layer


def conv_input(case, layout, dtype, seed):
    cin, n, hw = case[0], case[7], case[8]
    gen = torch.Generator().manual_seed(seed)
    if layout == "sliced":  # every other channel and column of a larger tensor
        return torch.randn(n, 2 * cin, hw, 2 * hw, generator=gen, dtype=dtype)[:, ::2, :, ::2]
    x = torch.randn(n, cin, hw, hw, generator=gen, dtype=dtype)
    return x.contiguous(memory_format=torch.channels_last) if layout == "channels_last" else x


def conv_reference(layer, x):
    return F.conv2d(x, layer.weight * layer.mask, layer.bias, layer.stride, layer.padding,
                    layer.dilation, layer.groups)


def check_conv(case, sparsity, layout, dtype, algo, seed=0):
    layer = conv_layer(case, sparsity, dtype, algo, seed)
    x = conv_input(case, layout, dtype, seed + 1)
    with torch.inference_mode():
        out = layer(x)
    ref = conv_reference(layer, x)
    torch.testing.assert_close(out, ref, **TOL[dtype])
    assert out.is_contiguous(memory_format=torch._prims_common.suggest_memory_format(x))


@pytest.mark.parametrize("algo", CONV_ALGOS)
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("sparsity", SPARSITIES, ids=str)
def test_conv_matches_torch(algo, case, sparsity):
    layout = LAYOUTS[(CONV_CASES.index(case) + SPARSITIES.index(sparsity)) % len(LAYOUTS)]
    check_conv(case, sparsity, layout, torch.float32, algo)


@pytest.mark.parametrize("algo", CONV_ALGOS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sparsity", [0.0, 0.9, "empty"], ids=str)
def test_conv_float64(algo, layout, sparsity):
    check_conv(CONV_CASES[2], sparsity, layout, torch.float64, algo)


def linear_layer(cin, cout, sparsity, dtype, algo, seed, bias=True):
    gen = torch.Generator().manual_seed(seed)
    layer = MaskedLinear(cin, cout, bias=bias, dtype=dtype, algo=algo).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=dtype))
    layer.set_mask(layer_mask(layer.weight.shape, sparsity, gen))
    return layer


LINEAR_INPUTS = {
    "batch1": lambda g, d: torch.randn(1, 9, generator=g, dtype=d),
    "odd3d": lambda g, d: torch.randn(3, 5, 9, generator=g, dtype=d),
    "empty": lambda g, d: torch.randn(0, 9, generator=g, dtype=d),
    "transposed": lambda g, d: torch.randn(9, 7, generator=g, dtype=d).t(),
    "sliced": lambda g, d: torch.randn(5, 18, generator=g, dtype=d)[:, ::2],
    "vector": lambda g, d: torch.randn(9, generator=g, dtype=d),
}


@pytest.mark.parametrize("algo", LINEAR_ALGOS)
@pytest.mark.parametrize("shape", list(LINEAR_INPUTS))
@pytest.mark.parametrize("sparsity", SPARSITIES, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_linear_matches_torch(algo, shape, sparsity, dtype):
    layer = linear_layer(9, 6, sparsity, dtype, algo, seed=3, bias=shape != "sliced")
    x = LINEAR_INPUTS[shape](torch.Generator().manual_seed(4), dtype)
    with torch.no_grad():
        out = layer(x)
    torch.testing.assert_close(out, F.linear(x, layer.weight * layer.mask, layer.bias),
                               **TOL[dtype])


# ---------------------------------------------------------------- auto

@pytest.mark.parametrize("winner", CONV_FIXED)
def test_conv_auto_correct_whichever_wins(winner):
    ops.force_sparse_algorithm(winner)
    for i, case in enumerate(CONV_CASES[:4]):
        check_conv(case, [0.0, 0.9, "empty", 1.0][i], LAYOUTS[i % 3], torch.float32, "auto", i)


@pytest.mark.parametrize("winner", LINEAR_FIXED)
def test_linear_auto_correct_whichever_wins(winner):
    ops.force_sparse_algorithm(winner)
    layer = linear_layer(9, 6, 0.9, torch.float32, "auto", seed=5)
    x = torch.randn(4, 9, generator=torch.Generator().manual_seed(6))
    with torch.inference_mode():
        out = layer(x)
    torch.testing.assert_close(out, F.linear(x, layer.weight * layer.mask, layer.bias),
                               **TOL[torch.float32])


def test_auto_measures_once_per_problem_and_lists_every_candidate():
    layer = conv_layer(CONV_CASES[0], 0.9, torch.float32, "auto", 7)
    x = conv_input(CONV_CASES[0], "contiguous", torch.float32, 8)
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
    layer.set_mask(make_mask(layer.weight.shape, 0.5, torch.Generator().manual_seed(9)))
    with torch.inference_mode():
        layer(x)
    assert ops._C.sparse_algorithm_measurements() == before + 2
    layer.set_mask(make_mask(layer.weight.shape, 0.51, torch.Generator().manual_seed(9)))
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


@pytest.fixture
def cached_conv():
    layer = conv_layer(CONV_CASES[0], 0.5, torch.float64, "direct_sparse", 21)
    x = conv_input(CONV_CASES[0], "contiguous", torch.float64, 22)
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
    layer.set_mask(make_mask(layer.weight.shape, 0.9, torch.Generator().manual_seed(1)))
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


def test_sparse_path_devices():
    from dsdkern.nn import _SPARSE_DEVICES
    assert all("cpu" in devices for devices in _SPARSE_DEVICES.values())


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


def test_opcheck_sparse_ops():
    gen = torch.Generator().manual_seed(31)
    w = torch.randn(6, 2, 3, 3, generator=gen)
    m = make_mask(w.shape, 0.7, gen)
    x = torch.randn(2, 4, 7, 7, generator=gen)
    b = torch.randn(6, generator=gen)
    for algo in CONV_ALGOS:
        opcheck_unmutated(torch.ops.dsdkern.sparse_conv2d.default,
                          (x, w, m, b, [1, 1], [1, 1], [1, 1], 2, algo, ops.SparseWeight()))
    wl = torch.randn(5, 7, generator=gen)
    ml = make_mask(wl.shape, 0.7, gen)
    xl = torch.randn(3, 7, generator=gen)
    for algo in LINEAR_ALGOS:
        opcheck_unmutated(torch.ops.dsdkern.sparse_linear.default,
                          (xl, wl, ml, None, algo, ops.SparseWeight()))


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
