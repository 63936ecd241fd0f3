"""dsdkern.ops.magnitude_mask / threshold_mask against a numpy reference (np.lexsort on
(-|w|, flat index): the keep largest magnitudes, ties to the lower index), over shapes,
strides, dtypes, keep = 0 / 1 / n-1 / n, heavy ties, thread counts; opcheck,
torch.compile, and bad input named in the message (eager and fake kernels)."""
import numpy as np
import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

import dsdkern.ops as ops

DTYPES = {"cpu": [torch.float32, torch.float64],
          "cuda": [torch.float32, torch.float64, torch.float16, torch.bfloat16]}
SHAPES = [(0,), (1,), (7,), (6, 3, 3, 3), (64, 300), (3, 600, 150)]  # the last: > 2^18
KINDS = ["normal", "integers", "equal", "zeros", "special"]


def make_weight(kind, shape, dtype, device, seed):
    g = torch.Generator().manual_seed(seed)
    n = int(np.prod(shape))
    if kind == "normal":
        w = torch.randn(n, generator=g, dtype=torch.float64) * 0.05
    elif kind == "integers":
        w = torch.randint(-4, 5, (n,), generator=g).double()
    elif kind == "equal":
        w = torch.where(torch.rand(n, generator=g) < 0.5, -0.25, 0.25).double()
    elif kind == "zeros":
        w = torch.where(torch.rand(n, generator=g) < 0.5, -0.0, 0.0).double()
    else:
        pool = torch.tensor([float("inf"), -float("inf"), 0.0, -0.0, 0.5, -0.5, 2.0 ** -30,
                             65504.0, -3.0, 3.0], dtype=torch.float64)
        w = pool[torch.randint(0, len(pool), (n,), generator=g)]
    return w.to(dtype).reshape(shape).to(device)


def reference_topk(w, keep):
    a = np.abs(w.detach().cpu().double().reshape(-1).numpy())
    order = np.lexsort((np.arange(a.size), -a))  # last key is the primary one
    m = np.zeros(a.size, dtype=bool)
    m[order[:keep]] = True
    return torch.from_numpy(m).reshape(w.shape)


def reference_threshold(w, t):
    return torch.from_numpy(np.abs(w.detach().cpu().double().numpy()) >= t)


