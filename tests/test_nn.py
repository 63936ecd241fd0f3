"""dsdkern.nn against torch as the reference: the masked layers against nn.Conv2d / nn.Linear
holding W ⊙ M, the torch.nn.utils.prune bridge and peer check against torch's own pruning,
state_dict, copies, devices, torch.compile / torch.export, sparsify / densify."""
import copy
import inspect
import io
import pickle
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from dsdkern.nn import (MaskedConv2d, MaskedLayer, MaskedLinear, densify, from_torch_prune,
                        masked_layers, sparsify)

TIGHT = dict(rtol=1e-12, atol=1e-12)


def random_mask(shape, gen, keep=0.5):
    return torch.rand(shape, generator=gen) < keep


def masked_copy(dense, masked_cls, gen, keep=0.5):
    """(masked layer holding a copy of `dense`'s parameters with a random mask, reference:
    `dense` with its weight replaced by W ⊙ M)."""
    layer = masked_cls.from_dense(copy.deepcopy(dense))
    layer.set_mask(random_mask(layer.weight.shape, gen, keep).to(layer.weight.device))
    with torch.no_grad():
        dense.weight.copy_(layer.weight)
    return layer, dense


def small_cnn(dtype=torch.float64, with_linear=True):
    torch.manual_seed(0)
    layers = [nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2, groups=2),
              nn.ReLU(), nn.Flatten()]
    if with_linear:
        layers += [nn.Linear(6 * 3 * 3, 10), nn.ReLU(), nn.Linear(10, 3)]
    return nn.Sequential(*layers).to(dtype)


def cnn_input(dtype=torch.float64, seed=1):
    return torch.randn(5, 2, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---------------------------------------------------------------- the layers themselves

@pytest.mark.parametrize("masked, dense", [(MaskedConv2d, nn.Conv2d), (MaskedLinear, nn.Linear)])
def test_signature_and_types(masked, dense):
    # The dense signature, plus the keyword-only `algo` of the sparse (no-grad) path.
    params = list(inspect.signature(masked).parameters.values())
    assert params[-1].name == "algo" and params[-1].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(masked).replace(parameters=params[:-1]) == inspect.signature(dense)
    assert issubclass(masked, dense) and issubclass(masked, MaskedLayer)


def test_attributes_and_repr():
    layer = MaskedConv2d(4, 6, (3, 5), stride=2, padding=1, groups=2, bias=False)
    ref = nn.Conv2d(4, 6, (3, 5), stride=2, padding=1, groups=2, bias=False)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "groups", "padding_mode"):
        assert getattr(layer, attr) == getattr(ref, attr)
    assert layer.bias is None and layer.weight.shape == ref.weight.shape
    assert layer.mask.dtype == torch.bool and bool(layer.mask.all())
    layer.set_mask(torch.arange(layer.weight.numel()).view(layer.weight.shape) % 4 == 0)
    assert layer.sparsity == pytest.approx(0.75)
    assert "sparsity=0.75" in repr(layer) and repr(ref)[len("Conv2d"):-1] in repr(layer)


CONV_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, padding=1, stride=2),
    dict(kernel_size=(2, 3), padding=(1, 0), dilation=(2, 1)),
    dict(kernel_size=3, padding=2, groups=2, bias=False),
    dict(kernel_size=3, padding="valid"),
    dict(kernel_size=3, padding="same", dilation=2),
    dict(kernel_size=(4, 2), padding="same"),  # even kernels: asymmetric padding
    dict(kernel_size=3, padding=1, padding_mode="reflect"),
    dict(kernel_size=3, padding=(2, 1), padding_mode="replicate"),
    dict(kernel_size=(2, 3), padding=(1, 2), padding_mode="circular", groups=4),
    dict(kernel_size=4, padding="same", padding_mode="reflect"),
]


