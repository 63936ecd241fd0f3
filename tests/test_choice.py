"""The measured algorithm choice inside the ops (csrc/torch/choice.cpp): forced modes run the
candidate they name (seen in torch's profiler), "auto" measures once per problem key and
then reuses the winner, per direction, thread-safely; bad modes are refused by name.
The numerical agreement of both candidates with torch is tested in test_masked_conv.py,
which runs its key tests on each forced candidate."""
import os
import subprocess
import sys
import threading

import pytest
import torch
import torch.nn.functional as F

import dsdkern
from dsdkern import ops


@pytest.fixture
def mode():
    """Restores the process-wide mode and forgets the cached choices after the test."""
    previous = ops.algorithm_choice()
    yield ops.set_algorithm_choice
    ops.set_algorithm_choice(previous)
    ops.clear_algorithm_choices()


def conv_problem(seed, n=2, c=3, hw=9, k=4):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, hw, hw, generator=gen).requires_grad_()
    w = torch.randn(k, c, 3, 3, generator=gen).requires_grad_()
    m = torch.rand(w.shape, generator=gen) < 0.5
    b = torch.randn(k, generator=gen).requires_grad_()
    return x, w, m, b


def run_conv(x, w, m, b):
    y = dsdkern.masked_conv(x, w, m, b, 1, 1)
    y.square().sum().backward()
    return y


def torch_ops_run(fn):
    """Names of the aten ops that fn ran, from torch's profiler."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return {e.name for e in prof.events()}


@pytest.mark.parametrize("forced", ["dsdk", "torch"])
def test_forced_mode_runs_that_candidate(mode, forced):
    mode(forced)
    assert ops.algorithm_choice() == forced
    before = dsdkern._C.algorithm_measurements()
    names = torch_ops_run(lambda: run_conv(*conv_problem(0)))
    ran_torch = {"aten::convolution", "aten::convolution_backward"} <= names
    assert ran_torch == (forced == "torch")
    assert "aten::convolution" not in names or forced == "torch"
    assert dsdkern._C.algorithm_measurements() == before  # forced modes never measure


def keys_with(direction):
    return [c for c in ops.algorithm_choices() if c["key"].startswith(direction + " ")]


def test_auto_measures_each_direction_once_per_key(mode):
    mode("auto")
    ops.clear_algorithm_choices()
    start = dsdkern._C.algorithm_measurements()
    x, w, m, b = conv_problem(1)
    y = run_conv(x, w, m, b)
    choices = ops.algorithm_choices()
    assert [len(keys_with("masked_conv " + d)) for d in
            ("forward", "backward-data", "backward-filter")] == [1, 1, 1]
    assert dsdkern._C.algorithm_measurements() == start + 3
    for c in choices:
        assert c["dsdk_ms"] > 0 and c["torch_ms"] > 0
        faster = "torch" if c["torch_ms"] < c["dsdk_ms"] else "dsdk"
        assert c["algorithm"] == faster, c
    torch.testing.assert_close(y, F.conv2d(x, w * m, b, 1, 1))

    # the same key again: the cache answers, nothing is measured
    run_conv(*conv_problem(2))
    assert dsdkern._C.algorithm_measurements() == start + 3
    assert ops.algorithm_choices() == choices

    # a new shape is a new key; without input grads backward-data is not run
    x, w, m, b = conv_problem(3, hw=11)
    dsdkern.masked_conv(x.detach(), w, m, b, 1, 1).sum().backward()
    assert dsdkern._C.algorithm_measurements() == start + 5
    assert [len(keys_with("masked_conv " + d)) for d in
            ("forward", "backward-data", "backward-filter")] == [2, 1, 2]


def test_key_holds_layout_and_thread_count(mode):
    mode("auto")
    ops.clear_algorithm_choices()
    x, w, m, b = conv_problem(4)
    threads = torch.get_num_threads()
    with torch.no_grad():
        dsdkern.masked_conv(x, w, m, b, 1, 1)
        dsdkern.masked_conv(x.to(memory_format=torch.channels_last), w, m, b, 1, 1)
        torch.set_num_threads(1 if threads > 1 else 2)
        try:
            dsdkern.masked_conv(x, w, m, b, 1, 1)
        finally:
            torch.set_num_threads(threads)
    keys = [c["key"] for c in keys_with("masked_conv forward")]
    assert len(set(keys)) == 3
    assert any(f"threads={threads}" in k for k in keys)


def test_concurrent_first_calls_agree(mode):
    mode("auto")
    ops.clear_algorithm_choices()
    x, w, m, b = (t.detach() for t in conv_problem(5, n=3, hw=13))
    expected = F.conv2d(x, w * m, b, 1, 1)
    results, errors = [], []

    def call():
        try:
            results.append(dsdkern.masked_conv(x, w, m, b, 1, 1))
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 4
    for y in results:
        torch.testing.assert_close(y, expected)
    assert len(keys_with("masked_conv forward")) == 1


def test_bad_mode_is_refused_and_keeps_the_mode(mode):
    mode("dsdk")
    with pytest.raises(RuntimeError, match=r'algorithm choice must be "auto", "dsdk" or '
                                           r'"torch", got "fastest"'):
        ops.set_algorithm_choice("fastest")
    with pytest.raises(TypeError, match="mode must be a str"):
        ops.set_algorithm_choice(None)
    assert ops.algorithm_choice() == "dsdk"


def python_with_env(value, code):
    env = dict(os.environ, DSDKERN_ALGORITHM_CHOICE=value)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)


def test_environment_variable_sets_the_mode():
    done = python_with_env("torch", "import dsdkern; print(dsdkern.ops.algorithm_choice())")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "torch"


def test_bad_environment_variable_is_named():
    code = ("import torch, dsdkern\n"
            "x, w = torch.randn(1, 1, 4, 4), torch.randn(1, 1, 3, 3)\n"
            "dsdkern.masked_conv(x, w, torch.ones(1, 1, 3, 3, dtype=torch.bool))\n")
    done = python_with_env("fast", code)
    assert done.returncode != 0
    assert 'DSDKERN_ALGORITHM_CHOICE must be "auto", "dsdk" or "torch", got "fast"' in done.stderr
