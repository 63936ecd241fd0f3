"""dsdkern.save_sparse / load_sparse: bit-exact round trips checked against the saved model's
own state_dict (W ⊙ M computed by torch), file size against torch.save of the dense model,
and every kind of bad file rejected with the model left as it was."""
import copy
import io
import struct

import numpy as np
import pytest
import torch
from torch import nn

import dsdkern
from dsdkern import storage
from dsdkern.nn import masked_layers, sparsify


def same_bits(a, b):
    """Same dtype, shape and bytes (so NaN == NaN, and -0.0 != +0.0)."""
    return (a.dtype == b.dtype and a.shape == b.shape
            and torch.equal(a.detach().cpu().reshape(-1).view(torch.uint8),
                            b.detach().cpu().reshape(-1).view(torch.uint8)))


def expected_state(model):
    """The state_dict a round trip must give: masked weights as W ⊙ M with +0.0 pruned."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for name, layer in masked_layers(model):
        prefix = name + "." if name else ""
        state[prefix + "weight"] = torch.where(layer.mask, layer.weight.detach(),
                                               torch.zeros((), dtype=layer.weight.dtype,
                                                           device=layer.weight.device))
    return state


def assert_state(model, state):
    got = model.state_dict()
    assert list(got) == list(state)
    for key in state:
        assert same_bits(got[key], state[key]), key


def prune_uniform(model, sparsity, gen):
    """Random mask with exactly round(sparsity * numel) pruned weights on every masked layer."""
    for _, layer in masked_layers(model):
        numel = layer.weight.numel()
        mask = torch.ones(numel, dtype=torch.bool)
        mask[torch.randperm(numel, generator=gen)[:round(sparsity * numel)]] = False
        layer.set_mask(mask.reshape(layer.weight.shape).to(layer.weight.device))
    return model


def round_trip(model, target):
    buf = io.BytesIO()
    dsdkern.save_sparse(model, buf)
    buf.seek(0)
    dsdkern.load_sparse(target, buf)
    return buf


# ---------------------------------------------------------------- models

def cnn_mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=2),
                         nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 32), nn.ReLU(),
                         nn.Linear(32, 10))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.down is None else self.down(x)))


def resnet(widths=(64, 128, 256, 512), classes=1000, seed=0):
    """ResNet-18's architecture (torchvision is not installed here): 11.7 M parameters."""
    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]),
              nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = widths[0]
    for i, w in enumerate(widths):
        layers += [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
        cin = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def lenet_300_100(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def pruned_cnn(seed, dtype=torch.float32):
    """Sparsified cnn_mlp at ~70 % with kept weights that are exactly 0, -0 and NaN, and pruned
    weights that are not zero (the file stores W ⊙ M, not W)."""
    gen = torch.Generator().manual_seed(seed)
    model = prune_uniform(sparsify(cnn_mlp(seed).to(dtype)), 0.7, gen)
    with torch.no_grad():
        for _, layer in masked_layers(model):
            flat, kept = layer.weight.view(-1), layer.mask.view(-1).nonzero().view(-1)
            flat[kept[:3]] = torch.tensor([0.0, -0.0, float("nan")], dtype=dtype)
            flat[~layer.mask.view(-1)] = 7.0
    return model


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_round_trip_cnn_mlp(dtype):
    model, target = pruned_cnn(1, dtype), sparsify(cnn_mlp(2).to(dtype))
    expected = expected_state(model)
    round_trip(model, target)
    assert_state(target, expected)
    for _, layer in masked_layers(target):
        assert (layer.weight[~layer.mask] == 0).all()
    # the kept 0.0 and -0.0 of every layer are still kept (and, by assert_state, bit-exact)
    assert sum((l.weight == 0)[l.mask].sum().item() for _, l in masked_layers(target)) == 8


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trip_resnet_block_with_batchnorm(dtype):
    gen = torch.Generator().manual_seed(3)
    model = prune_uniform(sparsify(nn.Sequential(BasicBlock(4, 8, 2), BasicBlock(8, 8, 1))
                                   .to(dtype)), 0.8, gen)
    model.train()
    x = torch.randn(6, 4, 9, 9, generator=gen, dtype=dtype)
    for _ in range(3):  # moves running_mean / running_var / num_batches_tracked
        model(x)
    target = sparsify(nn.Sequential(BasicBlock(4, 8, 2), BasicBlock(8, 8, 1)).to(dtype))
    expected = expected_state(model)
    round_trip(model, target)
    assert_state(target, expected)
    assert target[0].bn1.num_batches_tracked.item() == 3
    model.eval(), target.eval()
    assert same_bits(target(x), model(x))


def test_unmasked_layers_and_path(tmp_path):
    """Layers left dense by sparsify (exclude) are stored dense; f can be a path."""
    gen = torch.Generator().manual_seed(4)
    model = prune_uniform(sparsify(cnn_mlp(4), exclude=["0"]), 0.9, gen)
    target = sparsify(cnn_mlp(5), exclude=["0"])
    expected = expected_state(model)
    path = tmp_path / "model.dsdk"
    dsdkern.save_sparse(model, path)
    dsdkern.load_sparse(target, str(path))
    assert_state(target, expected)


def test_file_object_position():
    """Two models back to back in one stream load in turn."""
    a, b = pruned_cnn(6), pruned_cnn(7)
    buf = io.BytesIO()
    dsdkern.save_sparse(a, buf)
    dsdkern.save_sparse(b, buf)
    buf.seek(0)
    ta, tb = sparsify(cnn_mlp(8)), sparsify(cnn_mlp(9))
    dsdkern.load_sparse(ta, buf)
    dsdkern.load_sparse(tb, buf)
    assert_state(ta, expected_state(a))
    assert_state(tb, expected_state(b))


def test_device_round_trip(device):
    model = pruned_cnn(10).to(device)
    target = sparsify(cnn_mlp(11)).to(device)
    expected = expected_state(model)
    round_trip(model, target)
    assert_state(target, expected)
    assert all(v.device.type == device for v in target.state_dict().values())


# ---------------------------------------------------------------- long gaps and edge masks

def edge_model(seed):
    torch.manual_seed(seed)
    return sparsify(nn.Sequential(*(nn.Linear(200, 700) for _ in range(5))))


def test_edge_masks():
    """One kept weight at the very end (gap far longer than any index width), a single kept
    weight at the start, all pruned, all kept, and gaps of exactly 2^b - 1 and 2^b."""
    model, target = edge_model(12), edge_model(13)
    layers = [layer for _, layer in masked_layers(model)]
    numel = layers[0].weight.numel()
    masks = [torch.zeros(numel, dtype=torch.bool) for _ in layers]
    masks[0][-1] = True
    masks[1][0] = True
    masks[3][:] = True
    masks[4][np.cumsum([1, 3, 4, 15, 16, 255, 256, 65535, 65536]) - 1] = True
    for layer, mask in zip(layers, masks):
        layer.set_mask(mask.reshape(layer.weight.shape))
    expected = expected_state(model)
    round_trip(model, target)
    assert_state(target, expected)
    assert [l.mask.sum().item() for _, l in masked_layers(target)] == [m.sum().item()
                                                                       for m in masks]


@pytest.mark.parametrize("bits", storage._INDEX_BITS)
def test_index_stream_every_width(bits):
    """Encode/pack/unpack/decode gives back the positions, with one padding code per overrun
    of the longest gap (Han's padding), for every width the chooser may pick."""
    longest = (1 << bits) - 1
    gen = np.random.default_rng(bits)
    cases = [np.array([], dtype=np.int64), np.array([0]), np.array([5 * longest + 3]),
             np.arange(50), np.cumsum([longest, longest + 1, 1, 2 * longest, 2 * longest + 1]) - 1,
             np.flatnonzero(gen.random(5000) < 0.08)]
    for positions in cases:
        positions = positions.astype(np.int64)
        gaps = np.diff(positions, prepend=-1)
        codes = storage._encode(gaps, bits)
        assert len(codes) == int(np.ceil(gaps / longest).sum())
        assert (codes != 0).sum() == len(positions)
        packed = storage._pack(codes, bits)
        assert len(packed) == storage._index_bytes(gaps, bits)
        decoded = storage._decode_positions(storage._unpack(packed, bits, len(codes)), bits)
        assert np.array_equal(decoded, positions)


# ---------------------------------------------------------------- size

@pytest.mark.parametrize("make", [lenet_300_100, resnet], ids=["lenet_300_100", "resnet18"])
def test_size_at_92_percent(make):
    dense = make()
    buf = io.BytesIO()
    torch.save(dense.state_dict(), buf)
    model = prune_uniform(sparsify(dense), 0.92, torch.Generator().manual_seed(14))
    out = io.BytesIO()
    dsdkern.save_sparse(model, out)
    assert len(out.getvalue()) <= len(buf.getvalue()) / 9


# ---------------------------------------------------------------- bad files

@pytest.fixture(scope="module")
def saved():
    buf = io.BytesIO()
    dsdkern.save_sparse(pruned_cnn(15), buf)
    return buf.getvalue()


def assert_rejected(data, match, target=None):
    target = sparsify(cnn_mlp(16)) if target is None else target
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(ValueError, match=match):
        dsdkern.load_sparse(target, io.BytesIO(data))
    assert_state(target, before)


def test_truncated(saved):
    header_bytes = struct.unpack_from("<I", saved, 12)[0]
    for cut in (0, 5, storage._PREFIX.size, storage._PREFIX.size + header_bytes // 2,
                storage._PREFIX.size + header_bytes + 3, len(saved) - 1):
        assert_rejected(saved[:cut], "truncated")


def flipped(data, at):
    data = bytearray(data)
    data[at] ^= 0x10
    return bytes(data)


def test_flipped_byte(saved):
    # the stored CRC, the header, the payload (twice)
    for at in (24, storage._PREFIX.size + 1, len(saved) // 2, len(saved) - 1):
        assert_rejected(flipped(saved, at), "checksum")
    assert_rejected(flipped(saved, 16), "truncated")  # the payload length


def test_wrong_magic_and_version(saved):
    assert_rejected(b"PK\x03\x04" + saved[4:], "magic")
    assert_rejected(saved[:8] + struct.pack("<I", 2) + saved[12:], "version 2")


def test_trailing_bytes(saved, tmp_path):
    path = tmp_path / "m.dsdk"
    path.write_bytes(saved + b"\0")
    target = sparsify(cnn_mlp(16))
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(ValueError, match="1 unexpected bytes"):
        dsdkern.load_sparse(target, path)
    assert_state(target, before)


def test_another_architecture(saved):
    wider = sparsify(nn.Sequential(*list(cnn_mlp(17))[:-1], nn.Linear(32, 11)))
    assert_rejected(saved, r'"7.weight" is float32 \[10, 32\] in the file but float32 '
                    r"\[11, 32\]", wider)
    shorter = sparsify(nn.Sequential(*list(cnn_mlp(17))[:-1]))
    assert_rejected(saved, r"keys the model does not have: \['7.weight', '7.bias', '7.mask'\]",
                    shorter)
    longer = sparsify(nn.Sequential(*cnn_mlp(17), nn.Linear(10, 2)))
    assert_rejected(saved, r"keys missing from the file: \['8.weight', '8.bias', '8.mask'\]",
                    longer)
    assert_rejected(saved, "7.mask", sparsify(cnn_mlp(17), exclude=["7"]))
    assert_rejected(saved, "float64", sparsify(cnn_mlp(17)).double())


def test_bad_arguments():
    model = pruned_cnn(18)
    with pytest.raises(TypeError, match="model"):
        dsdkern.save_sparse(model.state_dict(), io.BytesIO())
    with pytest.raises(TypeError, match="f must be"):
        dsdkern.save_sparse(model, 3)
    with pytest.raises(TypeError, match="f must be"):
        dsdkern.load_sparse(model, 3)

    class WithExtraState(nn.Linear):
        def get_extra_state(self):
            return {"note": 1}

        def set_extra_state(self, state):
            pass

    with pytest.raises(ValueError, match="_extra_state"):
        dsdkern.save_sparse(nn.Sequential(WithExtraState(2, 2)), io.BytesIO())