@pytest.mark.parametrize("case", CONV_CASES,
                         ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_conv_matches_torch(case, unbatched, device):
    gen = torch.Generator().manual_seed(3)
    torch.manual_seed(4)
    dense = nn.Conv2d(4, 8, dtype=torch.float64, **case).to(device)
    layer, ref = masked_copy(dense, MaskedConv2d, gen)
    shape = (4, 9, 10) if unbatched else (3, 4, 9, 10)
    x = torch.randn(shape, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    out, out_ref = layer(x), ref(x_ref)
    torch.testing.assert_close(out, out_ref, **TIGHT)
    grad = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(device)
    out.backward(grad)
    out_ref.backward(grad)
    torch.testing.assert_close(x.grad, x_ref.grad, **TIGHT)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad * layer.mask, **TIGHT)
    assert bool((layer.weight.grad[~layer.mask] == 0).all())
    if ref.bias is not None:
        torch.testing.assert_close(layer.bias.grad, ref.bias.grad, **TIGHT)


@pytest.mark.parametrize("shape", [(7,), (5, 7), (2, 3, 7), (0, 7)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias, device):
    gen = torch.Generator().manual_seed(5)
    torch.manual_seed(6)
    layer, ref = masked_copy(nn.Linear(7, 4, bias=bias, dtype=torch.float64).to(device),
                             MaskedLinear, gen)
    x = torch.randn(shape, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    out, out_ref = layer(x), ref(x_ref)
    torch.testing.assert_close(out, out_ref, **TIGHT)
    out.sum().backward()
    out_ref.sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, **TIGHT)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad * layer.mask, **TIGHT)
    if bias:
        torch.testing.assert_close(layer.bias.grad, ref.bias.grad, **TIGHT)


def test_holds_weight_bias_mask_only():
    for layer in (MaskedConv2d(3, 4, 3), MaskedLinear(3, 4),
                  from_torch_prune(prune.random_unstructured(nn.Linear(3, 4), "weight", 0.5))):
        assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
        assert [n for n, _ in layer.named_buffers()] == ["mask"]
        assert list(layer.state_dict()) == ["weight", "bias", "mask"]
        assert not layer._forward_pre_hooks and not layer._forward_hooks
        assert not hasattr(layer, "weight_orig") and not hasattr(layer, "weight_mask")
    assert list(MaskedLinear(3, 4, bias=False).state_dict()) == ["weight", "mask"]


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(16, 32, 3), lambda: nn.Linear(64, 48)])
def test_memory_at_most_125_percent(make):
    dense = make()
    masked = sparsify(copy.deepcopy(dense))

    def nbytes(m):
        return sum(t.nbytes for t in (*m.parameters(), *m.buffers()))

    assert nbytes(masked) <= 1.25 * nbytes(dense)


# ---------------------------------------------------------------- set_mask / from_dense

def test_set_mask_zeroes_in_place():
    gen = torch.Generator().manual_seed(7)
    layer = MaskedConv2d(2, 3, 3)
    weight, before = layer.weight, layer.weight.detach().clone()
    mask = random_mask(weight.shape, gen).to(torch.uint8)
    layer.set_mask(mask)
    assert layer.weight is weight and layer.mask.dtype == torch.bool
    torch.testing.assert_close(layer.weight.detach(), before * mask, rtol=0, atol=0)
    assert torch.equal(layer.mask, mask.bool())


@pytest.mark.parametrize("bad, error, words", [
    (torch.ones(3, 2, 3, 2, dtype=torch.bool), ValueError, "shape"),
    (torch.ones(3, 2, 3, 3), ValueError, "bool or uint8"),
    ([[1]], TypeError, "torch.Tensor"),
    (torch.ones(3, 2, 3, 3, dtype=torch.bool, device="meta"), ValueError, "meta"),
])
def test_set_mask_rejects(bad, error, words):
    layer = MaskedConv2d(2, 3, 3)
    state = copy.deepcopy(layer.state_dict())
    with pytest.raises(error, match=words):
        layer.set_mask(bad)
    for key, value in layer.state_dict().items():
        assert torch.equal(value, state[key])


@pytest.mark.parametrize("make", [lambda: nn.Conv2d(2, 3, 3), lambda: nn.Linear(4, 5),
                                  lambda: nn.Linear(4, 5, bias=False)])
