"""dsdkern.dsd: the DSD phase machine inside a plain torch training loop."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dsdkern import dsd as dsd_mod
from dsdkern.dsd import DSD
from dsdkern.nn import MaskedLayer, masked_layers


def cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 3))


def data(seed=0, n=48):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def train_steps(model, optimizer, steps, seed=0):
    x, y = data(seed)
    for i in range(steps):
        batch = slice((i * 8) % 48, (i * 8) % 48 + 8)
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()


OPTIMIZERS = {
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01),
    "adamw_amsgrad": lambda p: torch.optim.AdamW(p, lr=0.01, amsgrad=True),
    "rmsprop_momentum": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.05),
}


def test_dsd_sparsifies_a_plain_model_keeping_its_parameters():
    model = cnn()
    params = list(model.parameters())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    dsd = DSD(model, optimizer)
    assert dsd.model is model and dsd.phase == "dense"
    assert [name for name, _ in masked_layers(model)] == ["0", "2", "5", "7"]
    assert all(a is b for a, b in zip(model.parameters(), params))
    dsd.close()

    bare = nn.Linear(5, 3)
    dsd = DSD(bare, torch.optim.SGD(bare.parameters(), lr=0.1), exclude_first_conv=False)
    assert isinstance(dsd.model, MaskedLayer) and dsd.model.weight is bare.weight
    dsd.close()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_sparse_masks_weights_and_optimizer_state(name):
    model = cnn(seed=1)
    optimizer = OPTIMIZERS[name](model.parameters())
    dsd = DSD(model, optimizer, sparsity=0.4)
    train_steps(model, optimizer, 3)
    before = {n: layer.weight.detach().clone() for n, layer in masked_layers(model)}
    state_before = {n: {k: v.clone() for k, v in optimizer.state[layer.weight].items()}
                    for n, layer in masked_layers(model)}
    kept = dsd.sparse()
    assert dsd.phase == "sparse" and set(kept) == {"2", "5", "7"}
    assert model[0].mask.all()
    for n, layer in masked_layers(model):
        w = before[n].numpy().ravel()
        keep = w.size - (round(0.4 * w.size) if n != "0" else 0)
        order = np.lexsort((np.arange(w.size), -np.abs(w)))
        expected = np.zeros(w.size, dtype=bool)
        expected[order[:keep]] = True
        np.testing.assert_array_equal(layer.mask.numpy().ravel(), expected, err_msg=n)
        mask = layer.mask
        assert torch.equal(layer.weight, before[n] * mask)
        state = optimizer.state[layer.weight]
        per_weight = [k for k, v in state.items() if v.shape == layer.weight.shape]
        assert per_weight  # momentum_buffer / exp_avg / exp_avg_sq / max_exp_avg_sq
        for k, v in state.items():
            expected_state = state_before[n][k]
            if v.shape == layer.weight.shape:
                expected_state = expected_state * mask
            assert torch.equal(v, expected_state), (n, k)
    dsd.close()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_sparse_step_keeps_w_equal_to_w_times_m(name):
    model = cnn(seed=2)
    optimizer = OPTIMIZERS[name](model.parameters())
    dsd = DSD(model, optimizer, sparsity=0.5)
    train_steps(model, optimizer, 2)
    dsd.sparse()
    x, y = data(3)
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        for _, layer in masked_layers(model):  # a gradient the masked ops did not make
            layer.weight.grad.add_(0.5)
        optimizer.step()
        for n, layer in masked_layers(model):
            assert torch.equal(layer.weight, layer.weight * layer.mask), n
    dsd.close()  # without the hook, the same step moves pruned weights
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    for _, layer in masked_layers(model):
        layer.weight.grad.add_(0.5)
    optimizer.step()
    assert any((layer.weight[~layer.mask] != 0).any() for _, layer in masked_layers(model))


def test_dense_lifts_masks_and_scales_every_lr():
    model = cnn(seed=3)
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.2},
                                 {"params": list(model.parameters())[2:]}], lr=0.05, momentum=0.9)
    dsd = DSD(model, optimizer, sparsity=0.5, lr_factor=0.1)
    with pytest.raises(RuntimeError, match="dense\\(\\) called in the dense phase"):
        dsd.dense()
    train_steps(model, optimizer, 2)
    dsd.sparse()
    with pytest.raises(RuntimeError, match="sparse\\(\\) called in the sparse phase"):
        dsd.sparse()
    train_steps(model, optimizer, 2)
    pruned = {n: ~layer.mask.clone() for n, layer in masked_layers(model)}
    dsd.dense()
    assert dsd.phase == "redense"
    assert [g["lr"] for g in optimizer.param_groups] == [0.2 * 0.1, 0.05 * 0.1]
    for n, layer in masked_layers(model):
        assert layer.mask.all()
        assert torch.all(layer.weight[pruned[n]] == 0), n
    with pytest.raises(RuntimeError, match="dense\\(\\) called in the redense phase"):
        dsd.dense()
    train_steps(model, optimizer, 2)
    assert all((layer.weight[pruned[n]] != 0).any() for n, layer in masked_layers(model)
               if pruned[n].any())
    dsd.sparse()  # DSD may repeat
    assert dsd.phase == "sparse" and dsd.sparse_rounds == 2
    dsd.close()


def phases(dsd, step):
    if step == 3:
        dsd.sparse()
    elif step == 7:
        dsd.dense()


def run(model, optimizer, dsd, start, stop):
    x, y = data(5)
    for step in range(start, stop):
        phases(dsd, step)
        batch = slice((step * 8) % 48, (step * 8) % 48 + 8)
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("k", [2, 5, 9])  # resume in the dense, sparse and redense phase
def test_resume_mid_phase_is_bit_identical(name, k, tmp_path):
    model = cnn(seed=4)
    optimizer = OPTIMIZERS[name](model.parameters())
    dsd = DSD(model, optimizer, sparsity=0.5)
    run(model, optimizer, dsd, 0, k)
    path = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "dsd": dsd.state_dict()}, path)
    run(model, optimizer, dsd, k, 12)

    fresh = cnn(seed=99)
    fresh_optimizer = OPTIMIZERS[name](fresh.parameters())
    fresh_dsd = DSD(fresh, fresh_optimizer, sparsity=0.5)
    ckpt = torch.load(path)
    fresh.load_state_dict(ckpt["model"])
    fresh_optimizer.load_state_dict(ckpt["optimizer"])
    fresh_dsd.load_state_dict(ckpt["dsd"])
    assert fresh_dsd.state_dict() == ckpt["dsd"]
    run(fresh, fresh_optimizer, fresh_dsd, k, 12)
    for (n, a), (_, b) in zip(model.named_parameters(), fresh.named_parameters()):
        assert torch.equal(a, b), n
    for (n, a), (_, b) in zip(model.named_buffers(), fresh.named_buffers()):
        assert torch.equal(a, b), n
    assert fresh_dsd.state_dict() == dsd.state_dict()
    dsd.close()
    fresh_dsd.close()


def test_load_state_dict_rejects_bad_state():
    model = cnn()
    dsd = DSD(model, torch.optim.SGD(model.parameters(), lr=0.1))
    good = dsd.state_dict()
    for bad, match in (({**good, "phase": "warm"}, "phase"), ({"phase": "dense"}, "keys"),
                       ([1, 2], "keys"), ({**good, "sparse_rounds": -1}, "sparse_rounds"),
                       ({**good, "lr_factor": 0}, "lr_factor"),
                       ({**good, "sparsity": 1.0, "phase": "sparse"}, "sparsity")):
        with pytest.raises(ValueError, match=match):
            dsd.load_state_dict(bad)
    assert dsd.state_dict() == good
    dsd.close()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"sparsity": 1.0}, ValueError, "sparsity"), ({"sparsity": -0.2}, ValueError, "sparsity"),
    ({"lr_factor": 0.0}, ValueError, "lr_factor"), ({"lr_factor": float("inf")}, ValueError,
                                                    "lr_factor")])
def test_dsd_rejects_bad_arguments(kwargs, error, match):
    model = cnn()
    with pytest.raises(error, match=match):
        DSD(model, torch.optim.SGD(model.parameters(), lr=0.1), **kwargs)
    assert not masked_layers(model)  # checked before the model was converted


def test_dsd_rejects_a_model_without_layers_and_a_non_optimizer():
    model = nn.Sequential(nn.ReLU())
    with pytest.raises(ValueError, match="has no"):
        DSD(model, torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1))
    with pytest.raises(TypeError, match="optimizer"):
        DSD(cnn(), "sgd")


def loader(seed=6, n=40, batch=16):
    x, y = data(seed, n)
    return DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=False)


def test_fit_returns_mean_epoch_losses_and_trains():
    model = cnn(seed=7)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    reference = cnn(seed=7)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    losses = dsd_mod.fit(model, optimizer, loader(), epochs=3, progress=True, desc="fit")
    expected = []
    for _ in range(3):
        total = 0.0
        for x, y in loader():
            reference_optimizer.zero_grad()
            loss = F.cross_entropy(reference(x), y)
            loss.backward()
            reference_optimizer.step()
            total += loss.item() * len(y)
        expected.append(total / 40)
    assert losses == pytest.approx(expected, rel=1e-6)
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match="epochs"):
        dsd_mod.fit(model, optimizer, loader(), epochs=-1)


def test_evaluate_is_accuracy_under_eval_and_restores_the_mode():
    model = nn.Sequential(nn.Linear(64, 3), nn.Dropout(0.9))
    model.train()
    acc = dsd_mod.evaluate(model, [(x.flatten(1), y) for x, y in loader()])
    x, y = data(6, 40)
    model.eval()
    with torch.no_grad():
        expected = (model(x.flatten(1)).argmax(1) == y).sum().item() / len(y)
    model.train()
    assert acc == pytest.approx(expected, abs=1e-12)
    assert model.training
    with pytest.raises(ValueError, match="no sample"):
        dsd_mod.evaluate(model, [])
