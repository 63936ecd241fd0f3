"""dsdkern.svm.SVC against sklearn.svm.SVC (LIBSVM) as the reference.

The dual objective of every binary problem is recomputed here from the fitted
attributes (dual_coef_, support_vectors_) and sklearn's pairwise kernels, for
both models, so the comparison does not trust either solver's own bookkeeping.
"""
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn import svm as sk_svm
from sklearn.datasets import (load_breast_cancer, load_digits, load_wine, make_blobs,
                              make_classification)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import _ovr_decision_function

from dsdkern import _C
from dsdkern.svm import SVC


def _split(X, y):
    return train_test_split(X, y, test_size=0.25, random_state=0)


def _digits():
    X, y = load_digits(return_X_y=True)
    return _split(X / 16.0, y)


def _scaled(loader):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = _split(X, y)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


DATASETS = {
    "digits": _digits,
    "breast_cancer": lambda: _scaled(load_breast_cancer),
    "wine": lambda: _scaled(load_wine),
}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def fitted(request):
    """(name, data, dsdkern smo model, LIBSVM model) on one data set."""
    Xtr, Xte, ytr, yte = DATASETS[request.param]()
    ours = SVC(C=1.0, kernel="rbf", gamma="scale", tol=1e-3).fit(Xtr, ytr)
    ref = sk_svm.SVC(C=1.0, kernel="rbf", gamma="scale", tol=1e-3).fit(Xtr, ytr)
    return request.param, (Xtr, Xte, ytr, yte), ours, ref


def pair_coefficients(model):
    """Yields ((i, j), rows into support_vectors_, y*alpha) for every class pair,
    read from the LIBSVM one-vs-one layout of dual_coef_."""
    k = len(model.classes_)
    start = np.concatenate([[0], np.cumsum(model.n_support_)])
    dc = model.dual_coef_
    for i in range(k):
        for j in range(i + 1, k):
            rows = np.r_[start[i]:start[i + 1], start[j]:start[j + 1]]
            coef = np.r_[dc[j - 1, start[i]:start[i + 1]], dc[i, start[j]:start[j + 1]]]
            yield (i, j), rows, coef


def dual_objectives(model, kernel_params):
    """½ αᵀQα − Σα per pair, from the fitted attributes: with c = y ⊙ α,
    αᵀQα = cᵀKc and Σα = Σ|c| (sklearn's binary sign flip changes neither)."""
    out = []
    for _, rows, coef in pair_coefficients(model):
        sv = model.support_vectors_[rows]
        K = pairwise_kernels(sv, sv, metric=kernel_params["kernel"],
                             **{k: v for k, v in kernel_params.items() if k != "kernel"})
        out.append(0.5 * coef @ K @ coef - np.abs(coef).sum())
    return np.array(out)


def kernel_params(model):
    kernel = model.kernel
    params = {"kernel": kernel}
    if kernel in ("rbf", "poly", "sigmoid"):
        params["gamma"] = model._gamma
    if kernel in ("poly", "sigmoid"):
        params["coef0"] = model.coef0
    if kernel == "poly":
        params["degree"] = model.degree
    return params


def assert_matches_libsvm(ours, ref, Xte, agreement=0.995, objective_rtol=1e-3, nsv_rtol=0.02):
    same = np.mean(ours.predict(Xte) == ref.predict(Xte))
    assert same >= agreement, f"predictions agree on {same:.4f} of the test points"
    obj_ours = dual_objectives(ours, kernel_params(ours))
    obj_ref = dual_objectives(ref, kernel_params(ref))
    np.testing.assert_allclose(obj_ours, obj_ref, rtol=objective_rtol)
    n_ours, n_ref = ours.support_.size, ref.support_.size
    # within nsv_rtol, and never less than one vector: at tol = 1e-3 a vector with
    # alpha near 0 may be in one solution and not the other
    assert abs(n_ours - n_ref) <= max(nsv_rtol * n_ref, 1), (n_ours, n_ref)


# ---- exact solver against LIBSVM ------------------------------------------------


def test_smo_matches_libsvm(fitted):
    _, (Xtr, Xte, ytr, yte), ours, ref = fitted
    assert_matches_libsvm(ours, ref, Xte)