def test_from_dense_shares_parameters(make):
    dense = make()
    cls = MaskedConv2d if isinstance(dense, nn.Conv2d) else MaskedLinear
    dense.eval()
    layer = cls.from_dense(dense)
    assert layer.weight is dense.weight and layer.bias is dense.bias
    assert not layer.training and bool(layer.mask.all())
    mask = random_mask(dense.weight.shape, torch.Generator().manual_seed(8))
    again = cls.from_dense(layer, mask)
    assert again.weight is dense.weight and torch.equal(again.mask, mask)
    assert not bool(dense.weight[~mask].any())
    third = cls.from_dense(again)
    assert torch.equal(third.mask, mask) and third.mask is not again.mask


def test_from_dense_rejects():
    with pytest.raises(TypeError, match="nn.Conv2d"):
        MaskedConv2d.from_dense(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="uninitialised"):
        MaskedLinear.from_dense(nn.LazyLinear(3))
    model = nn.Sequential(nn.Linear(2, 3),
                          prune.random_unstructured(nn.Linear(3, 3), "weight", 0.5))
    with pytest.raises(ValueError, match="from_torch_prune"):
        sparsify(model)
    assert type(model[0]) is nn.Linear
    dense = nn.Linear(2, 3)
    before = dense.weight.detach().clone()
    with pytest.raises(ValueError, match="shape"):
        MaskedLinear.from_dense(dense, torch.ones(2, 3, dtype=torch.bool))
    assert torch.equal(dense.weight, before)


# ---------------------------------------------------------------- state_dict

@pytest.mark.parametrize("make", [lambda: nn.Conv2d(2, 3, 3), lambda: nn.Linear(4, 5),
                                  lambda: nn.Linear(4, 5, bias=False)])
def test_plain_state_dict_loads_strict(make):
    dense = make()
    layer = sparsify(copy.deepcopy(make()))
    layer.set_mask(random_mask(layer.weight.shape, torch.Generator().manual_seed(9)))
    layer.load_state_dict(dense.state_dict(), strict=True)
    assert bool(layer.mask.all())
    for name, value in dense.state_dict().items():
        assert torch.equal(layer.state_dict()[name], value)


def test_masked_state_dict_round_trip():
    gen = torch.Generator().manual_seed(10)
    model = sparsify(small_cnn())
    for _, m in masked_layers(model):
        m.set_mask(random_mask(m.weight.shape, gen))
    saved = copy.deepcopy(model.state_dict())
    other = sparsify(small_cnn())
    other.load_state_dict(saved, strict=True)
    assert other.state_dict().keys() == saved.keys()
    for key, value in other.state_dict().items():
        assert value.dtype == saved[key].dtype and torch.equal(value, saved[key])
    # uint8 masks (an older or foreign checkpoint) load as bool
    saved_u8 = {k: v.to(torch.uint8) if k.endswith("mask") else v for k, v in saved.items()}
    other = sparsify(small_cnn())
    other.load_state_dict(saved_u8)
    for key, value in other.state_dict().items():
        assert torch.equal(value, saved[key])


@pytest.mark.parametrize("bad, words", [
    (lambda sd: torch.ones(4, 2, 3, 2, dtype=torch.bool), "shape"),
    (lambda sd: torch.ones_like(sd["0.weight"]), "bool or uint8"),
])
def test_bad_mask_in_state_dict(bad, words):
    model = sparsify(small_cnn(with_linear=False))
    saved = {k: v + 1 if k.endswith("weight") else v for k, v in model.state_dict().items()}
    saved["0.mask"] = bad(saved)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(RuntimeError, match=words):
        model.load_state_dict(saved)
    for key in ("0.weight", "0.bias", "0.mask"):
        assert torch.equal(model.state_dict()[key], before[key])


def test_torch_prune_state_dict_loads():
    gen = torch.Generator().manual_seed(11)
    pruned = small_cnn()
    for _, m in pruned.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            prune.custom_from_mask(m, "weight", random_mask(m.weight.shape, gen))
    x = cnn_input()
    model = sparsify(small_cnn())
    model.load_state_dict(pruned.state_dict(), strict=True)
    torch.testing.assert_close(model(x), pruned(x), **TIGHT)
    for name, m in masked_layers(model):
        torch.testing.assert_close(m.weight.detach(), pruned.get_submodule(name).weight,
                                   rtol=0, atol=0)
        assert torch.equal(m.mask, pruned.get_submodule(name).weight_mask != 0)


