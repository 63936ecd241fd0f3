"""dsdkern.svm.SVC on a CUDA device against the CPU solver and sklearn.svm.SVC (LIBSVM).

Every test here needs a CUDA device and skips with the reason "no CUDA device" where
there is none. Where a device is visible, a dsdkern build without its CUDA backend is
a failure, not a skip: otherwise a broken CUDA build would pass as "skipped".
"""
import pickle

import numpy as np
import pytest
import torch
from sklearn import svm as sk_svm
from sklearn.datasets import load_breast_cancer, load_wine

from dsdkern import _C
from dsdkern import svm as svm_module
from dsdkern.svm import SVC
from test_svm import _digits, _scaled, dual_objectives, kernel_params

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(autouse=True)
def cuda_backend_built():
    assert _C.has_cuda_backend(), ("a CUDA device is visible but dsdkern was built without "
                                   "its CUDA backend")


def _cuda(a, dtype=torch.float32):
    return torch.tensor(a, dtype=dtype, device="cuda")


def _ovo(model, X):
    dec = model.set_params(decision_function_shape="ovo").decision_function(X)
    model.set_params(decision_function_shape="ovr")
    return dec.cpu().numpy() if isinstance(dec, torch.Tensor) else dec


def assert_decisions_match(gpu, Xte, params, rtol=2e-2):
    """GPU decision values against the CPU solver (float32 input, as the GPU
    sees it) and LIBSVM, on the same settings (and sample weights, if any),
    relative to LIBSVM's scale."""
    Xtr, ytr = params.pop("train")
    w = params.pop("sample_weight", None)
    cpu = SVC(device="cpu", **params).fit(Xtr.astype(np.float32), ytr, sample_weight=w)
    ref = sk_svm.SVC(**params).fit(Xtr, ytr, sample_weight=w)
    d_gpu = _ovo(gpu, _cuda(Xte))
    d_ref = _ovo(ref, Xte)
    scale = np.abs(d_ref).max()
    np.testing.assert_allclose(d_gpu, _ovo(cpu, Xte.astype(np.float32)), atol=rtol * scale)
    np.testing.assert_allclose(d_gpu, d_ref, atol=rtol * scale)
    assert np.mean(gpu.predict(_cuda(Xte)).cpu().numpy() == ref.predict(Xte)) >= 0.99


@pytest.mark.parametrize("data", ["breast_cancer", "digits"])
def test_smo_matches_cpu_and_libsvm(data):
    Xtr, Xte, ytr, yte = _scaled(load_breast_cancer) if data == "breast_cancer" else _digits()
    gpu = SVC().fit(_cuda(Xtr), torch.tensor(ytr, device="cuda"))
    ref = sk_svm.SVC().fit(Xtr, ytr)
    assert abs(gpu.support_.size - ref.support_.size) <= 0.02 * ref.support_.size
    np.testing.assert_allclose(dual_objectives(gpu, kernel_params(gpu)),
                               dual_objectives(ref, kernel_params(ref)), rtol=2e-3)
    pred = gpu.predict(_cuda(Xte))
    assert pred.is_cuda
    assert_decisions_match(gpu, Xte, {"train": (Xtr, ytr)})


@pytest.mark.parametrize("kernel,extra", [("linear", {}), ("poly", {"coef0": 1.0}),
                                          ("rbf", {}), ("sigmoid", {"gamma": 0.01})])
def test_every_kernel(kernel, extra):
    Xtr, Xte, ytr, yte = _scaled(load_breast_cancer)
    params = dict(kernel=kernel, **extra)
    gpu = SVC(device="cuda", **params).fit(Xtr, ytr)
    assert_decisions_match(gpu, Xte, dict(train=(Xtr, ytr), **params))


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.2, 2: 4.0}])
def test_class_weight(class_weight):
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    gpu = SVC(device="cuda", class_weight=class_weight).fit(Xtr, ytr)
    ref = sk_svm.SVC(class_weight=class_weight).fit(Xtr, ytr)
    np.testing.assert_allclose(gpu.class_weight_, ref.class_weight_)
    assert_decisions_match(gpu, Xte, dict(train=(Xtr, ytr), class_weight=class_weight))


def test_smo_sample_weight():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    w = np.random.RandomState(5).uniform(0.05, 4.0, len(ytr))
    gpu = SVC(device="cuda", C=2.0).fit(Xtr, ytr, sample_weight=w)
    assert_decisions_match(gpu, Xte, dict(train=(Xtr, ytr), C=2.0, sample_weight=w))