@pytest.mark.parametrize("seed", range(4))
def test_smo_reaches_libsvms_optimum_at_a_tight_tolerance(seed):
    """At tol = 1e-7 both solvers reach the unique dual optimum: the same objective
    to 1e-8 relative (recomputed in double from each model's attributes) and the
    same support vectors, on seeded two- and three-class problems of several sizes."""
    X, y = make_classification(n_samples=300 + 100 * seed, n_features=8, n_informative=5,
                               n_classes=2 + seed % 2, n_clusters_per_class=1, flip_y=0.05,
                               random_state=seed)
    X = StandardScaler().fit_transform(X)
    params = dict(C=[0.5, 1.0, 2.0, 5.0][seed], kernel="rbf", gamma="scale", tol=1e-7)
    ours, ref = SVC(**params).fit(X, y), sk_svm.SVC(**params).fit(X, y)
    np.testing.assert_allclose(dual_objectives(ours, kernel_params(ours)),
                               dual_objectives(ref, kernel_params(ref)), rtol=1e-8)
    np.testing.assert_array_equal(np.sort(ours.support_), np.sort(ref.support_))


def test_smo_reported_objective_is_the_dual(fitted):
    _, _, ours, _ = fitted
    np.testing.assert_allclose(ours.objective_, dual_objectives(ours, kernel_params(ours)),
                               rtol=1e-6)


