"""The small-data benchmark of `python -m dsdkern bench svm --small`: its baseline (one
library call per class pair) solves the estimator's problems, and its rows are consistent."""
import numpy as np
import pytest

from dsdkern.bench import svm as bench
from dsdkern.svm import SVC


def test_per_pair_baseline_solves_the_same_problems():
    Xtr, Xte, ytr, yte = bench.load_small("wine")
    model = SVC(**bench.PARAMS, n_jobs=1)
    pairs = bench.fit_per_pair(model, Xtr, ytr)
    model.fit(Xtr, ytr)
    assert len(pairs) == len(model.objective_) == 3
    np.testing.assert_allclose([p[3] for p in pairs], model.objective_, rtol=1e-9)
    assert sum(len(p[0]) for p in pairs) >= model.support_.size


def test_small_rows():
    rows = bench.run_small(1, 1, log=None)
    assert {(r["dataset"], r["contender"]) for r in rows} == {
        (d, c) for d in bench.SMALL_SETS for c in ("smo", "smo, one call per pair", "libsvm")}
    by = {(r["dataset"], r["contender"]): r for r in rows}
    for d in bench.SMALL_SETS:
        ours, ref = by[d, "smo"], by[d, "libsvm"]
        assert ours["accuracy"] == pytest.approx(ref["accuracy"], abs=0.01)
        assert ours["fit_vs_libsvm"] == pytest.approx(ours["fit_s"] / ref["fit_s"])
        assert ours["predict_vs_libsvm"] == pytest.approx(ours["predict_s"] / ref["predict_s"])
    assert "smo, one call per pair" in bench.small_table(rows)
