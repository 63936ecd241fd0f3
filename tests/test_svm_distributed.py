"""SVC(solver="spsvm") over torch.distributed: two gloo processes on CPU, each
with a disjoint shard of the rows, against one process on the concatenation of
the shards; bad input fails on both ranks without a hang."""
import datetime
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification

from dsdkern.svm import SVC
from dist_helpers import free_port, run_ranks

pytestmark = [
    pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                       reason="torch.distributed with gloo is unavailable"),
]

WORLD = 2
TIMEOUT_S = 300
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
def generated():
    X, y = make_classification(n_samples=900, n_features=12, n_informative=6,
                               random_state=3)
    return X[:600], y[:600], X[600:]


def digits_by_class():
    """digits sorted by label: the first shard holds classes 0-4, the second 5-9,
    so each rank lacks half the classes and many pairs have no row on one rank."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = np.argsort(y[:1200], kind="stable")
    return X[order], y[order], X[1200:]


# max_basis = the memory cap: the objective's stop ends the growth (the
# tolerance argument of test_matches_one_process_on_the_concatenated_shards
# rests on it; at the default cap the bases stop on the cap instead).
CASES = {
    "generated": (generated, dict(solver="spsvm", random_state=0, max_basis=4096)),
    "digits": (digits_by_class, dict(solver="spsvm", random_state=0, class_weight="balanced",
                                     max_basis=4096)),
}


def shard(a, rank):
    n = len(a)
    return a[rank * n // WORLD:(rank + 1) * n // WORLD]


def fitted(model, X_test):
    """What the tests compare of a fitted model; `pairwise` are LIBSVM's one-vs-one
    decision values (continuous in the coefficients, unlike the 'ovr' votes)."""
    out = dict(decision=model.decision_function(X_test), predict=model.predict(X_test),
               support=model.support_, objective=model.objective_, gamma=model._gamma,
               class_weight=model.class_weight_, bytes=pickle.dumps(model))
    out["pairwise"] = model._predict_ovo(torch.from_numpy(X_test), with_decision=True)[1].numpy()
    return out


def error_of(fit):
    try:
        fit()
    except Exception as e:  # noqa: BLE001 - the test compares what each rank raised
        return f"{type(e).__name__}: {e}"
    return None


def worker(rank, port, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=WORLD, timeout=datetime.timedelta(seconds=60))
    try:
        result = {}
        X, y, _ = generated()
        Xs, ys = shard(X, rank), shard(y, rank)
        wide = np.hstack([Xs, Xs[:, :1]]) if rank == 1 else Xs
        result["errors"] = {
            "n_features": error_of(lambda: SVC(solver="spsvm").fit(wide, ys)),
            "smo": error_of(lambda: SVC(solver="smo").fit(Xs, ys)),
            "empty": error_of(lambda: SVC(solver="spsvm").fit(Xs[:0] if rank else Xs,
                                                              ys[:0] if rank else ys)),
            "C": error_of(lambda: SVC(solver="spsvm", C=1.0 + rank).fit(Xs, ys)),
            # sklearn's parameter checks fail on rank 0 only: rank 1 must not wait for it
            "bad_C": error_of(lambda: SVC(solver="spsvm", C=-1.0 if rank == 0 else 1.0)
                              .fit(Xs, ys)),
            "bad_seed": error_of(lambda: SVC(solver="spsvm",
                                             random_state="x" if rank else 0).fit(Xs, ys)),
        }
        group = dist.group.WORLD
        result["clone_shares_group"] = clone(SVC(process_group=group)).process_group is group
        result["alone"] = fitted(SVC(solver="spsvm", random_state=0, n_jobs=1,
                                     process_group=None).fit(Xs, ys), X[:50])
        result["after"] = fitted(SVC(solver="spsvm", random_state=0, process_group=group)
                                 .fit(Xs, ys), X[:50])
        for name, (data, params) in CASES.items():
            Xc, yc, X_test = data()
            result[name] = fitted(SVC(**params).fit(shard(Xc, rank), shard(yc, rank)), X_test)
        with open(f"{out}/rank{rank}.pkl", "wb") as f:
            pickle.dump(result, f)
        dist.barrier()  # tear gloo down together (see test_dsd_distributed.py)
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("svm_dist")
    run_ranks(worker, WORLD, out, TIMEOUT_S, "SVM")
    results = []
    for r in range(WORLD):
        with open(out / f"rank{r}.pkl", "rb") as f:
            results.append(pickle.load(f))
    return results


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_rank_ends_with_the_same_model(ranks, name):
    ranks = ranks
    assert ranks[0][name]["bytes"] == ranks[1][name]["bytes"]
    np.testing.assert_array_equal(ranks[0][name]["decision"], ranks[1][name]["decision"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_one_process_on_the_concatenated_shards(ranks, name):
    ranks = ranks
    data, params = CASES[name]
    X, y, X_test = data()
    single = fitted(SVC(**params, process_group=None).fit(X, y), X_test)
    got = ranks[0][name]
    # gamma='scale' and 'balanced' weights come from all rows, not one shard
    assert got["gamma"] == pytest.approx(single["gamma"], rel=1e-12)
    np.testing.assert_allclose(got["class_weight"], single["class_weight"], rtol=1e-15)
    # The ranks add the same terms as one process, in another order: every sum
    # agrees to rounding, but the solver's stop rules are thresholds that a
    # rounding difference can tip. The basis stops growing when F fell by less
    # than 0.1 tol (relative) over the last 10 % of growth, so the two runs may
    # stop a round apart (then F differs by less than 0.1 tol = 1e-4, relative,
    # and the bases by that round's functions); the final Newton steps stop
    # when a step would gain less than 1e-3 tol of F. Measured: objectives
    # within 4e-6, pairwise decision values within 5e-4 of their largest (18
    # of 600 basis functions apart on `generated`, the same basis on digits).
    # An error in the data-parallel sums (a term counted twice or missed)
    # moves them by orders of magnitude more.
    np.testing.assert_allclose(got["objective"], single["objective"], rtol=1e-4)
    both = np.intersect1d(got["support"], single["support"]).size
    assert both >= 0.9 * np.union1d(got["support"], single["support"]).size
    scale = np.abs(single["pairwise"]).max()
    np.testing.assert_allclose(got["pairwise"], single["pairwise"], rtol=0, atol=5e-3 * scale)
    # the predictions differ at most where a pair's decision value is that close to 0
    clear = (np.abs(single["pairwise"]) > 5e-3 * scale).all(axis=1)
    assert clear.mean() > 0.5
    np.testing.assert_array_equal(got["predict"][clear], single["predict"][clear])
    assert (got["predict"] == single["predict"]).mean() >= 0.98


def test_bad_input_fails_on_both_ranks(ranks):
    errors = [r["errors"] for r in ranks]
    assert "ValueError" in errors[1]["n_features"] and "n_features" in errors[0]["n_features"]
    assert "n_features" in errors[1]["n_features"]
    for r in range(WORLD):
        assert "solver='smo' cannot train over a process group" in errors[r]["smo"]
        assert "parameters" in errors[r]["C"]
    assert "InvalidParameterError" in errors[0]["bad_C"] and "'C'" in errors[0]["bad_C"]
    assert "rank 0" in errors[1]["bad_C"] and "'C'" in errors[1]["bad_C"]
    assert "InvalidParameterError" in errors[1]["bad_seed"]
    assert "rank 1" in errors[0]["bad_seed"] and "random_state" in errors[0]["bad_seed"]
    assert "0 sample(s)" in errors[1]["empty"]
    assert "rank 1" in errors[0]["empty"] and "0 sample(s)" in errors[0]["empty"]


def test_the_group_trains_after_the_errors(ranks):
    # nobody was left inside an exchange: an explicit group still trains alike
    ranks = ranks
    assert ranks[0]["after"]["bytes"] == ranks[1]["after"]["bytes"]


def test_process_group_none_trains_each_rank_alone(ranks):
    X, y, _ = generated()
    for r in range(WORLD):
        alone = fitted(SVC(solver="spsvm", random_state=0, n_jobs=1).fit(shard(X, r), shard(y, r)),
                       X[:50])
        # the shard's own model: the other shard would move it far beyond rounding
        np.testing.assert_allclose(ranks[r]["alone"]["decision"], alone["decision"], rtol=1e-10)
        assert ranks[r]["clone_shares_group"]


def test_torchrun_example_runs(ranks):
    ranks
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         "--master_addr=127.0.0.1", f"--master_port={port}",
         os.path.join(ROOT, "examples", "svm_distributed.py")],
        capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "same model on every rank: True" in proc.stdout
    accuracy = float(proc.stdout.split("test accuracy ")[1].split(",")[0])
    assert accuracy > 0.9