def pruned_linear_state(edit):
    state = dict(prune.random_unstructured(nn.Linear(4, 3), "weight", 0.5).state_dict())
    edit(state)
    return state


@pytest.mark.parametrize("state, words", [
    (prune.random_unstructured(nn.Linear(4, 3), "bias", 0.5).state_dict(), "bias_orig"),
    (pruned_linear_state(lambda sd: sd.pop("weight_mask")), "without \"weight_mask\""),
    (pruned_linear_state(lambda sd: sd.update(weight_mask=torch.ones(3, 5))),
     "\"weight_mask\" has shape \\[3, 5\\]"),
    ({**nn.Linear(4, 3).state_dict(), "mask": [[True] * 4] * 3}, "must be a tensor"),
])
def test_bad_checkpoint_leaves_layer_unchanged(state, words):
    layer = MaskedLinear(4, 3)
    layer.set_mask(random_mask(layer.weight.shape, torch.Generator().manual_seed(20)))
    before = copy.deepcopy(layer.state_dict())
    with pytest.raises(RuntimeError, match=words):
        layer.load_state_dict(state)
    for key, value in layer.state_dict().items():
        assert torch.equal(value, before[key])


# ---------------------------------------------------------------- copies, devices, compile, export

def test_deepcopy_and_pickle():
    gen = torch.Generator().manual_seed(12)
    model = sparsify(small_cnn())
    for _, m in masked_layers(model):
        m.set_mask(random_mask(m.weight.shape, gen))
    x = cnn_input()
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model)),
                  torch.load(buffer, weights_only=False)):
        torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)
        for (_, a), (_, b) in zip(masked_layers(clone), masked_layers(model)):
            assert a.weight is not b.weight and torch.equal(a.mask, b.mask)


def test_to_dtype_and_device(device):
    gen = torch.Generator().manual_seed(13)
    model = sparsify(small_cnn(torch.float32))
    for _, m in masked_layers(model):
        m.set_mask(random_mask(m.weight.shape, gen))
    ref = densify(model).to(torch.float64)
    params = [id(p) for p in model.parameters()]
    model.to(torch.float64).to(device)
    assert [id(p) for p in model.parameters()] == params
    for _, m in masked_layers(model):
        assert m.mask.dtype == torch.bool and m.mask.device.type == device
        assert m.weight.dtype == torch.float64
    torch.testing.assert_close(model(cnn_input().to(device)).cpu(), ref(cnn_input()), **TIGHT)


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compile_fullgraph_matches_eager(backend):
    gen = torch.Generator().manual_seed(14)
    model = sparsify(small_cnn(torch.float32))
    model[0].padding_mode = "reflect"
    for _, m in masked_layers(model):
        m.set_mask(random_mask(m.weight.shape, gen))
    x = cnn_input(torch.float32)
    compiled = torch.compile(model, fullgraph=True, backend=backend)
    eager_out = model(x)
    eager_grads = torch.autograd.grad(eager_out.square().sum(), list(model.parameters()))
    out = compiled(x)
    grads = torch.autograd.grad(out.square().sum(), list(model.parameters()))
    torch.testing.assert_close(out, eager_out, rtol=1e-5, atol=1e-5)
    for got, expected in zip(grads, eager_grads):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_densify_bakes_mask_and_exports():
    gen = torch.Generator().manual_seed(15)
    model = sparsify(small_cnn())
    for _, m in masked_layers(model):
        m.set_mask(random_mask(m.weight.shape, gen))
        with torch.no_grad():
            m.weight.add_(1.0)  # pruned weights are nonzero now: densify must still drop them
    before = copy.deepcopy(model.state_dict())
    plain = densify(model)
    assert not masked_layers(plain)
    assert all(type(m) in (nn.Conv2d, nn.Linear) for m in plain.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear)))
    for name, m in masked_layers(model):
        twin = plain.get_submodule(name)
        torch.testing.assert_close(twin.weight.detach(), m.weight.detach() * m.mask,
                                   rtol=0, atol=0)
        assert twin.weight is not m.weight
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    x = cnn_input()
    torch.testing.assert_close(plain(x), model(x), **TIGHT)
    exported = torch.export.export(plain, (x,))
    torch.testing.assert_close(exported.module()(x), model(x), **TIGHT)
    single = densify(MaskedLinear(3, 2))
    assert type(single) is nn.Linear


