"""torch.ops.dsdkern.masked_conv against F.conv2d(x, w * m, b) as the oracle: forward and
backward over a sampled grid of geometries, memory layouts, gradcheck, opcheck,
torch.compile, bad inputs (eager and under fake tensors), CUDA-only dtypes and streams."""
import itertools
import random
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode

import dsdkern
from op_helpers import FORCED, TOL, make_mask, needs_cuda

OP = torch.ops.dsdkern.masked_conv.default
BWD = torch.ops.dsdkern.masked_conv_backward.default


# ---------------------------------------------------------------- the sampled grid

@dataclass(frozen=True)
class Case:
    n: int
    c: int
    h: int
    w: int
    k: int
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    sparsity: float
    bias: bool
    dtype: torch.dtype
    mask_dtype: torch.dtype

    @property
    def id(self):
        return (f"n{self.n}c{self.c}k{self.k}_{self.h}x{self.w}_f{self.kernel[0]}x{self.kernel[1]}"
                f"_s{self.stride[0]}{self.stride[1]}p{self.padding[0]}{self.padding[1]}"
                f"d{self.dilation[0]}{self.dilation[1]}g{self.groups}_sp{self.sparsity}"
                f"_{'b' if self.bias else 'nob'}_{str(self.dtype)[6:]}_{str(self.mask_dtype)[6:]}")


KERNELS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (1, 3), (3, 1), (2, 5)]
GROUPINGS = ["dense", "groups2", "depthwise"]
DTYPES = [torch.float32, torch.float64]
STRIDES, PADDINGS, DILATIONS = (1, 2, 3), (0, 1, 2), (1, 2)
BATCHES, SPARSITIES = (0, 1, 3), (0.0, 0.5, 0.9, 1.0)


def build_grid():
    """Every kernel x grouping x dtype; the other axes drawn per case from a seeded RNG
    (test_grid_covers_every_value checks that each of their values occurs)."""
    rng = random.Random(1234)
    cases = []
    for kernel, grouping, dtype in itertools.product(KERNELS, GROUPINGS, DTYPES):
        stride = (rng.choice(STRIDES), rng.choice(STRIDES))
        padding = (rng.choice(PADDINGS), rng.choice(PADDINGS))
        dilation = (rng.choice(DILATIONS), rng.choice(DILATIONS))
        if grouping == "dense":
            groups, c, k = 1, rng.randint(1, 5), rng.randint(1, 6)
        elif grouping == "groups2":
            groups, c, k = 2, 2 * rng.randint(1, 3), 2 * rng.randint(1, 2)
        else:
            groups = c = rng.randint(2, 4)
            k = c * rng.randint(1, 2)
        # smallest input with a non-empty output, plus a few rows/columns
        h, w = (max(1, dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i]) + rng.randint(0, 5)
                for i in range(2))
        cases.append(Case(rng.choice(BATCHES), c, h, w, k, kernel, stride, padding, dilation,
                          groups, rng.choice(SPARSITIES), rng.random() < 0.5, dtype,
                          rng.choice([torch.bool, torch.uint8])))
    return cases


GRID = build_grid()


def test_grid_covers_every_value():
    def values(f):
        return {v for case in GRID for v in f(case)}
    assert values(lambda c: c.stride) == set(STRIDES)
    assert values(lambda c: c.padding) == set(PADDINGS)
    assert any(c.padding[0] != c.padding[1] for c in GRID)
    assert values(lambda c: c.dilation) == set(DILATIONS)
    assert values(lambda c: [c.n]) == set(BATCHES)
    assert values(lambda c: [c.sparsity]) == set(SPARSITIES)
    assert values(lambda c: [c.bias]) == {True, False}
    assert values(lambda c: [c.mask_dtype]) == {torch.bool, torch.uint8}


