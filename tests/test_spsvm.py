"""The approximate solver (solver='spsvm') with default settings against
sklearn.svm.SVC (LIBSVM), and its adaptive basis: it grows while the primal
objective still falls, stops at the tolerance, and never exceeds max_basis.

The primal objective of every binary model is recomputed here from the fitted
attributes and sklearn's pairwise kernels, so the checks do not trust the
solver's own bookkeeping.
"""
import numpy as np
import pytest
from sklearn import svm as sk_svm
from sklearn.datasets import (load_breast_cancer, load_digits, load_iris, load_wine,
                              make_classification)
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from dsdkern.bench import svm as bench
from dsdkern.svm import SVC


def _split(X, y):
    return train_test_split(X, y, test_size=0.25, random_state=0)


def _scaled(X, y):
    Xtr, Xte, ytr, yte = _split(X, y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


DATASETS = {
    "digits": lambda: _split(load_digits().data / 16.0, load_digits().target),
    "breast_cancer": lambda: _scaled(*load_breast_cancer(return_X_y=True)),
    "wine": lambda: _scaled(*load_wine(return_X_y=True)),
    "iris": lambda: _scaled(*load_iris(return_X_y=True)),
    # BENCHMARKS.md's make_classification, as the benchmarks generate it
    "make_classification_7500": lambda: bench.load("7500"),
}


# (data set, max_basis): the packaged sets with the default cap; the generated
# set with the objective alone deciding (4096 = the memory cap). (With the
# default cap of 1024 it is 0.8-1.2 points short there, depending on threads;
# benchmarks/RESULTS.md.)
CASES = [(name, None) for name in sorted(DATASETS) if name != "make_classification_7500"]
CASES += [("make_classification_7500", 4096)]


@pytest.mark.parametrize("name,max_basis", CASES)
def test_spsvm_within_half_a_point_of_libsvm(name, max_basis):
    Xtr, Xte, ytr, yte = DATASETS[name]()
    ref = sk_svm.SVC(C=1.0, kernel="rbf", gamma="scale", tol=1e-3).fit(Xtr, ytr)
    sp = SVC(solver="spsvm", max_basis=max_basis, random_state=0).fit(Xtr, ytr)
    acc, acc_ref = sp.score(Xte, yte), ref.score(Xte, yte)
    assert acc >= acc_ref - 0.005, f"{name}: spsvm {acc:.4f} vs LIBSVM {acc_ref:.4f}"


def _binary_problem(n=1500, seed=0):
    X, y = make_classification(n_samples=n, n_features=10, n_informative=6, flip_y=0.05,
                               random_state=seed)
    return StandardScaler().fit_transform(X), y


def _primal(model, X, y, c=None):
    """F = 1/2 beta' K_SS beta + 1/2 sum_i c_i max(0, 1 - y_i f(x_i))^2 of a
    binary spsvm model, from its attributes (labels as +-1 in classes_ order;
    c_i = C unless given)."""
    gamma = model._gamma
    beta = -model.dual_coef_[0]  # the binary sign flip of LIBSVM's layout
    sv = model.support_vectors_
    f = rbf_kernel(X, sv, gamma=gamma) @ beta - model.intercept_[0]
    t = np.where(y == model.classes_[1], -1.0, 1.0)
    xi = np.maximum(0.0, 1.0 - t * f)
    c = model.C if c is None else c
    return 0.5 * beta @ rbf_kernel(sv, sv, gamma=gamma) @ beta + 0.5 * (c * xi ** 2).sum()


def test_objective_matches_an_independent_recomputation():
    X, y = _binary_problem()
    sp = SVC(solver="spsvm", random_state=0).fit(X, y)
    np.testing.assert_allclose(_primal(sp, X, y), sp.objective_[0], rtol=1e-4)


def test_basis_grows_while_the_objective_improves():
    X, y = _binary_problem()
    # max_basis = every point: the objective alone ends the growth
    loose = SVC(solver="spsvm", tol=0.3, max_basis=len(y), random_state=0).fit(X, y)
    tight = SVC(solver="spsvm", tol=1e-4, max_basis=len(y), random_state=0).fit(X, y)
    assert loose.support_.size < tight.support_.size
    assert _primal(tight, X, y) < _primal(loose, X, y)


def test_basis_stops_at_the_tolerance():
    X, y = _binary_problem()
    tol = 1e-2
    auto = SVC(solver="spsvm", tol=tol, max_basis=len(y), random_state=0).fit(X, y)
    m = auto.support_.size
    assert 2 * m <= len(y), "the objective's stop, not the cap, should end the growth"
    # Forced to twice the basis (no stop before the cap), F falls by little
    # more: the stop saw a relative change below tol per 10 % of growth.
    forced = SVC(solver="spsvm", tol=1e-9, max_basis=2 * m, random_state=0).fit(X, y)
    assert forced.support_.size == 2 * m
    F_auto, F_forced = _primal(auto, X, y), _primal(forced, X, y)
    assert F_forced <= F_auto
    assert (F_auto - F_forced) / F_auto < 10 * tol


@pytest.mark.parametrize("cap", [1, 17, 200])
def test_max_basis_is_honoured(cap):
    X, y = _binary_problem(n=800)
    sp = SVC(solver="spsvm", tol=1e-9, max_basis=cap, random_state=0).fit(X, y)
    assert sp.support_.size == cap


def test_float32_and_float64_input_agree():
    X, y = _binary_problem(n=600)
    a = SVC(solver="spsvm", random_state=1).fit(X, y)
    b = SVC(solver="spsvm", random_state=1).fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.objective_, b.objective_, rtol=1e-6)