def test_repr_on_meta_device():
    assert "sparsity" not in repr(MaskedLinear(3, 4, device="meta"))


# ---------------------------------------------------------------- sparsify

def test_sparsify_keeps_parameters_and_optimizer():
    """An SGD optimizer with momentum built before sparsify keeps training the model: with all
    masks True it follows the dense model exactly; pruned weights then get zero gradients."""
    model = small_cnn()
    dense = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt_dense = torch.optim.SGD(dense.parameters(), lr=0.1, momentum=0.9)
    ids = [id(p) for p in model.parameters()]
    x, target = cnn_input(), torch.arange(5) % 3

    def step(net, optimizer):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x).flatten(1)[:, :3], target)
        loss.backward()
        optimizer.step()

    step(model, opt)
    step(dense, opt_dense)
    model = sparsify(model)
    assert [id(p) for p in model.parameters()] == ids
    assert len(masked_layers(model)) == 4
    for _ in range(2):
        step(model, opt)
        step(dense, opt_dense)
    for p, q in zip(model.parameters(), dense.parameters()):
        torch.testing.assert_close(p, q, **TIGHT)
    gen = torch.Generator().manual_seed(16)
    for _, m in masked_layers(model):
        m.set_mask(random_mask(m.weight.shape, gen))
    step(model, opt)
    for _, m in masked_layers(model):
        assert bool((m.weight.grad[~m.mask] == 0).all())


def test_sparsify_exclude():
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 1)))
    model.add_module("head", nn.Linear(2, 2))
    model.add_module("out", nn.Linear(2, 2))
    first = model.features[0]
    sparsify(model, exclude=("features.0", nn.Linear))
    assert model.features[0] is first and type(model.head) is nn.Linear
    assert [n for n, _ in masked_layers(model)] == ["features.1"]
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3)), nn.Linear(2, 2))
    sparsify(model, exclude="0")  # a container excludes everything below it
    assert type(model[0][0]) is nn.Conv2d and isinstance(model[1], MaskedLinear)
    with pytest.raises(ValueError, match="'nope'"):
        sparsify(nn.Sequential(nn.Linear(2, 2)), exclude=["nope"])
    with pytest.raises(TypeError, match="exclude"):
        sparsify(nn.Sequential(nn.Linear(2, 2)), exclude=[3])
    with pytest.raises(ValueError, match="exclude"):
        sparsify(nn.Sequential(nn.Linear(2, 2)), exclude=nn.Linear)


def test_sparsify_edge_cases():
    with pytest.raises(ValueError, match="no nn.Conv2d / nn.Linear"):
        sparsify(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)))
    conv = nn.Conv2d(1, 2, 3)
    layer = sparsify(conv)
    assert isinstance(layer, MaskedConv2d) and layer.weight is conv.weight
    assert sparsify(layer) is layer  # already masked: left as it is
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    sparsify(model)
    assert isinstance(model[0], MaskedLinear) and model[0] is model[2]


def test_sparsify_leaves_subclasses_with_a_warning():
    class Scaled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    model = nn.Sequential(nn.LazyLinear(3), Scaled(3, 3), nn.Linear(3, 3))
    with pytest.warns(UserWarning, match=r"0 \(LazyLinear\), 1 \(Scaled\)"):
        sparsify(model)
    assert type(model[0]) is nn.LazyLinear and type(model[1]) is Scaled
    assert isinstance(model[2], MaskedLinear)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sparsify(nn.Sequential(Scaled(3, 3), nn.Linear(3, 3)), exclude=Scaled)


def test_sparsify_keeps_user_hooks():
    seen = []
    conv = nn.Conv2d(1, 2, 3)
    handle = conv.register_forward_hook(lambda mod, inp, out: seen.append(type(mod)))
    grads = []
    conv.register_full_backward_hook(lambda mod, gin, gout: grads.append(gout[0].shape))
    model = sparsify(nn.Sequential(conv))
    model(torch.randn(1, 1, 5, 5, requires_grad=True)).sum().backward()
    assert seen == [MaskedConv2d] and grads == [torch.Size([1, 2, 3, 3])]
    handle.remove()
    model(torch.randn(1, 1, 5, 5))
    assert seen == [MaskedConv2d]


