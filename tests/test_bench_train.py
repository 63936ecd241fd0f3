"""The training-step benchmark (dsdkern.bench.train) compares like with like: the three
contenders start from the same weights and masks, compute the same loss, and the masked
and torch-pruned nets take the same SGD step; its memory figures count masks as torch
does; the CLI prints the table and writes JSON."""
import json
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from dsdkern import nn as dnn
from dsdkern.bench.train import NETS, make_setup, prunable, state_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("net", list(NETS))
def test_contenders_take_the_same_step(net):
    s = make_setup(net, batch=4, sparsity=0.9, seed=3)
    losses = {c: F.cross_entropy(n(s.x), s.y).item() for c, n in s.nets.items()}
    assert losses["masked"] == pytest.approx(losses["plain"], rel=1e-5)
    assert losses["prune"] == pytest.approx(losses["plain"], rel=1e-5)
    for c in ("masked", "prune"):
        s.step(c)
    masked = [layer.weight for _, layer in dnn.masked_layers(s.nets["masked"])]
    # prune's `weight` attribute is recomputed at the next forward; W ⊙ M is current
    pruned = [m.weight_orig * m.weight_mask for m in prunable(s.nets["prune"])]
    assert len(masked) == len(pruned) == len(prunable(s.nets["plain"]))
    for wm, wp in zip(masked, pruned):
        torch.testing.assert_close(wm, wp, rtol=1e-5, atol=1e-6)
        kept = (wp != 0).float().mean().item()
        assert 0.05 < kept < 0.15  # ~90 % pruned, and the step kept them at zero


def test_state_bytes_count_parameters_and_buffers():
    s = make_setup("lenet-300-100", batch=2, sparsity=0.9)
    weights = sum(m.weight.numel() for m in prunable(s.nets["plain"]))
    # a bool mask byte per weight beside the float32 weights; prune keeps a float mask
    assert state_bytes(s.nets["masked"]) - state_bytes(s.nets["plain"]) == weights
    assert state_bytes(s.nets["prune"]) - state_bytes(s.nets["plain"]) == 4 * weights


def test_cli_prints_the_table_and_writes_json(tmp_path):
    path = tmp_path / "train.json"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    done = subprocess.run(
        [sys.executable, "-m", "dsdkern", "bench", "train", "--net", "lenet-300-100",
         "--batch", "8", "--warmup", "1", "--repeats", "1", "--steps", "1", "--threads", "1",
         "--json", str(path)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "lenet-300-100" in done.stdout and "masked" in done.stdout
    data = json.loads(path.read_text())
    assert [r["contender"] for r in data["rows"]] == ["masked", "plain", "prune"]
    for r in data["rows"]:
        assert r["batch"] == 8 and r["threads"] == 1 and r["step_ms"] > 0
    assert data["meta"]["algorithm_choice"] in ("auto", "dsdk", "torch")