def test_fitted_attributes_have_libsvm_layout(fitted):
    _, (Xtr, Xte, ytr, yte), ours, ref = fitted
    k = len(ref.classes_)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.dual_coef_.shape == (k - 1, ours.support_.size)
    assert ours.intercept_.shape == ref.intercept_.shape == (k * (k - 1) // 2,)
    assert ours.n_iter_.shape == ref.n_iter_.shape
    assert ours.n_support_.sum() == ours.support_.size
    assert ours.fit_status_ == 0 and ours.n_features_in_ == Xtr.shape[1]
    np.testing.assert_array_equal(ours.support_vectors_, Xtr[ours.support_])
    # grouped by class, ascending within a class, as LIBSVM
    start = np.concatenate([[0], np.cumsum(ours.n_support_)])
    for c in range(k):
        idx = ours.support_[start[c]:start[c + 1]]
        assert np.all(ytr[idx] == ours.classes_[c]) and np.all(np.diff(idx) > 0)
    # a support vector's coefficients have its label's sign (y_i * alpha_i, class i = +1)
    for (i, j), rows, coef in pair_coefficients(ours):
        sign = -1.0 if k == 2 else 1.0
        labels = ytr[ours.support_[rows]]
        assert np.all(sign * coef[labels == ours.classes_[i]] >= 0)
        assert np.all(sign * coef[labels == ours.classes_[j]] <= 0)


def test_decision_function_matches_libsvm(fitted):
    _, (Xtr, Xte, ytr, yte), ours, ref = fitted
    scale = np.abs(ref.decision_function(Xte)).max()
    for shape in ("ovo", "ovr"):
        ours.set_params(decision_function_shape=shape)
        ref.set_params(decision_function_shape=shape)
        d_ours, d_ref = ours.decision_function(Xte), ref.decision_function(Xte)
        assert d_ours.shape == d_ref.shape
        if shape == "ovo":
            np.testing.assert_allclose(d_ours, d_ref, atol=2e-2 * scale)
    ours.set_params(decision_function_shape="ovr")


def test_ovr_is_sklearns_transform_of_ovo(fitted):
    _, (Xtr, Xte, ytr, yte), ours, _ = fitted
    if len(ours.classes_) == 2:
        assert ours.decision_function(Xte).shape == (len(Xte),)
        pred = ours.classes_[(ours.decision_function(Xte) > 0).astype(int)]
        np.testing.assert_array_equal(pred, ours.predict(Xte))
        return
    ovo = ours.set_params(decision_function_shape="ovo").decision_function(Xte)
    ovr = ours.set_params(decision_function_shape="ovr").decision_function(Xte)
    np.testing.assert_allclose(ovr, _ovr_decision_function(ovo < 0, -ovo, len(ours.classes_)),
                               rtol=1e-12, atol=1e-12)


def test_predict_is_libsvm_voting(fitted):
    _, (Xtr, Xte, ytr, yte), ours, _ = fitted
    k = len(ours.classes_)
    if k == 2:
        return
    ovo = ours.set_params(decision_function_shape="ovo").decision_function(Xte)
    ours.set_params(decision_function_shape="ovr")
    votes = np.zeros((len(Xte), k), dtype=int)
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            votes[:, i] += ovo[:, p] > 0
            votes[:, j] += ovo[:, p] <= 0
            p += 1
    np.testing.assert_array_equal(ours.predict(Xte), ours.classes_[votes.argmax(axis=1)])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_predict_ovo_call_on_libsvms_model(fitted, dtype):
    """svm_predict_ovo on LIBSVM's own fitted model (its unflipped _dual_coef_ and
    _intercept_) gives LIBSVM's one-vs-one decision values and predictions."""
    _, (Xtr, Xte, ytr, yte), _, ref = fitted
    ref.set_params(decision_function_shape="ovo")
    want = ref.decision_function(Xte).reshape(len(Xte), -1)
    ref.set_params(decision_function_shape="ovr")
    if len(ref.classes_) == 2:
        want = -want  # sklearn's binary sign
    winner, dec = _C.svm_predict_ovo(
        torch.tensor(Xte, dtype=dtype), torch.tensor(ref.support_vectors_, dtype=dtype),
        torch.from_numpy(ref.n_support_.astype(np.int64)), torch.from_numpy(ref._dual_coef_),
        torch.from_numpy(ref._intercept_), kernel="rbf", gamma=ref._gamma, with_decision=True)
    assert winner.dtype == torch.int32 and dec.dtype == torch.float64
    tol = 1e-10 if dtype == torch.float64 else 1e-4 * np.abs(ref._dual_coef_).sum()
    err = np.abs(dec.numpy() - want).max()
    assert err <= tol
    clear = (np.abs(want) > 2 * err).all(axis=1)  # no vote within rounding of 0
    np.testing.assert_array_equal(ref.classes_[winner.numpy()][clear], ref.predict(Xte)[clear])
    assert clear.mean() > 0.9
    winner_only, none = _C.svm_predict_ovo(
        torch.tensor(Xte, dtype=dtype), torch.tensor(ref.support_vectors_, dtype=dtype),
        torch.from_numpy(ref.n_support_.astype(np.int64)), torch.from_numpy(ref._dual_coef_),
        torch.from_numpy(ref._intercept_), kernel="rbf", gamma=ref._gamma)
    assert none is None
    torch.testing.assert_close(winner_only, winner)


# ---- approximate solver ---------------------------------------------------------


def test_spsvm_accuracy_close_to_libsvm(fitted):
    name, (Xtr, Xte, ytr, yte), _, ref = fitted
    sp = SVC(solver="spsvm", random_state=0).fit(Xtr, ytr)
    acc, acc_ref = sp.score(Xte, yte), ref.score(Xte, yte)
    assert acc >= acc_ref - 0.005, f"{name}: spsvm {acc:.4f} vs LIBSVM {acc_ref:.4f}"
    assert sp.support_vectors_.shape == (sp.support_.size, Xtr.shape[1])
    assert sp.dual_coef_.shape == (len(sp.classes_) - 1, sp.support_.size)
    np.testing.assert_array_equal(sp.support_vectors_, Xtr[sp.support_])


def test_spsvm_is_reproducible_with_random_state():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    a = SVC(solver="spsvm", random_state=3).fit(Xtr, ytr)
    b = SVC(solver="spsvm", random_state=3).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.support_, b.support_)
    # same basis; threaded reductions may round differently in the last bits
    np.testing.assert_allclose(a.decision_function(Xte), b.decision_function(Xte), rtol=1e-10)


# ---- options --------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    """300 points of breast_cancer, scaled: every kernel converges in well under a second."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return _split(X[:400], y[:400])


@pytest.mark.parametrize("kernel,extra", [("linear", {}), ("poly", {"coef0": 1.0}),
                                          ("rbf", {}), ("sigmoid", {"gamma": 0.01})])
