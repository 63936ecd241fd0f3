"""The training demo (python -m dsdkern demo train): its data and batches, and a --quick run
whose report files exist and whose numbers agree with each other and with the models'
shapes."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from dsdkern.demo import data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_batches_shuffle_each_example_once_per_pass_reproducibly():
    x = torch.arange(23, dtype=torch.float32).reshape(23, 1, 1, 1)
    y = torch.arange(23)
    batches = data.Batches(x, y, 5, seed=7)
    passes = [[(bx.flatten().long().tolist(), by.tolist()) for bx, by in batches]
              for _ in range(2)]
    assert len(batches) == 5 and [len(b[1]) for b in passes[0]] == [5, 5, 5, 5, 3]
    for batches_of_pass in passes:
        seen = [i for bx, by in batches_of_pass for i in by]
        assert [bx for bx, _ in batches_of_pass] == [by for _, by in batches_of_pass]
        np.testing.assert_array_equal(np.sort(seen), np.arange(23))
    assert passes[0] != passes[1]  # a fresh shuffle every pass
    again = [by.tolist() for _, by in data.Batches(x, y, 5, seed=7)]
    assert again == [by for _, by in passes[0]]


def test_datasets_match_their_sources():
    from mnist1d.data import get_dataset_args, make_dataset
    from sklearn.datasets import load_digits

    digits = data.digits()
    x, y = load_digits(return_X_y=True)
    assert digits.x_train.shape[1:] == (1, 8, 8) and digits.features == 64
    assert len(digits.y_train) + len(digits.y_test) == len(y) and digits.classes == 10
    assert float(digits.x_train.max()) <= 1.0 and digits.x_train.dtype == torch.float32
    assert np.bincount(np.concatenate([digits.y_train, digits.y_test])).tolist() \
        == np.bincount(y).tolist()

    signals = data.mnist1d()
    ref = make_dataset(get_dataset_args())
    assert signals.x_train.shape == (len(ref["y"]), 1, 1, 40) and signals.classes == 10
    np.testing.assert_allclose(signals.x_test.reshape(len(ref["y_test"]), -1).numpy(),
                               ref["x_test"].astype(np.float32))
    np.testing.assert_array_equal(signals.y_train.numpy(), ref["y"])


def _mlp_layer_sizes(features, classes):
    return {"fc1": 300 * features, "fc2": 100 * 300, "fc3": classes * 100}


def test_quick_train_demo_writes_a_consistent_report(tmp_path):
    import dsdkern
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(dsdkern.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "dsdkern", "demo", "train", "--quick",
                           "--out", str(out)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]

    for name in ("report.md", "report.json", "han_layers.png", "dsd_accuracy.png",
                 "sensitivity_digits.png", "sensitivity_mnist1d.png"):
        assert (out / name).stat().st_size > 0, name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    report = (out / "report.md").read_text()
    numbers = json.loads((out / "report.json").read_text())

    for r, features in zip(numbers["han"], (64, 40)):
        sizes = _mlp_layer_sizes(features, 10)
        assert set(r["layers"]) == set(sizes)
        kept_weights = sum(r["layers"][name] * n for name, n in sizes.items())
        assert r["kept"] == pytest.approx(kept_weights / sum(sizes.values()))
        assert r["kept"] <= 0.10
        assert r["compression"] == pytest.approx(1 / r["kept"])
        kept_by_round = [x["kept"] for x in r["rounds"]]
        assert kept_by_round == sorted(kept_by_round, reverse=True)
        assert all(k > 0.10 for k in kept_by_round[:-1])  # stops at the first round <= 10 %
        accuracies = [r["dense_accuracy"], r["pruned_accuracy"]] + [x["accuracy"] for x in r["rounds"]]
        accuracies += list(r["sensitivity"]["table"]["fc1"].values())
        assert all(0.0 <= a <= 1.0 for a in accuracies)
        assert r["pruned_accuracy"] == r["rounds"][-1]["accuracy"]
        assert f"{r['kept']:.2%} of the weights kept" in report
        assert f"dense {r['dense_accuracy']:.4f}" in report

    dsd = numbers["dsd"]
    epochs = sum(dsd["epochs"])
    for run in dsd["runs"]:
        assert len(run["dsd"]) == len(run["baseline"]) == epochs
        assert all(0.0 <= a <= 1.0 for a in run["dsd"] + run["baseline"])
        # The two arms share the dense phase.
        assert run["dsd"][:dsd["epochs"][0]] == run["baseline"][:dsd["epochs"][0]]
        layers = run["sparse_layers"]
        assert layers["conv1"] == 1.0  # DSD leaves the first conv dense
        conv2 = 16 * 6 * 5
        assert layers["conv2"] == pytest.approx(1 - round(dsd["sparsity"] * conv2) / conv2)
        assert f"| {run['seed']} | {run['dsd'][-1]:.4f} | {run['baseline'][-1]:.4f} |" in report