def test_end_point_is_the_minimiser_for_its_basis_with_weights():
    # The incrementally kept Newton matrix and its stale factors must still end
    # at the minimiser of F over the basis the solver chose, with sample and
    # class weights in F: checked against a numpy Newton method with the full
    # Hessian rebuilt at every step, on the same F over the same basis functions.
    X, y = make_classification(n_samples=6000, n_features=8, n_informative=5, flip_y=0.05,
                               random_state=3)
    X = StandardScaler().fit_transform(X)
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    sp = SVC(solver="spsvm", max_basis=48, tol=1e-6, class_weight={0: 1.0, 1: 2.0},
             random_state=0).fit(X, y, sample_weight=w)
    assert sp.support_.size == 48
    c = sp.C * w * np.where(y == 1, 2.0, 1.0)
    sv = sp.support_vectors_
    Z = np.hstack([np.ones((len(y), 1)), rbf_kernel(X, sv, gamma=sp._gamma)])
    reg = np.zeros((Z.shape[1], Z.shape[1]))
    reg[1:, 1:] = rbf_kernel(sv, sv, gamma=sp._gamma)
    t = np.where(y == sp.classes_[1], -1.0, 1.0)

    def F(p):  # p = [b, beta] in this test's sign convention, f = Z p
        r = np.maximum(0.0, 1.0 - t * (Z @ p))
        return 0.5 * p @ reg @ p + 0.5 * (c * r * r).sum()

    p = np.zeros(Z.shape[1])
    for _ in range(100):  # semismooth Newton with backtracking on the exact F
        act = t * (Z @ p) < 1
        g = reg @ p + Z[act].T @ (c[act] * (Z[act] @ p - t[act]))
        H = reg + (Z[act] * c[act, None]).T @ Z[act] + 1e-12 * np.eye(len(p))
        d = -np.linalg.solve(H, g)
        step = 1.0
        while F(p + step * d) > F(p) and step > 1e-8:
            step /= 2
        p_new = p + step * d
        if F(p) - F(p_new) <= 1e-15 * F(p):
            break
        p = p_new
    F_model = _primal(sp, X, y, c)
    assert F_model <= F(p) * (1 + 1e-5), (F_model, F(p))
    np.testing.assert_allclose(F_model, sp.objective_[0], rtol=1e-4)