def keeps(n):
    return sorted({0, 1, max(n - 1, 0), n, n // 2, n // 3} & set(range(n + 1)))


def check_mask(m, w):
    assert m.dtype == torch.bool and m.shape == w.shape and m.device == w.device
    assert m.is_contiguous() and not m.requires_grad


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_topk_matches_reference(device, kind, shape):
    for i, dtype in enumerate(DTYPES[device]):
        w = make_weight(kind, shape, dtype, device, seed=11 + i)
        for keep in keeps(w.numel()):
            m = ops.magnitude_mask(w, keep)
            check_mask(m, w)
            assert int(m.sum()) == keep
            assert torch.equal(m.cpu(), reference_topk(w, keep)), (dtype, keep)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_threshold_matches_reference(device, kind, shape):
    for i, dtype in enumerate(DTYPES[device]):
        w = make_weight(kind, shape, dtype, device, seed=23 + i)
        picks = [abs(float(w.reshape(-1)[w.numel() // 2]))] if w.numel() else []
        for t in [0.0, 0.05, 0.25, 3.0, float("inf")] + picks:
            m = ops.threshold_mask(w, t)
            check_mask(m, w)
            assert torch.equal(m.cpu(), reference_threshold(w, t)), (dtype, t)


def test_non_contiguous_weights_use_flat_row_major_indices(device):
    base = make_weight("integers", (40, 30), torch.float32, device, seed=5)
    for w in (base.t(), base[::2, 1::3], base.unsqueeze(0).expand(3, 40, 30),
              base.to(memory_format=torch.contiguous_format).view(10, 4, 30).permute(2, 0, 1)):
        assert not w.is_contiguous()
        for keep in keeps(w.numel()):
            assert torch.equal(ops.magnitude_mask(w, keep).cpu(), reference_topk(w, keep))
        assert torch.equal(ops.threshold_mask(w, 2.0).cpu(), reference_threshold(w, 2.0))


@pytest.mark.parametrize("kind", ["normal", "integers", "equal"])
def test_same_mask_on_one_and_two_threads(kind):
    w = make_weight(kind, (1200, 300), torch.float32, "cpu", seed=3)  # parallel path
    before = torch.get_num_threads()
    try:
        masks = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            masks.append([ops.magnitude_mask(w, k) for k in (1, w.numel() // 3, w.numel() - 1)])
    finally:
        torch.set_num_threads(before)
    for a, b, k in zip(*masks, (1, w.numel() // 3, w.numel() - 1)):
        assert torch.equal(a, b)
        assert torch.equal(a, reference_topk(w, k))


def test_opcheck(device):
    w = make_weight("integers", (8, 5, 3), torch.float32, device, seed=1)
    torch.library.opcheck(torch.ops.dsdkern.magnitude_mask.default, (w, 50))
    torch.library.opcheck(torch.ops.dsdkern.threshold_mask.default, (w, 2.0))
    wg = w.clone().requires_grad_()
    torch.library.opcheck(torch.ops.dsdkern.magnitude_mask.default, (wg, 7))


def test_compile_fullgraph(device):
    w = make_weight("normal", (16, 9), torch.float32, device, seed=2)

    @torch.compile(fullgraph=True)
    def prune(x):
        return x * ops.magnitude_mask(x, 40), ops.threshold_mask(x, 0.05)

    pruned, kept = prune(w)
    assert torch.equal(pruned, w * reference_topk(w, 40).to(device))
    assert torch.equal(kept.cpu(), reference_threshold(w, 0.05))


def nan_weight(d):
    w = torch.ones(4, 5, device=d)
    w[2, 3] = float("nan")
    return w


BAD = [
    ("keep_negative", lambda d: (ops.magnitude_mask, torch.ones(3, 4, device=d), -1),
     r"keep must be in \[0, weight.numel\(\) = 12\], got -1", True),
    ("keep_too_large", lambda d: (ops.magnitude_mask, torch.ones(3, 4, device=d), 13),
     r"keep must be in \[0, weight.numel\(\) = 12\], got 13", True),
    ("threshold_negative", lambda d: (ops.threshold_mask, torch.ones(3, device=d), -0.1),
     "threshold must be >= 0, got -0.1", True),
    ("threshold_nan", lambda d: (ops.threshold_mask, torch.ones(3, device=d), float("nan")),
     "threshold must be >= 0, got nan", True),
    ("int_weight", lambda d: (ops.magnitude_mask, torch.ones(3, dtype=torch.int64, device=d), 1),
     "weight dtype torch.int64 is not supported", True),
    ("bool_weight", lambda d: (ops.threshold_mask, torch.ones(3, dtype=torch.bool, device=d), 0.5),
     "weight dtype torch.bool is not supported", True),
    # NaN is a property of the values, which only the real kernels see.
    ("nan_topk", lambda d: (ops.magnitude_mask, nan_weight(d), 3), r"w\[13\] is NaN", False),
    ("nan_threshold", lambda d: (ops.threshold_mask, nan_weight(d), 0.5), r"w\[13\] is NaN",
     False),
]


@pytest.mark.parametrize("mode", ["eager", "fake"])
@pytest.mark.parametrize("name,build,match,in_fake", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_argument(device, mode, name, build, match, in_fake):
    fn, w, arg = build(device)
    if mode == "fake":
        if not in_fake:
            pytest.skip("a value check; fake tensors have no values")
        with FakeTensorMode() as fake:
            w = fake.from_tensor(w)
            with pytest.raises(RuntimeError, match=match):
                fn(w, arg)
    else:
        with pytest.raises(RuntimeError, match=match):
            fn(w, arg)


@pytest.mark.parametrize("mode", ["eager", "fake"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cpu_rejects_16_bit_floats(mode, dtype):
    w = torch.ones(5, dtype=dtype)
    match = rf"weight dtype {dtype} is not supported on CPU"
    if mode == "fake":
        with FakeTensorMode() as fake:
            w = fake.from_tensor(w)
            with pytest.raises(RuntimeError, match=match):
                ops.magnitude_mask(w, 1)
    else:
        with pytest.raises(RuntimeError, match=match):
            ops.magnitude_mask(w, 1)
        with pytest.raises(RuntimeError, match=match):
            ops.threshold_mask(w, 0.5)