def test_every_kernel_matches_libsvm(small, kernel, extra):
    Xtr, Xte, ytr, yte = small
    params = dict(kernel=kernel, C=1.0, **extra)
    ours = SVC(**params).fit(Xtr, ytr)
    ref = sk_svm.SVC(**params).fit(Xtr, ytr)
    assert_matches_libsvm(ours, ref, Xte, agreement=0.99)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 1: 0.5}])
def test_class_weight_matches_libsvm(small, class_weight):
    Xtr, Xte, ytr, yte = small
    ours = SVC(class_weight=class_weight).fit(Xtr, ytr)
    ref = sk_svm.SVC(class_weight=class_weight).fit(Xtr, ytr)
    np.testing.assert_allclose(ours.class_weight_, ref.class_weight_)
    assert_matches_libsvm(ours, ref, Xte, agreement=0.99)
    # the weights bound alpha by C * w of the point's class
    w = dict(zip(ref.classes_, ref.class_weight_))
    bound = np.array([w[c] for c in ytr[ours.support_]])
    assert np.all(np.abs(ours.dual_coef_[0]) <= bound * (1 + 1e-9))


def test_class_weight_multiclass_matches_libsvm():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    cw = {0: 0.2, 2: 4.0}
    assert_matches_libsvm(SVC(class_weight=cw, C=2.0).fit(Xtr, ytr),
                          sk_svm.SVC(class_weight=cw, C=2.0).fit(Xtr, ytr), Xte)


@pytest.mark.parametrize("gamma", ["auto", 0.05])
def test_gamma_options(small, gamma):
    Xtr, Xte, ytr, yte = small
    ours, ref = SVC(gamma=gamma).fit(Xtr, ytr), sk_svm.SVC(gamma=gamma).fit(Xtr, ytr)
    assert ours._gamma == pytest.approx(ref._gamma, rel=1e-12)
    assert_matches_libsvm(ours, ref, Xte, agreement=0.99)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_float64_input(small, dtype):
    Xtr, Xte, ytr, yte = small
    Xtr, Xte = Xtr.astype(dtype), Xte.astype(dtype)
    ours = SVC().fit(Xtr, ytr)
    ref = sk_svm.SVC().fit(Xtr.astype(np.float64), ytr)
    assert ours.support_vectors_.dtype == np.float64
    assert_matches_libsvm(ours, ref, Xte, agreement=0.99, objective_rtol=2e-3)
    assert ours.decision_function(Xte).dtype == np.float64


def test_torch_cpu_tensors(small):
    Xtr, Xte, ytr, yte = small
    ours_np = SVC().fit(Xtr, ytr)
    ours_t = SVC().fit(torch.from_numpy(Xtr), torch.from_numpy(ytr))
    np.testing.assert_array_equal(ours_t.support_, ours_np.support_)
    np.testing.assert_allclose(ours_t.dual_coef_, ours_np.dual_coef_, rtol=1e-12, atol=0)
    pred = ours_t.predict(torch.from_numpy(Xte))
    assert isinstance(pred, torch.Tensor)
    np.testing.assert_array_equal(pred.numpy(), ours_np.predict(Xte))
    dec = ours_t.decision_function(torch.from_numpy(Xte).float())
    assert isinstance(dec, torch.Tensor) and dec.shape == (len(Xte),)
    np.testing.assert_allclose(dec.numpy(), ours_np.decision_function(Xte), atol=1e-4)
    assert ours_t.score(torch.from_numpy(Xte), torch.from_numpy(yte)) == ours_np.score(Xte, yte)


def test_string_labels_and_thread_counts():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    names = np.array(["barolo", "grignolino", "barbera"])
    ours = SVC(n_jobs=1).fit(Xtr, names[ytr])
    np.testing.assert_array_equal(ours.classes_, np.sort(names))
    ref = SVC(n_jobs=2).fit(Xtr, ytr)
    # classes sort differently, so compare the labels, not the layouts
    np.testing.assert_array_equal(ours.predict(Xte), names[ref.predict(Xte)])
    assert ours.score(Xte, names[yte]) == ref.score(Xte, yte)


