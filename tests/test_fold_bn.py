"""dsdkern.nn.fold_batchnorm against the unfolded model (torch's own batch norm as the
reference): torchvision's resnet18, hand-made models (conv -> bn -> relu, a conv feeding two
consumers, affine=False, no conv bias, a MaskedConv2d keeping its mask and rebuilding its
packed cache), and every refusal leaving the model unchanged."""
import pytest
import torch
from torch import nn

from dsdkern import nn as dnn
from dsdkern import prune


def _randomise_bn(model: nn.Module, seed: int) -> None:
    """Running statistics and affine parameters away from their defaults."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}, [type(m) for m in
                                                                   model.modules()]


def _assert_unchanged(model, before):
    state, types = before
    after = model.state_dict()
    assert after.keys() == state.keys() and [type(m) for m in model.modules()] == types
    for k, v in state.items():
        assert torch.equal(after[k], v), k


def _check_folds(model, x, folded_count, rtol=1e-5):
    with torch.no_grad():
        ref = model(x)
    bns = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    same = dnn.fold_batchnorm(model)
    assert same is model
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == bns - folded_count
    with torch.no_grad():
        out = model(x)
    torch.testing.assert_close(out, ref, rtol=rtol, atol=rtol * float(ref.abs().max()))


class ConvBnRelu(nn.Module):
    def __init__(self, bias=False, affine=True):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1, bias=bias)
        self.bn = nn.BatchNorm2d(6, affine=affine)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_conv_bn_relu(bias, affine):
    torch.manual_seed(0)
    model = ConvBnRelu(bias, affine).eval()
    _randomise_bn(model, 1)
    weight = model.conv.weight
    _check_folds(model, torch.randn(2, 3, 8, 8), 1)
    assert isinstance(model.bn, nn.Identity) and type(model) is ConvBnRelu
    assert model.conv.weight is weight and model.conv.bias is not None


class TwoConsumers(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(3, 4, 3)
        self.bn2 = nn.BatchNorm2d(4)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y + self.bn2(self.conv2(x))


def test_conv_with_two_consumers_is_not_folded():
    torch.manual_seed(1)
    model = TwoConsumers().eval()
    _randomise_bn(model, 2)
    _check_folds(model, torch.randn(1, 3, 9, 9), 1)
    assert isinstance(model.bn, nn.BatchNorm2d) and isinstance(model.bn2, nn.Identity)


def test_bn_after_a_non_conv_and_bn_with_hook_stay():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1),
                          nn.BatchNorm2d(4)).eval()
    _randomise_bn(model, 3)
    model[4].register_forward_hook(lambda m, i, o: None)
    _check_folds(model, torch.randn(1, 3, 5, 5), 0)


def test_masked_conv_keeps_mask_and_rebuilds_cache():
    torch.manual_seed(3)
    model = dnn.sparsify(ConvBnRelu()).eval()
    prune.magnitude(model, 0.7, exclude_first_conv=False)
    _randomise_bn(model, 4)
    conv = model.conv
    mask = conv.mask.clone()
    sparsity = conv.sparsity
    x = torch.randn(1, 3, 8, 8)
    with torch.inference_mode():
        model(x)  # builds the packed cache on the unfolded weight
    builds = conv._sparse_cache.builds()
    _check_folds(model, x, 1)
    assert type(model.conv) is dnn.MaskedConv2d and torch.equal(conv.mask, mask)
    assert conv.sparsity == sparsity and bool((conv.weight[~mask] == 0).all())
    assert conv._sparse_cache.builds() > builds  # the folded weight was packed anew


def test_torchvision_resnet18():
    torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed")
    torch.manual_seed(4)
    model = torchvision.models.resnet18(weights=None).eval()
    _randomise_bn(model, 5)
    _check_folds(model, torch.randn(1, 3, 64, 64), 20, rtol=1e-4)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def test_sparsified_resnet18_with_dsdk_pool():
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    from dsdkern.bench import sparse_resnet

    model = sparse_resnet.pruned_resnet18(seed=1)
    _randomise_bn(model, 6)
    masks = {n: m.mask.clone() for n, m in dnn.masked_layers(model)}
    _check_folds(model, torch.randn(1, 3, 64, 64), 20, rtol=1e-4)
    assert all(torch.equal(m.mask, masks[n]) for n, m in dnn.masked_layers(model))


def test_training_model_is_refused_unchanged():
    model = ConvBnRelu().train()
    before = _state(model)
    with pytest.raises(ValueError, match="training mode"):
        dnn.fold_batchnorm(model)
    _assert_unchanged(model, before)


def test_bn_in_training_or_without_stats_is_refused_before_any_change():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1),
                          nn.BatchNorm2d(4)).eval()
    model[3].train()
    before = _state(model)
    with pytest.raises(ValueError, match="'3' is in training mode"):
        dnn.fold_batchnorm(model)
    _assert_unchanged(model, before)

    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 1),
                          nn.BatchNorm2d(4, track_running_stats=False)).eval()
    before = _state(model)
    with pytest.raises(ValueError, match="no running statistics"):
        dnn.fold_batchnorm(model)
    _assert_unchanged(model, before)


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        if x.sum() > 0:  # data-dependent control flow
            return self.bn(self.conv(x))
        return x


def test_untraceable_model_is_a_clear_error():
    model = Untraceable().eval()
    before = _state(model)
    with pytest.raises(TypeError, match="cannot trace"):
        dnn.fold_batchnorm(model)
    _assert_unchanged(model, before)
    with pytest.raises(TypeError, match="nn.Module"):
        dnn.fold_batchnorm(object())


def test_bench_pruned_resnet_pool_option():
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    from dsdkern.bench import sparse_resnet

    assert type(sparse_resnet.pruned_resnet18().maxpool) is dnn.MaxPool2d
    assert type(sparse_resnet.pruned_resnet18(pool=False).maxpool) is nn.MaxPool2d


def test_bn_on_another_device_is_refused_unchanged():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4, device="meta")).eval()
    before = {k: v.clone() for k, v in model[0].state_dict().items()}
    with pytest.raises(ValueError, match="'1' is on meta"):
        dnn.fold_batchnorm(model)
    assert isinstance(model[1], nn.BatchNorm2d)
    assert all(torch.equal(v, before[k]) for k, v in model[0].state_dict().items())