def test_float64_and_numpy_input_with_device_cuda():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    from_numpy = SVC(device="cuda").fit(Xtr, ytr)  # float64 numpy, trained on the GPU
    from_f64 = SVC().fit(_cuda(Xtr, torch.float64), ytr)
    np.testing.assert_array_equal(from_numpy.support_, from_f64.support_)
    np.testing.assert_allclose(from_numpy.dual_coef_, from_f64.dual_coef_, rtol=1e-6, atol=1e-6)
    dec = from_numpy.decision_function(Xte)
    assert isinstance(dec, np.ndarray)
    np.testing.assert_allclose(dec, from_f64.decision_function(_cuda(Xte)).cpu().numpy(),
                               atol=1e-4)
    assert_decisions_match(from_numpy, Xte, {"train": (Xtr, ytr)})


def test_prediction_in_row_blocks(monkeypatch):
    # The CPU's one-call prediction blocks in C++ (tests/cpp/test_svm.cpp); a GPU's
    # goes through _BLOCK_BYTES-sized kernel blocks here.
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    gpu = SVC(device="cuda").fit(Xtr, ytr)
    whole = _ovo(gpu, _cuda(Xte))
    monkeypatch.setattr(svm_module, "_BLOCK_BYTES", 8 * gpu.support_.size * 7)  # 7 rows
    np.testing.assert_allclose(_ovo(gpu, _cuda(Xte)), whole, rtol=1e-6, atol=1e-6)


def test_spsvm_on_gpu():
    Xtr, Xte, ytr, yte = _scaled(load_breast_cancer)
    ref = sk_svm.SVC().fit(Xtr, ytr)
    cpu = SVC(solver="spsvm", random_state=0, device="cpu").fit(Xtr.astype(np.float32), ytr)
    gpu = SVC(solver="spsvm", random_state=0).fit(_cuda(Xtr), ytr)
    assert gpu.score(_cuda(Xte), yte) >= ref.score(Xte, yte) - 0.005
    # an approximate solver: the decision values agree in sign, not in value
    d_gpu = gpu.decision_function(_cuda(Xte)).cpu().numpy()
    assert np.mean(np.sign(d_gpu) == np.sign(cpu.decision_function(Xte))) >= 0.98
    assert np.mean(np.sign(d_gpu) == np.sign(ref.decision_function(Xte))) >= 0.98


def test_model_fitted_on_gpu_predicts_numpy_and_pickles():
    Xtr, Xte, ytr, yte = _scaled(load_wine)
    gpu = SVC().fit(_cuda(Xtr), ytr)
    back = pickle.loads(pickle.dumps(gpu))
    on_cpu = back.predict(Xte)  # float64 on the host, float32 on the device
    on_gpu = gpu.predict(_cuda(Xte)).cpu().numpy()
    assert np.sum(on_cpu != on_gpu) <= 1
    dec = gpu.decision_function(_cuda(Xte))
    assert dec.is_cuda and dec.shape == (len(Xte), 3)


@pytest.mark.parametrize("solver", ["smo", "spsvm"])
def test_bad_input(solver):
    """The CPU suite's bad inputs (tests/test_svm.py), given as CUDA tensors."""
    g = torch.Generator(device="cuda").manual_seed(0)
    X = torch.randn(20, 3, device="cuda", generator=g)
    y = torch.arange(20, device="cuda") % 2
    for bad, match in [(float("nan"), "Input X contains NaN"),
                       (float("inf"), "Input X contains infinity")]:
        Xb = X.clone()
        Xb[2, 2] = bad
        with pytest.raises(ValueError, match=match):
            SVC(solver=solver).fit(Xb, y)
        with pytest.raises(ValueError, match=match):
            SVC(solver=solver).fit(X, y).predict(Xb)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SVC(solver=solver).fit(X, y[:5])
    with pytest.raises(ValueError, match="greater than one"):
        SVC(solver=solver).fit(X, y * 0)
    with pytest.raises(ValueError, match="0 sample"):
        SVC(solver=solver).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="0 feature"):
        SVC(solver=solver).fit(X[:, :0], y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        SVC(solver=solver).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Unknown label type"):
        SVC(solver=solver).fit(X, y + 0.5)
    for params, match in [({"C": 0.0}, "'C' parameter"), ({"gamma": -1.0}, "'gamma' parameter")]:
        with pytest.raises(ValueError, match=match):
            SVC(solver=solver, **params).fit(X, y)
    if solver == "spsvm":
        with pytest.raises(ValueError, match="sample_weight is not supported"):
            SVC(solver=solver).fit(X, y, sample_weight=np.ones(20))
    model = SVC(solver=solver).fit(X, y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        model.predict(torch.randn(5, 4, device="cuda"))
    with pytest.raises(ValueError, match="0 sample"):
        model.predict(X[:0])