def test_pickle_round_trip(fitted):
    _, (Xtr, Xte, ytr, yte), ours, _ = fitted
    blob = pickle.dumps(ours)
    assert b"torch" not in blob  # plain numpy / python state only
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.predict(Xte), ours.predict(Xte))
    np.testing.assert_array_equal(back.decision_function(Xte), ours.decision_function(Xte))


def test_max_iter_stops_early_with_a_warning():
    # More points than one working set holds (a set holding every point is solved
    # to tol in one round, so max_iter counts rounds of several sets here).
    X, y = make_classification(n_samples=1500, n_features=10, flip_y=0.1, random_state=0)
    Xtr, Xte, ytr, yte = _split(X, y)
    with pytest.warns(ConvergenceWarning, match="terminated early"):
        m = SVC(max_iter=2).fit(Xtr, ytr)
    assert m.fit_status_ == 1 and m.n_iter_[0] <= 2
    assert m.predict(Xte).shape == yte.shape


def test_single_point_classes():
    X, y = make_blobs(n_samples=40, centers=3, random_state=0)
    X, y = np.vstack([X, [[30.0, 30.0]]]), np.r_[y, 3]
    ours, ref = SVC().fit(X, y), sk_svm.SVC().fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)


# ---- errors (both solvers; tests/test_svm_cuda.py repeats them on a GPU) ----------

SOLVERS = pytest.mark.parametrize("solver", ["smo", "spsvm"])


@pytest.fixture
def Xy():
    X, y = make_blobs(n_samples=30, centers=2, n_features=3, random_state=0)
    return X, y


@pytest.mark.parametrize("params,match", [
    ({"C": 0.0}, "'C' parameter"), ({"C": -1.0}, "'C' parameter"),
    ({"gamma": 0.0}, "'gamma' parameter"), ({"gamma": -2.0}, "'gamma' parameter"),
    ({"gamma": "magic"}, "'gamma' parameter"),
    ({"kernel": "precomputed"}, "'kernel' parameter"), ({"kernel": "cosine"}, "'kernel'"),
    ({"solver": "newton"}, "'solver' parameter"), ({"device": "tpu"}, "'device' parameter"),
    ({"tol": 0.0}, "'tol' parameter"), ({"degree": 0}, "'degree' parameter"),
    ({"max_iter": 0}, "'max_iter' parameter"), ({"n_jobs": 0}, "'n_jobs' parameter"),
    ({"max_basis": 0}, "'max_basis' parameter"), ({"cache_size": 0}, "'cache_size'"),
    ({"class_weight": "uniform"}, "'class_weight' parameter"),
    ({"decision_function_shape": "ovx"}, "'decision_function_shape'"),
])
@SOLVERS
def test_bad_parameters_raise_value_error(Xy, params, match, solver):
    with pytest.raises(ValueError, match=match):
        SVC(**{"solver": solver, **params}).fit(*Xy)


@pytest.mark.parametrize("bad,match", [(np.nan, "Input X contains NaN"),
                                       (np.inf, "Input X contains infinity")])
@SOLVERS
def test_non_finite_input(Xy, bad, match, solver):
    X, y = Xy
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match=match):
        SVC(solver=solver).fit(X, y)
    with pytest.raises(ValueError, match=match):
        SVC(solver=solver).fit(torch.from_numpy(X), y)
    model = SVC(solver=solver).fit(*Xy)
    for method in (model.predict, model.decision_function):
        with pytest.raises(ValueError, match=match):
            method(X)
        with pytest.raises(ValueError, match=match):
            method(torch.from_numpy(X))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        SVC(solver=solver).fit(Xy[0], np.r_[np.nan, Xy[1][1:]])


@SOLVERS
def test_bad_shapes_and_labels(Xy, solver):
    X, y = Xy
    for single in (np.zeros(len(X)), torch.zeros(len(X))):
        with pytest.raises(ValueError, match="has to be greater than one; got 1 class"):
            SVC(solver=solver).fit(X, single)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SVC(solver=solver).fit(X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SVC(solver=solver).fit(torch.from_numpy(X), torch.from_numpy(y[:-1]))
    with pytest.raises(ValueError, match="0 sample"):
        SVC(solver=solver).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="0 feature"):
        SVC(solver=solver).fit(X[:, :0], y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        SVC(solver=solver).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Unknown label type"):
        SVC(solver=solver).fit(X, y + 0.5)
    unfitted = SVC(solver=solver)
    for call in (lambda: unfitted.predict(X), lambda: unfitted.decision_function(X),
                 lambda: unfitted.score(X, y)):
        with pytest.raises(NotFittedError):
            call()
    model = SVC(solver=solver).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but SVC is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="X has 2 features, but SVC is expecting 3"):
        model.decision_function(torch.from_numpy(X[:, :2]))
    with pytest.raises(ValueError, match="0 sample"):
        model.predict(X[:0])