def tensors_for(case, device):
    gen = torch.Generator().manual_seed(hash(case.id) % 2**31)
    x = torch.randn(case.n, case.c, case.h, case.w, generator=gen, dtype=case.dtype)
    w = torch.randn(case.k, case.c // case.groups, *case.kernel, generator=gen, dtype=case.dtype)
    m = make_mask(w.shape, case.sparsity, gen, case.mask_dtype)
    b = torch.randn(case.k, generator=gen, dtype=case.dtype) if case.bias else None
    to = (lambda t: None if t is None else t.to(device))
    return to(x), to(w), to(m), to(b)


def check_against_conv2d(x, w, m, b, stride, padding, dilation, groups, grad_output=None,
                         tol=None):
    """Runs ours and the oracle forward and backward and compares outputs and all grads."""
    tol = tol or TOL[x.dtype]
    leaves = [t.detach().clone().requires_grad_() if t is not None else None for t in (x, w, b)]
    ref_leaves = [t.detach().clone().requires_grad_() if t is not None else None for t in (x, w, b)]
    y = dsdkern.masked_conv(leaves[0], leaves[1], m, leaves[2], stride, padding, dilation, groups)
    xr, wr, br = ref_leaves
    yr = F.conv2d(xr, wr * m.to(wr.dtype), br, stride, padding, dilation, groups)
    torch.testing.assert_close(y, yr, **tol)
    g = torch.randn_like(yr) if grad_output is None else grad_output
    wanted = [t for t in leaves if t is not None]
    grads = torch.autograd.grad(y, wanted, g)
    ref = torch.autograd.grad(yr, [t for t in ref_leaves if t is not None], g)
    for name, got, exp in zip(["input", "weight", "bias"], grads, ref):
        torch.testing.assert_close(got, exp, **tol, msg=lambda s: f"grad of {name}: {s}")
    return y, grads


@FORCED
@pytest.mark.parametrize("case", GRID, ids=[c.id for c in GRID])
def test_grid_forward_backward(case, device):
    x, w, m, b = tensors_for(case, device)
    y, grads = check_against_conv2d(x, w, m, b, case.stride, case.padding, case.dilation,
                                    case.groups)
    # the weight gradient is masked: pruned weights never move
    assert torch.all(grads[1][~m.bool()] == 0)


# ---------------------------------------------------------------- layouts

def layout_inputs(device, dtype=torch.float32):
    gen = torch.Generator().manual_seed(7)
    w = torch.randn(6, 2, 3, 2, generator=gen, dtype=dtype).to(device)
    m = make_mask(w.shape, 0.5, gen).to(device)
    b = torch.randn(6, generator=gen, dtype=dtype).to(device)
    return gen, w, m, b


@FORCED
def test_sliced_input(device):
    gen, w, m, b = layout_inputs(device)
    big = torch.randn(3, 8, 12, 15, generator=gen).to(device)
    x = big[:, ::2, 1:10, ::2]
    assert not x.is_contiguous()
    check_against_conv2d(x, w, m, b, (2, 1), (1, 0), (1, 2), 2)


@FORCED
def test_transposed_input(device):
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(2, 4, 11, 9, generator=gen).to(device).transpose(2, 3)
    assert not x.is_contiguous()
    check_against_conv2d(x, w, m, b, (1, 2), (1, 1), (1, 1), 2)


@FORCED
@pytest.mark.parametrize("batch", [0, 1, 3])
def test_channels_last_in_channels_last_out(device, batch):
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(batch, 4, 9, 8, generator=gen).to(device).to(memory_format=torch.channels_last)
    y, grads = check_against_conv2d(x, w, m, b, (1, 1), (1, 1), (1, 1), 2)
    if batch > 1:
        assert y.is_contiguous(memory_format=torch.channels_last)
        assert grads[0].is_contiguous(memory_format=torch.channels_last)


@FORCED
def test_non_contiguous_weight_mask_and_grad_output(device):
    gen, _, _, b = layout_inputs(device)
    w = torch.randn(2, 6, 2, 3, generator=gen).to(device).permute(1, 0, 3, 2)  # [6, 2, 3, 2]
    m = make_mask((6, 2, 2, 3), 0.5, gen).to(device).permute(0, 1, 3, 2)
    x = torch.randn(2, 4, 9, 8, generator=gen).to(device)
    g = torch.randn(2, 6, 9, 14, generator=gen).to(device)[..., ::2]  # [2, 6, 9, 7]
    assert not (w.is_contiguous() or m.is_contiguous() or g.is_contiguous())
    check_against_conv2d(x, w, m, b, (1, 1), (1, 0), (1, 1), 2, grad_output=g)


@FORCED
def test_expanded_grad_output(device):
    """y.sum() backpropagates a grad_output with all strides 0."""
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(2, 4, 7, 7, generator=gen).to(device)
    g = torch.ones(1, 1, 1, 1, device=device).expand(2, 6, 7, 6)
    check_against_conv2d(x, w, m, b, (1, 1), (1, 0), (1, 1), 2, grad_output=g)


def test_python_wrapper_accepts_ints_and_pairs(device):
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(2, 4, 7, 7, generator=gen).to(device)
    torch.testing.assert_close(dsdkern.masked_conv(x, w, m, b, 2, 1, 1, 2),
                               OP(x, w, m, b, [2, 2], [1, 1], [1, 1], 2))


@FORCED
def test_backward_output_mask_returns_none_for_skipped_grads(device):
    gen, w, m, _ = layout_inputs(device)
    x = torch.randn(2, 4, 7, 7, generator=gen).to(device)
    g = torch.randn(2, 6, 5, 6, generator=gen).to(device)
    gi, gw, gb = BWD(g, x, w, m, [1, 1], [0, 0], [1, 1], 2, [False, True, False])
    assert gi is None and gb is None and gw.shape == w.shape


# ---------------------------------------------------------------- autograd / op checks

def gradcheck_inputs(device):
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 4, 6, 5, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    w = torch.randn(4, 2, 3, 2, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    m = make_mask(w.shape, 0.5, gen).to(device)
    b = torch.randn(4, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    return x, w, m, b


@FORCED
def test_gradcheck(device):
    x, w, m, b = gradcheck_inputs(device)
    assert torch.autograd.gradcheck(
        lambda x, w, b: dsdkern.masked_conv(x, w, m, b, (2, 1), (1, 0), (1, 2), 2), (x, w, b))


def test_double_backward_is_refused(device):
    x, w, m, b = gradcheck_inputs(device)
    y = dsdkern.masked_conv(x, w, m, b, 1, 1, 1, 2)
    (gx,) = torch.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="double backward"):
        gx.sum().backward()


def opcheck_samples(device):
    x, w, m, b = gradcheck_inputs(device)
    xf, wf, bf = (t.detach().float() for t in (x, w, b))
    return [
        (x, w, m, b, [2, 1], [1, 0], [1, 2], 2),
        (xf, wf, m.to(torch.uint8), None, [1, 1], [1, 1], [1, 1], 2),
        (xf.to(memory_format=torch.channels_last).requires_grad_(), wf.requires_grad_(), m, bf,
         [1, 2], [2, 1], [1, 1], 2),
        (x[:0].detach(), w.detach(), m, b.detach(), [1, 1], [0, 0], [1, 1], 2),
    ]


@FORCED
@pytest.mark.parametrize("sample", range(4))
def test_opcheck_forward(device, sample):
    torch.library.opcheck(OP, opcheck_samples(device)[sample])


@FORCED
@pytest.mark.parametrize("output_mask", [[True, True, True], [False, True, False],
                                         [True, False, True]])
def test_opcheck_backward(device, output_mask):
    x, w, m, _ = (t.detach() for t in gradcheck_inputs(device))
    g = torch.randn(2, 4, 3, 3, dtype=torch.float64, device=device)
    torch.library.opcheck(BWD, (g, x, w, m, [2, 1], [1, 0], [1, 2], 2, output_mask))


class TwoMaskedConvs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(11)
        self.w1 = torch.nn.Parameter(torch.randn(8, 3, 3, 3, generator=gen) * 0.3)
        self.b1 = torch.nn.Parameter(torch.randn(8, generator=gen))
        self.w2 = torch.nn.Parameter(torch.randn(8, 4, 3, 3, generator=gen) * 0.3)
        self.register_buffer("m1", make_mask(self.w1.shape, 0.5, gen))
        self.register_buffer("m2", make_mask(self.w2.shape, 0.9, gen, torch.uint8))

    def forward(self, x):
        y = torch.relu(dsdkern.masked_conv(x, self.w1, self.m1, self.b1, 1, 1))
        return dsdkern.masked_conv(y, self.w2, self.m2, None, 2, 1, 1, 2)


@FORCED
@pytest.mark.parametrize("backend,dynamic", [("aot_eager", False), ("inductor", False),
                                             ("aot_eager", True)])
def test_torch_compile_fullgraph(device, backend, dynamic):
    model = TwoMaskedConvs().to(device)
    compiled = torch.compile(model, fullgraph=True, backend=backend, dynamic=dynamic)
    for shape in [(2, 3, 10, 9), (3, 3, 12, 13)] if dynamic else [(2, 3, 10, 9)]:
        x = torch.randn(*shape, device=device)
        eager_out = model(x)
        eager_grads = torch.autograd.grad(eager_out.square().sum(), list(model.parameters()))
        out = compiled(x)
        grads = torch.autograd.grad(out.square().sum(), list(model.parameters()))
        torch.testing.assert_close(out, eager_out)
        for got, exp in zip(grads, eager_grads):
            torch.testing.assert_close(got, exp)


# ---------------------------------------------------------------- bad inputs

def good_args(device, dtype=torch.float32):
    x = torch.randn(2, 4, 8, 8, dtype=dtype, device=device)
    w = torch.randn(6, 2, 3, 3, dtype=dtype, device=device)
    m = torch.ones(6, 2, 3, 3, dtype=torch.bool, device=device)
    b = torch.randn(6, dtype=dtype, device=device)
    return dict(input=x, weight=w, mask=m, bias=b, stride=[1, 1], padding=[1, 1],
                dilation=[1, 1], groups=2)


def with_(device, **changes):
    args = good_args(device)
    for key, value in changes.items():
        args[key] = value(args) if callable(value) else value
    return args


# (id, builder(device) -> kwargs of the op, regex the message must match, cuda only)
BAD = [
    ("mask_shape", lambda d: with_(d, mask=torch.ones(6, 2, 3, 2, dtype=torch.bool, device=d)),
     "mask shape", False),
    ("mask_dtype", lambda d: with_(d, mask=lambda a: a["mask"].float()), "mask must be bool", False),
    ("weight_dtype", lambda d: with_(d, weight=lambda a: a["weight"].double()), "weight dtype",
     False),
    ("bias_dtype", lambda d: with_(d, bias=lambda a: a["bias"].double()), "bias dtype", False),
    ("bias_shape", lambda d: with_(d, bias=torch.zeros(7, device=d)), "bias must be", False),
    ("input_channels_vs_groups", lambda d: with_(d, groups=3, weight=torch.randn(6, 1, 3, 3, device=d),
                                                 mask=torch.ones(6, 1, 3, 3, dtype=torch.bool, device=d)),
     r"input channels \(4\) must be divisible by groups", False),
    ("weight_out_channels_vs_groups", lambda d: with_(d, weight=torch.randn(5, 2, 3, 3, device=d),
                                                      mask=torch.ones(5, 2, 3, 3, dtype=torch.bool, device=d),
                                                      bias=torch.zeros(5, device=d)),
     r"weight out_channels \(5\) must be divisible by groups", False),
    ("weight_in_channels", lambda d: with_(d, weight=torch.randn(6, 3, 3, 3, device=d),
                                           mask=torch.ones(6, 3, 3, 3, dtype=torch.bool, device=d)),
     "weight in_channels per group", False),
    ("groups_zero", lambda d: with_(d, groups=0), "groups must be positive", False),
    ("stride_zero", lambda d: with_(d, stride=[0, 1]), "stride must be positive", False),
    ("stride_negative", lambda d: with_(d, stride=[1, -2]), "stride must be positive", False),
    ("stride_three", lambda d: with_(d, stride=[1, 1, 1]), "stride must have 2 elements", False),
    ("dilation_zero", lambda d: with_(d, dilation=[1, 0]), "dilation must be positive", False),
    ("padding_negative", lambda d: with_(d, padding=[-1, 0]), "padding must be non-negative",
     False),
    ("input_3d", lambda d: with_(d, input=lambda a: a["input"][0]), "input must be a 4-D", False),
    ("weight_3d", lambda d: with_(d, weight=lambda a: a["weight"][0]), "weight must be a 4-D",
     False),
    ("input_zero_channels", lambda d: with_(d, input=torch.randn(2, 0, 8, 8, device=d)),
     "input must have non-zero", False),
    ("empty_output", lambda d: with_(d, input=torch.randn(2, 4, 2, 2, device=d), padding=[0, 0]),
     "output size", False),
    # (1 - 3) // 3 + 1 = 0 rows; C's truncating division would make it 1
    ("empty_output_strided", lambda d: with_(d, input=torch.randn(2, 4, 1, 8, device=d),
                                             padding=[0, 1], stride=[3, 1]),
     "output size", False),
    ("unsupported_int32", lambda d: with_(d, input=lambda a: a["input"].int(),
                                          weight=lambda a: a["weight"].int(),
                                          bias=lambda a: a["bias"].int()),
     r"input dtype torch.int32 is not supported", False),
    ("weight_on_other_device", lambda d: with_(d, weight=lambda a: a["weight"].cpu()),
     "weight is on cpu", True),
    ("mask_on_other_device", lambda d: with_(d, mask=lambda a: a["mask"].cpu()),
     "mask is on cpu", True),
    ("bias_on_other_device", lambda d: with_(d, bias=lambda a: a["bias"].cpu()),
     "bias is on cpu", True),
]


@pytest.mark.parametrize("mode", ["eager", "fake"])
@pytest.mark.parametrize("name,build,match,cuda_only", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_argument(device, mode, name, build, match, cuda_only):
    if cuda_only and device != "cuda":
        pytest.skip("needs two devices")
    if cuda_only and mode == "fake":
        pytest.skip("FakeTensor rejects mixed devices itself, before the fake kernel runs")
    args = build(device)
    if mode == "fake":
        with FakeTensorMode() as fake:
            args = {k: fake.from_tensor(v) if isinstance(v, torch.Tensor) else v
                    for k, v in args.items()}
            with pytest.raises(RuntimeError, match=match):
                OP(**args)
    else:
        with pytest.raises(RuntimeError, match=match):
            OP(**args)


@pytest.mark.parametrize("name", ["weight", "mask", "bias"])
def test_device_mismatch_without_a_gpu(name):
    """A meta tensor among CPU ones routes the call to the Meta (fake) kernel, whose
    device check must name the argument like the C++ one does on CUDA."""
    args = with_("cpu", **{name: lambda a: a[name].to("meta")})
    with pytest.raises(RuntimeError, match=f"{name} is on meta but input is on cpu"):
        OP(**args)


@pytest.mark.parametrize("mode", ["eager", "fake"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cpu_rejects_16_bit_floats(mode, dtype):
    args = with_("cpu", input=lambda a: a["input"].to(dtype), weight=lambda a: a["weight"].to(dtype),
                 bias=lambda a: a["bias"].to(dtype))
    match = rf"input dtype {dtype} is not supported on CPU"
    if mode == "fake":
        with FakeTensorMode() as fake:
            args = {k: fake.from_tensor(v) if isinstance(v, torch.Tensor) else v
                    for k, v in args.items()}
            with pytest.raises(RuntimeError, match=match):
                OP(**args)
    else:
        with pytest.raises(RuntimeError, match=match):
            OP(**args)


@pytest.mark.parametrize("change,match", [
    (lambda g: g[:, :, :-1], "grad_output shape"),
    (lambda g: g.double(), "grad_output dtype"),
])
def test_backward_bad_grad_output(device, change, match):
    a = good_args(device)
    g = change(torch.randn(2, 6, 8, 8, device=device))
    with pytest.raises(RuntimeError, match=match):
        BWD(g, a["input"], a["weight"], a["mask"], a["stride"], a["padding"], a["dilation"],
            a["groups"], [True, True, True])


@pytest.mark.parametrize("kw", [dict(stride=(1, 2, 3)), dict(padding="same"),
                                dict(dilation=[1.0, 1.0])])
def test_python_wrapper_rejects_bad_pairs(kw):
    a = good_args("cpu")
    name = next(iter(kw))
    with pytest.raises(ValueError, match=name):
        dsdkern.masked_conv(a["input"], a["weight"], a["mask"], a["bias"], **kw)


# ---------------------------------------------------------------- CUDA only

@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cuda_half_precision_against_float32(dtype):
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(3, 8, 12, 11, generator=gen)
    w = torch.randn(8, 4, 3, 3, generator=gen) * 0.2
    m = make_mask(w.shape, 0.5, gen)
    b = torch.randn(8, generator=gen)
    g = torch.randn(3, 8, 6, 11, generator=gen)
    geo = ((2, 1), (1, 1), (1, 1), 2)
    lo = [t.to("cuda", dtype).requires_grad_() for t in (x, w, b)]
    y = dsdkern.masked_conv(lo[0], lo[1], m.cuda(), lo[2], *geo)
    assert y.dtype == dtype
    grads = torch.autograd.grad(y, lo, g.to("cuda", dtype))
    ref = [t.to("cuda").requires_grad_() for t in (x, w, b)]
    yr = F.conv2d(ref[0], ref[1] * m.cuda(), ref[2], *geo)
    ref_grads = torch.autograd.grad(yr, ref, g.cuda())
    tol = dict(rtol=2e-2, atol=5e-2) if dtype == torch.float16 else dict(rtol=5e-2, atol=2e-1)
    torch.testing.assert_close(y.float(), yr, **tol)
    for got, exp in zip(grads, ref_grads):
        torch.testing.assert_close(got.float(), exp, **tol)


@needs_cuda
def test_cuda_runs_on_the_current_stream():
    """Inputs produced late on a side stream: a launch on any other stream would read them
    before they are written."""
    gen = torch.Generator().manual_seed(9)
    x_src = torch.randn(4, 16, 32, 32, generator=gen).cuda()
    w = torch.randn(16, 16, 3, 3, generator=gen).cuda()
    m = make_mask(w.shape, 0.5, gen).cuda()
    expected = F.conv2d(x_src, w * m, None, 1, 1)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        x = torch.zeros_like(x_src)
        torch.cuda._sleep(50_000_000)
        x.copy_(x_src)
        y = dsdkern.masked_conv(x, w, m, None, 1, 1)
    torch.cuda.current_stream().wait_stream(side)
    torch.testing.assert_close(y, expected, **TOL[torch.float32])


@needs_cuda
def test_cuda_device_guard_on_second_gpu():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    gen, w, m, b = layout_inputs("cuda:1")
    x = torch.randn(2, 4, 7, 7, generator=gen).to("cuda:1")
    check_against_conv2d(x, w, m, b, (1, 1), (1, 1), (1, 1), 2)
