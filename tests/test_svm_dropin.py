"""dsdkern.svm.SVC as a drop-in for sklearn.svm.SVC: sample_weight, probabilities
(probability=True and CalibratedClassifierCV), break_ties and shrinking, each
against sklearn.svm.SVC (LIBSVM) on the same data and settings."""
import warnings

import numpy as np
import pytest
import torch
from sklearn import svm as sk_svm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_wine, make_blobs
from sklearn.exceptions import NotFittedError

from dsdkern.svm import SVC
from dsdkern.svm_platt import couple_pairwise, fit_sigmoid, sigmoid
from test_svm import DATASETS, _scaled, assert_matches_libsvm


@pytest.fixture(scope="module")
def small():
    X, y = load_breast_cancer(return_X_y=True)
    from sklearn.preprocessing import StandardScaler
    X = StandardScaler().fit_transform(X[:300])
    return X, y[:300]


def _weights(n, seed, zeros=0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.2, 3.0, n)
    w[rng.choice(n, zeros, replace=False)] = 0.0
    return w


# ---- sample_weight ----------------------------------------------------------------


@pytest.mark.parametrize("zeros", [0, 40])
def test_sample_weight_smo_matches_libsvm(small, zeros):
    X, y = small
    w = _weights(len(y), 1, zeros)
    ours = SVC(C=2.0).fit(X, y, sample_weight=w)
    ref = sk_svm.SVC(C=2.0).fit(X, y, sample_weight=w)
    assert_matches_libsvm(ours, ref, X, agreement=0.99)
    # Same support vectors. Ours index the whole X (zero-weight rows are never
    # among them); sklearn's index the rows of positive weight (scikit-learn
    # issue 25380), so its indices are mapped back first.
    ref_support = np.flatnonzero(w > 0)[ref.support_]
    np.testing.assert_array_equal(ref.support_vectors_, X[ref_support])
    common = np.intersect1d(ours.support_, ref_support).size
    assert common >= 0.98 * ref.support_.size
    assert np.all(w[ours.support_] > 0)
    # alpha_i is bounded by C * w_i, and the duals agree where both have the vector
    assert np.all(np.abs(ours.dual_coef_[0]) <= 2.0 * w[ours.support_] * (1 + 1e-9))
    ours_coef = dict(zip(ours.support_, ours.dual_coef_[0]))
    ref_coef = dict(zip(ref_support, ref.dual_coef_[0]))
    both = sorted(set(ours_coef) & set(ref_coef))
    np.testing.assert_allclose([ours_coef[i] for i in both], [ref_coef[i] for i in both],
                               atol=0.05 * 2.0 * w.max())


def test_sample_weight_multiclass_and_class_weight_match_libsvm():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    w = _weights(len(ytr), 2, zeros=10)
    params = dict(C=1.5, class_weight={0: 0.5, 2: 2.0})
    ours = SVC(**params).fit(Xtr, ytr, sample_weight=w)
    ref = sk_svm.SVC(**params).fit(Xtr, ytr, sample_weight=w)
    assert_matches_libsvm(ours, ref, Xte)


def test_sample_weight_scales_c(small):
    """LIBSVM's C_i = C w_i: C = 100 with all weights 0.01 is C = 1 (sklearn's own test)."""
    X, y = small
    plain = SVC().fit(X, y)
    scaled = SVC(C=100).fit(X, y, sample_weight=np.full(len(y), 0.01))
    np.testing.assert_array_equal(plain.support_, scaled.support_)
    np.testing.assert_allclose(plain.dual_coef_, scaled.dual_coef_, rtol=1e-6, atol=1e-9)