@pytest.mark.skipif(torch.cuda.is_available() and _C.has_cuda_backend(), reason="has a GPU")
def test_cuda_device_without_gpu_is_a_value_error(Xy):
    with pytest.raises(ValueError, match="device='cuda'"):
        SVC(device="cuda").fit(*Xy)


def test_binding_reports_library_errors():
    X = torch.randn(10, 3, dtype=torch.float64)
    y = torch.ones(10, dtype=torch.int32)
    y[::2] = -1
    with pytest.raises(TypeError, match="int32"):
        _C.svm_train(X, y.long())
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.svm_train(X.half(), y)
    with pytest.raises(ValueError, match="2-D"):
        _C.svm_train(X[0], y)
    with pytest.raises(ValueError, match="contiguous"):
        _C.svm_train(X.t().contiguous().t(), y)
    with pytest.raises(ValueError, match="labels"):
        _C.svm_train(X, y[:5])
    with pytest.raises(ValueError, match="kernel"):
        _C.svm_train(X, y, kernel="cosine")
    # checked by the C library: the message comes from dsdkGetLastErrorMessage
    with pytest.raises(ValueError, match="dsdkSVMTrain.*BAD_PARAM"):
        _C.svm_train(X, y * 2)
    with pytest.raises(ValueError, match="BAD_PARAM.*C must be > 0"):
        _C.svm_train(X, y, C=-1.0)
    with pytest.raises(ValueError, match="same number of features"):
        _C.svm_kernel_matrix(X, X[:, :2].contiguous())
    # svm_predict_ovo: two classes, SV rows [0, 4) and [4, 10)
    ns = torch.tensor([4, 6])
    dc, ic = torch.ones(1, 10, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    with pytest.raises(TypeError, match="SV must have Z's dtype"):
        _C.svm_predict_ovo(X, X.float(), ns, dc, ic)
    with pytest.raises(ValueError, match="same number of features"):
        _C.svm_predict_ovo(X, X[:, :2].contiguous(), ns, dc, ic)
    with pytest.raises(ValueError, match="dual_coef must be"):
        _C.svm_predict_ovo(X, X, ns, dc[:, :5], ic)
    with pytest.raises(ValueError, match="intercept must be"):
        _C.svm_predict_ovo(X, X, ns, dc, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="n_support must be"):
        _C.svm_predict_ovo(X, X, ns.int(), dc, ic)
    with pytest.raises(ValueError, match="BAD_PARAM.*nSupport\\[0\\]"):
        _C.svm_predict_ovo(X, X, torch.tensor([-1, 11]), dc, ic)
    with pytest.raises(ValueError, match="BAD_PARAM.*gamma"):
        _C.svm_predict_ovo(X, X, ns, dc, ic, gamma=-1.0)


def test_kernel_matrix_matches_sklearn():
    rng = np.random.default_rng(0)
    X, Z = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    for kernel, kw in [("linear", {}), ("rbf", {"gamma": 0.3}),
                       ("poly", {"gamma": 0.5, "coef0": 1.0, "degree": 3}),
                       ("sigmoid", {"gamma": 0.1, "coef0": -0.5})]:
        ref = pairwise_kernels(X, Z, metric=kernel, **kw)
        for dtype, tol in [(torch.float64, 1e-12), (torch.float32, 1e-5)]:
            K = _C.svm_kernel_matrix(torch.tensor(X, dtype=dtype), torch.tensor(Z, dtype=dtype),
                                     kernel=kernel, **kw)
            assert K.dtype == dtype and K.shape == (7, 4)
            np.testing.assert_allclose(K.double().numpy(), ref, rtol=tol, atol=tol)
