"""torch.ops.dsdkern.masked_linear against F.linear(x, w * m, b) as the oracle: forward and
backward over a grid of batch shapes, sparsities, dtypes and memory layouts, gradcheck,
opcheck, torch.compile, the backward op called directly, bad inputs (eager and under fake
tensors), CUDA-only dtypes and streams."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode

import dsdkern
from op_helpers import FORCED, TOL, make_mask, needs_cuda

OP = torch.ops.dsdkern.masked_linear.default
BWD = torch.ops.dsdkern.masked_linear_backward.default


def check_against_linear(x, w, m, b, tol=None):
    """Forward and all three gradients of masked_linear against F.linear(x, w * m, b)."""
    tol = tol or TOL[x.dtype]
    leaves = [t.detach().clone().requires_grad_() for t in (x, w) + ((b,) if b is not None else ())]
    ref_leaves = [t.detach().clone().requires_grad_() for t in leaves]
    y = dsdkern.masked_linear(leaves[0], leaves[1], m, leaves[2] if b is not None else None)
    mf = m.to(w.dtype)
    yr = F.linear(ref_leaves[0], ref_leaves[1] * mf, ref_leaves[2] if b is not None else None)
    assert y.shape == yr.shape
    torch.testing.assert_close(y, yr, **tol)
    g = torch.randn(yr.shape, dtype=yr.dtype, device=yr.device,
                    generator=torch.Generator(yr.device).manual_seed(3))
    grads = torch.autograd.grad(y, leaves, g)
    ref_grads = torch.autograd.grad(yr, ref_leaves, g)
    for got, exp in zip(grads, ref_grads):
        torch.testing.assert_close(got, exp, **tol)
    # The weight gradient is masked: exactly zero where the mask is.
    assert bool((grads[1][~m.bool()] == 0).all())


# ---------------------------------------------------------------- the grid

LEADS = [(), (0,), (1,), (7,), (3, 5), (2, 0, 4)]  # input [*lead, in]: 1-D, 2-D, 3-D, 4-D
SPARSITIES = (0.0, 0.5, 0.9, 1.0)
DTYPES = (torch.float32, torch.float64)
FEATURES = [(5, 3), (33, 17), (70, 129)]  # (in, out): odd, past a register block, past kc/2


GRID = [(i,) + c + (i % 2 == 0,)
        for i, c in enumerate(itertools.product(LEADS, SPARSITIES, DTYPES, FEATURES))]


@FORCED
@pytest.mark.parametrize("seed,lead,sparsity,dtype,features,bias", GRID,
                         ids=[f"{c[1]}_sp{c[2]}_{str(c[3])[6:]}_{c[4][0]}to{c[4][1]}_b{int(c[5])}"
                              .replace(" ", "") for c in GRID])
def test_grid_forward_backward(device, seed, lead, sparsity, dtype, features, bias):
    in_f, out_f = features
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(*lead, in_f, generator=gen, dtype=dtype).to(device)
    w = torch.randn(out_f, in_f, generator=gen, dtype=dtype).to(device)
    m = make_mask(w.shape, sparsity, gen, torch.uint8 if out_f == 17 else torch.bool).to(device)
    b = torch.randn(out_f, generator=gen, dtype=dtype).to(device) if bias else None
    check_against_linear(x, w, m, b)


def layout_inputs(device, dtype=torch.float64):
    gen = torch.Generator().manual_seed(21)
    w = torch.randn(9, 13, generator=gen, dtype=dtype).to(device)
    m = make_mask(w.shape, 0.5, gen).to(device)
    b = torch.randn(9, generator=gen, dtype=dtype).to(device)
    return gen, w, m, b


# Non-contiguous inputs: transposed (unit row stride), sliced (padded leading dimension),
# strided in both dimensions (copied), and expanded (stride 0).
INPUT_LAYOUTS = {
    "transposed": lambda x: x.transpose(0, 1).contiguous().transpose(0, 1),
    "sliced": lambda x: torch.cat([x, x[:, :4]], 1)[:, :13],
    "every_other_column": lambda x: torch.stack([x, x], -1).flatten(1)[:, ::2],
    "expanded": lambda x: x[:1].expand(x.shape[0], -1),
    "batch_transposed_3d": lambda x: x.view(2, 3, 13).transpose(0, 1),
}
WEIGHT_LAYOUTS = {
    "contiguous": lambda w: w,
    "transposed": lambda w: w.t().contiguous().t(),
    "sliced": lambda w: torch.cat([w, w[:, :3]], 1)[:, :13],
    "strided_rows": lambda w: torch.stack([w, w], 1).flatten(0, 1)[::2],
    "every_other_column": lambda w: torch.stack([w, w], -1).flatten(1)[:, ::2],
}


@FORCED
@pytest.mark.parametrize("input_layout", list(INPUT_LAYOUTS))
@pytest.mark.parametrize("weight_layout", list(WEIGHT_LAYOUTS))
def test_non_contiguous_input_and_weight(device, input_layout, weight_layout):
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(6, 13, generator=gen, dtype=torch.float64).to(device)
    xv, wv = INPUT_LAYOUTS[input_layout](x), WEIGHT_LAYOUTS[weight_layout](w)
    assert torch.equal(wv, w)
    if input_layout not in ("expanded", "batch_transposed_3d"):
        assert torch.equal(xv, x)
    check_against_linear(xv, wv, m, b)


@FORCED
def test_non_contiguous_mask_and_grad_output(device):
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(5, 13, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    mt = m.t().contiguous().t()
    g = torch.randn(9, 5, generator=gen, dtype=torch.float64).to(device).t()
    y = dsdkern.masked_linear(x, w, mt, b)
    torch.testing.assert_close(y, F.linear(x, w * m, b), **TOL[torch.float64])
    gi, gw, gb = BWD(g, x.detach(), w, mt, [True, True, True])
    torch.testing.assert_close(gi, g @ (w * m), **TOL[torch.float64])
    torch.testing.assert_close(gw, (g.t() @ x.detach()) * m, **TOL[torch.float64])
    torch.testing.assert_close(gb, g.sum(0), **TOL[torch.float64])


@FORCED
def test_expanded_grad_output(device):
    """sum().backward() hands the op a grad_output of stride 0."""
    gen, w, m, b = layout_inputs(device)
    x = torch.randn(4, 13, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    dsdkern.masked_linear(x, w, m, b).sum().backward()
    xr = x.detach().clone().requires_grad_()
    F.linear(xr, w * m, b).sum().backward()
    torch.testing.assert_close(x.grad, xr.grad, **TOL[torch.float64])


@FORCED
def test_zero_in_features(device):
    """linear with in_features = 0 is the bias broadcast (F.linear agrees)."""
    x = torch.randn(3, 0, dtype=torch.float64, device=device)
    w = torch.randn(4, 0, dtype=torch.float64, device=device)
    b = torch.randn(4, dtype=torch.float64, device=device)
    m = torch.ones(4, 0, dtype=torch.bool, device=device)
    torch.testing.assert_close(dsdkern.masked_linear(x, w, m, b), F.linear(x, w, b))


# ---------------------------------------------------------------- the backward op

def gradcheck_inputs(device):
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(2, 3, 6, dtype=torch.float64, generator=gen).to(device).requires_grad_()
    w = torch.randn(5, 6, dtype=torch.float64, generator=gen).to(device).requires_grad_()
    m = make_mask(w.shape, 0.5, gen).to(device)
    b = torch.randn(5, dtype=torch.float64, generator=gen).to(device).requires_grad_()
    return x, w, m, b


@FORCED
def test_gradcheck(device):
    x, w, m, b = gradcheck_inputs(device)
    assert torch.autograd.gradcheck(lambda x, w, b: dsdkern.masked_linear(x, w, m, b), (x, w, b))


@FORCED
def test_gradcheck_one_dimensional_input(device):
    x, w, m, b = gradcheck_inputs(device)
    x1 = x.detach()[0, 0].clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: dsdkern.masked_linear(x, w, m), (x1, w))


@FORCED
@pytest.mark.parametrize("output_mask", list(itertools.product([False, True], repeat=3)))
def test_backward_op_directly(device, output_mask):
    x, w, m, _ = (t.detach() for t in gradcheck_inputs(device))
    g = torch.randn(2, 3, 5, dtype=torch.float64, device=device)
    got = BWD(g, x, w, m, list(output_mask))
    wm = w * m
    want = (g @ wm, (g.reshape(-1, 5).t() @ x.reshape(-1, 6)) * m, g.sum((0, 1)))
    for need, gv, wv in zip(output_mask, got, want):
        if need:
            torch.testing.assert_close(gv, wv, **TOL[torch.float64])
        else:
            assert gv is None


@FORCED
def test_autograd_with_only_the_weight_needing_a_gradient(device):
    x, w, m, _ = gradcheck_inputs(device)
    x = x.detach()
    (gw,) = torch.autograd.grad(dsdkern.masked_linear(x, w, m, None).sum(), [w])
    torch.testing.assert_close(gw, x.reshape(-1, 6).sum(0).expand(5, 6) * m, **TOL[torch.float64])


def test_double_backward_is_refused(device):
    x, w, m, b = gradcheck_inputs(device)
    y = dsdkern.masked_linear(x, w, m, b)
    (gx,) = torch.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="double backward"):
        gx.sum().backward()


def opcheck_samples(device):
    x, w, m, b = gradcheck_inputs(device)
    xf, wf, bf = (t.detach().float() for t in (x, w, b))
    return [
        (x, w, m, b),
        (xf, wf, m.to(torch.uint8), None),
        (xf[0, 0].requires_grad_(), wf.t().contiguous().t().requires_grad_(), m, bf),
        (x[:0].detach(), w.detach(), m, b.detach()),
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
    g = torch.randn(2, 3, 5, dtype=torch.float64, device=device)
    torch.library.opcheck(BWD, (g, x, w, m, output_mask))


class MaskedMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(11)
        self.w1 = torch.nn.Parameter(torch.randn(30, 20, generator=gen) * 0.3)
        self.b1 = torch.nn.Parameter(torch.randn(30, generator=gen))
        self.w2 = torch.nn.Parameter(torch.randn(10, 30, generator=gen) * 0.3)
        self.register_buffer("m1", make_mask(self.w1.shape, 0.5, gen))
        self.register_buffer("m2", make_mask(self.w2.shape, 0.9, gen, torch.uint8))

    def forward(self, x):
        y = torch.relu(dsdkern.masked_linear(x, self.w1, self.m1, self.b1))
        return dsdkern.masked_linear(y, self.w2, self.m2)


@FORCED
@pytest.mark.parametrize("backend,dynamic", [("aot_eager", False), ("inductor", False),
                                             ("aot_eager", True)])
def test_torch_compile_fullgraph(device, backend, dynamic):
    model = MaskedMLP().to(device)
    compiled = torch.compile(model, fullgraph=True, backend=backend, dynamic=dynamic)
    for shape in [(4, 20), (3, 7, 20)] if dynamic else [(4, 20)]:
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
    x = torch.randn(3, 8, dtype=dtype, device=device)
    w = torch.randn(6, 8, dtype=dtype, device=device)
    m = torch.ones(6, 8, dtype=torch.bool, device=device)
    b = torch.randn(6, dtype=dtype, device=device)
    return dict(input=x, weight=w, mask=m, bias=b)


def with_(device, **changes):
    args = good_args(device)
    for key, value in changes.items():
        args[key] = value(args) if callable(value) else value
    return args


# (id, builder(device) -> kwargs of the op, regex the message must match, cuda only)
BAD = [
    ("mask_shape", lambda d: with_(d, mask=torch.ones(6, 7, dtype=torch.bool, device=d)),
     r"mask shape \[6, 7\] must equal weight shape \[6, 8\]", False),
    ("mask_transposed_shape", lambda d: with_(d, mask=torch.ones(8, 6, dtype=torch.bool, device=d)),
     "mask shape", False),
    ("mask_dtype", lambda d: with_(d, mask=lambda a: a["mask"].float()),
     "mask must be bool or uint8, got torch.float32", False),
    ("weight_dtype", lambda d: with_(d, weight=lambda a: a["weight"].double()),
     r"weight dtype \(torch.float64\) must match input dtype", False),
    ("bias_dtype", lambda d: with_(d, bias=lambda a: a["bias"].double()), "bias dtype", False),
    ("bias_shape", lambda d: with_(d, bias=torch.zeros(7, device=d)),
     r"bias must be a 1-D tensor of weight.size\(0\) = 6", False),
    ("bias_2d", lambda d: with_(d, bias=torch.zeros(1, 6, device=d)), "bias must be", False),
    ("in_features", lambda d: with_(d, input=torch.randn(3, 7, device=d)),
     r"input.size\(-1\) \(7\) must equal weight in_features", False),
    ("input_0d", lambda d: with_(d, input=torch.tensor(1.0, device=d)),
     "input must have at least 1 dimension", False),
    ("weight_1d", lambda d: with_(d, weight=lambda a: a["weight"][0], mask=lambda a: a["mask"][0]),
     "weight must be a 2-D tensor", False),
    ("weight_3d", lambda d: with_(d, weight=lambda a: a["weight"][None],
                                  mask=lambda a: a["mask"][None]),
     "weight must be a 2-D tensor", False),
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


def call_in_mode(op, mode, args, match):
    if mode == "fake":
        with FakeTensorMode() as fake:
            args = {k: fake.from_tensor(v) if isinstance(v, torch.Tensor) else v
                    for k, v in args.items()}
            with pytest.raises(RuntimeError, match=match):
                op(**args)
    else:
        with pytest.raises(RuntimeError, match=match):
            op(**args)


@pytest.mark.parametrize("mode", ["eager", "fake"])
@pytest.mark.parametrize("name,build,match,cuda_only", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_argument(device, mode, name, build, match, cuda_only):
    if cuda_only and device != "cuda":
        pytest.skip("needs two devices")
    if cuda_only and mode == "fake":
        pytest.skip("FakeTensor rejects mixed devices itself, before the fake kernel runs")
    call_in_mode(OP, mode, build(device), "masked_linear: " + match)


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
    call_in_mode(OP, mode, args, rf"input dtype {dtype} is not supported on CPU")


@pytest.mark.parametrize("mode", ["eager", "fake"])
@pytest.mark.parametrize("change,match", [
    (lambda g: g[:, :-1], r"grad_output shape \[3, 5\] must equal the output shape \[3, 6\]"),
    (lambda g: g[None], "grad_output shape"),
    (lambda g: g.double(), "grad_output dtype"),
])
def test_backward_bad_grad_output(device, mode, change, match):
    a = good_args(device)
    g = change(torch.randn(3, 6, device=device))
    args = dict(grad_output=g, input=a["input"], weight=a["weight"], mask=a["mask"],
                output_mask=[True, True, True])
    call_in_mode(BWD, mode, args, "masked_linear_backward: " + match)


# ---------------------------------------------------------------- CUDA only

@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cuda_half_precision_against_float32(dtype):
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 33, 70, generator=gen)
    w = torch.randn(65, 70, generator=gen) * 0.2
    m = make_mask(w.shape, 0.5, gen)
    b = torch.randn(65, generator=gen)
    g = torch.randn(2, 33, 65, generator=gen)
    lo = [t.to("cuda", dtype).requires_grad_() for t in (x, w, b)]
    y = dsdkern.masked_linear(lo[0], lo[1], m.cuda(), lo[2])
    assert y.dtype == dtype
    grads = torch.autograd.grad(y, lo, g.to("cuda", dtype))
    ref = [t.to("cuda").requires_grad_() for t in (x, w, b)]
    yr = F.linear(ref[0], ref[1] * m.cuda(), ref[2])
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
    x_src = torch.randn(256, 512, generator=gen).cuda()
    w = torch.randn(384, 512, generator=gen).cuda()
    m = make_mask(w.shape, 0.5, gen).cuda()
    expected = F.linear(x_src, w * m)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        x = torch.zeros_like(x_src)
        torch.cuda._sleep(50_000_000)
        x.copy_(x_src)
        y = dsdkern.masked_linear(x, w, m)
    torch.cuda.current_stream().wait_stream(side)
    torch.testing.assert_close(y, expected, **TOL[torch.float32])