# ---------------------------------------------------------------- torch.nn.utils.prune

def torch_pruned_pair(seed):
    """(our model, torch's copy) of the small CNN+MLP with the same random masks, float64."""
    gen = torch.Generator().manual_seed(seed)
    model = sparsify(small_cnn())
    theirs = small_cnn()
    for name, m in masked_layers(model):
        mask = random_mask(m.weight.shape, gen)
        m.set_mask(mask)
        prune.custom_from_mask(theirs.get_submodule(name), "weight", mask)
    return model, theirs


def test_peer_check_against_torch_prune():
    model, theirs = torch_pruned_pair(17)
    x = cnn_input().requires_grad_()
    x_theirs = x.detach().clone().requires_grad_()
    out, out_theirs = model(x), theirs(x_theirs)
    torch.testing.assert_close(out, out_theirs, **TIGHT)
    grad = torch.randn(out.shape, generator=torch.Generator().manual_seed(18), dtype=out.dtype)
    out.backward(grad)
    out_theirs.backward(grad)
    torch.testing.assert_close(x.grad, x_theirs.grad, **TIGHT)
    for name, m in masked_layers(model):
        torch_layer = theirs.get_submodule(name)
        torch.testing.assert_close(m.weight.grad, torch_layer.weight_orig.grad, **TIGHT)
        torch.testing.assert_close(m.bias.grad, torch_layer.bias.grad, **TIGHT)


def test_from_torch_prune_converts_in_place():
    _, theirs = torch_pruned_pair(19)
    x = cnn_input()
    expected = theirs(x).detach()
    origs = {name: m.weight_orig for name, m in theirs.named_modules() if hasattr(m, "weight_orig")}
    masks = {name: m.weight_mask != 0 for name, m in theirs.named_modules()
             if hasattr(m, "weight_mask")}
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    model = from_torch_prune(theirs)
    assert model is theirs
    torch.testing.assert_close(model(x), expected, **TIGHT)
    assert [n for n, _ in masked_layers(model)] == list(origs)
    for name, m in masked_layers(model):
        assert m.weight is origs[name] and torch.equal(m.mask, masks[name])
        assert not bool(m.weight[~m.mask].any())
        assert not m._forward_pre_hooks and not hasattr(m, "weight_orig")
        assert [n for n, _ in m.named_buffers()] == ["mask"]
    model(x).sum().backward()
    opt.step()  # the optimizer built on torch's Parameters trains the converted model
    for name, m in masked_layers(model):
        assert m.weight.grad is not None and not bool(m.weight[~m.mask].any())


def test_from_torch_prune_rejects():
    with pytest.raises(ValueError, match="no nn.Conv2d / nn.Linear"):
        from_torch_prune(small_cnn())
    model = small_cnn()
    prune.random_unstructured(model[0], "weight", 0.5)
    prune.random_unstructured(model[5], "bias", 0.5)
    with pytest.raises(ValueError, match="bias"):
        from_torch_prune(model)
    assert type(model[0]) is nn.Conv2d and hasattr(model[0], "weight_orig")
    layer = from_torch_prune(prune.l1_unstructured(nn.Linear(4, 4), "weight", 0.5))
    assert isinstance(layer, MaskedLinear) and layer.sparsity == pytest.approx(0.5)


def test_from_torch_prune_keeps_user_hooks_and_warns_on_subclasses():
    class Scaled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    seen = []
    conv = prune.random_unstructured(nn.Conv2d(1, 2, 3), "weight", 0.5)
    conv.register_forward_pre_hook(lambda mod, inp: seen.append(type(mod)))
    model = nn.Sequential(conv, nn.Flatten(),
                          prune.random_unstructured(Scaled(18, 2), "weight", 0.5))
    with pytest.warns(UserWarning, match=r"2 \(Scaled\)"):
        from_torch_prune(model)
    assert isinstance(model[0], MaskedConv2d) and list(model[0]._forward_pre_hooks) != []
    assert type(model[2]) is Scaled and hasattr(model[2], "weight_orig")
    model(torch.randn(1, 1, 5, 5))
    assert seen == [MaskedConv2d]