def test_zero_weight_rows_are_left_out(small):
    X, y = small
    w = _weights(len(y), 3, zeros=50)
    keep = w > 0
    # a fixed gamma: 'scale' reads all of X, zero-weight rows included (as sklearn)
    with_zeros = SVC(gamma=0.05).fit(X, y, sample_weight=w)
    without = SVC(gamma=0.05).fit(X[keep], y[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(with_zeros.support_, np.flatnonzero(keep)[without.support_])
    np.testing.assert_allclose(with_zeros.decision_function(X), without.decision_function(X),
                               rtol=1e-9, atol=1e-9)


def test_sample_weight_spsvm_accuracy(small):
    X, y = small
    w = _weights(len(y), 4, zeros=20)
    ref = sk_svm.SVC().fit(X, y, sample_weight=w)
    sp = SVC(solver="spsvm", random_state=0).fit(X, y, sample_weight=w)
    assert sp.score(X, y) >= ref.score(X, y) - 0.01
    assert np.all(w[sp.support_] > 0)
    # a weight moves the solution: heavy weights on one class shift the predictions
    tilted = np.where(y == 0, 20.0, 0.05)
    heavy = SVC(solver="spsvm", random_state=0).fit(X, y, sample_weight=tilted)
    assert np.mean(heavy.predict(X) == 0) > np.mean(sp.predict(X) == 0)


@pytest.mark.parametrize("solver", ["smo", "spsvm"])
def test_bad_sample_weight_errors_as_sklearn(small, solver):
    X, y = small
    n = len(y)
    cases = [(np.ones(n - 1), "incompatible shapes"),
             (np.zeros(n), "all samples have zero or negative weights"),
             (-np.ones(n), "all samples have zero or negative weights"),
             (np.where(y == 0, 1.0, 0.0), "all samples with positive weights belong to the "
                                          "same class"),
             (np.r_[np.nan, np.ones(n - 1)], "NaN or infinity")]
    for w, match in cases:
        with pytest.raises(ValueError, match=match):
            SVC(solver=solver).fit(X, y, sample_weight=w)
        if "NaN" not in match:  # sklearn gives these messages too
            with pytest.raises(ValueError, match=match):
                sk_svm.SVC().fit(X, y, sample_weight=w)


def test_negative_weights_are_dropped_as_zero(small):
    X, y = small
    w = _weights(len(y), 5)
    w[:30] = -1.0
    ours = SVC().fit(X, y, sample_weight=w)
    ref = sk_svm.SVC().fit(X, y, sample_weight=w)
    assert not np.intersect1d(ours.support_, np.arange(30)).size
    assert_matches_libsvm(ours, ref, X, agreement=0.99)


# ---- probabilities ------------------------------------------------------------------


def test_platt_sigmoid_recovers_a_known_sigmoid():
    rng = np.random.default_rng(0)
    f = rng.normal(size=20000) * 3
    positive = rng.random(f.size) < sigmoid(f, -1.7, 0.4)
    A, B = fit_sigmoid(f, positive)
    assert A == pytest.approx(-1.7, abs=0.1) and B == pytest.approx(0.4, abs=0.1)


def test_pairwise_coupling_recovers_consistent_probabilities():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(5), size=50)
    r = p[:, :, None] / (p[:, :, None] + p[:, None, :])  # r_ij = p_i / (p_i + p_j)
    np.testing.assert_allclose(couple_pairwise(r), p, atol=5e-3)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_probability_true_matches_libsvm(name):
    Xtr, Xte, ytr, yte = DATASETS[name]()
    with pytest.warns(FutureWarning, match="`probability` parameter was deprecated in 1.9"):
        ours = SVC(probability=True, random_state=0).fit(Xtr, ytr)
    with pytest.warns(FutureWarning):
        ref = sk_svm.SVC(probability=True, random_state=0).fit(Xtr, ytr)
    proba = ours.predict_proba(Xte)
    assert proba.shape == (len(Xte), len(ref.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    diff = np.abs(proba - ref.predict_proba(Xte)).mean()
    assert diff <= 0.02, f"{name}: mean |p - p_libsvm| = {diff:.4f}"
    np.testing.assert_allclose(ours.predict_log_proba(Xte), np.log(proba))
    assert ours.probA_.shape == ref._probA.shape


def test_probability_flag_as_sklearn():
    X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = SVC().fit(X, y)  # the default warns about nothing
    assert not hasattr(plain, "predict_proba")
    with pytest.warns(FutureWarning):
        off = SVC(probability=False).fit(X, y)
    assert not hasattr(off, "predict_proba")
    model = SVC(probability=True)
    with pytest.raises(NotFittedError):
        model.predict_proba(X)
    with pytest.warns(FutureWarning):
        model.fit(X, y)
    assert isinstance(model.predict_proba(torch.from_numpy(X)), torch.Tensor)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_calibrated_classifier_cv_matches_libsvm(name):
    Xtr, Xte, ytr, yte = DATASETS[name]()
    ours = CalibratedClassifierCV(SVC(), ensemble=False).fit(Xtr, ytr)
    ref = CalibratedClassifierCV(sk_svm.SVC(), ensemble=False).fit(Xtr, ytr)
    diff = np.abs(ours.predict_proba(Xte) - ref.predict_proba(Xte)).mean()
    assert diff <= 0.02, f"{name}: mean |p - p_libsvm| = {diff:.4f}"
    assert np.mean(ours.predict(Xte) == ref.predict(Xte)) >= 0.99


# ---- break_ties, shrinking ----------------------------------------------------------


def test_break_ties_as_sklearn():
    X, y = make_blobs(n_samples=150, centers=4, cluster_std=3.0, random_state=0)
    ours = SVC(break_ties=True).fit(X, y)
    ref = sk_svm.SVC(break_ties=True).fit(X, y)
    grid = np.random.default_rng(0).uniform(X.min(0), X.max(0), size=(400, 2))
    np.testing.assert_array_equal(ours.predict(grid),
                                  ours.classes_[ours.decision_function(grid).argmax(1)])
    assert np.mean(ours.predict(grid) == ref.predict(grid)) >= 0.99
    # where the vote ties, break_ties can differ from the plain vote
    voted = SVC().fit(X, y).predict(grid)
    assert np.mean(voted == ref.set_params(break_ties=False).predict(grid)) >= 0.99
    with pytest.raises(ValueError, match="break_ties must be False"):
        ours.set_params(decision_function_shape="ovo").predict(grid)


def test_shrinking_is_accepted_and_changes_nothing(small):
    X, y = small
    a, b = SVC(shrinking=True).fit(X, y), SVC(shrinking=False).fit(X, y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_array_equal(a.dual_coef_, b.dual_coef_)
    with pytest.raises(ValueError, match="'shrinking' parameter"):
        SVC(shrinking="yes").fit(X, y)
