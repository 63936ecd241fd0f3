"""Kernel SVM classifier with the scikit-learn estimator API over dsdkern's solvers.

Multi-class problems are split one-vs-one exactly as LIBSVM does, so the fitted
attributes (support_, dual_coef_, intercept_, ...) have sklearn.svm.SVC's layout
and meaning. On the CPU all class pairs train in one dsdkSVMTrainOneVsOne call;
on a GPU each pair is one dsdkSVMTrain call. Prediction on the CPU is one
dsdkSVMPredictOneVsOne call (the kernel against all support vectors once, every
pair's decision value and the votes in C++); on a GPU the kernel matrix
(dsdkSVMKernelMatrix) is summed per class pair. probability=True adds Platt
scaling (svm_platt.py).
"""
import numbers
import os
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _C
from .svm_platt import fit_sigmoid, pairwise_probabilities

__all__ = ["SVC"]

_BLOCK_BYTES = 256 << 20
# LIBSVM's internal cross-validation for probability=True.
_PROBABILITY_FOLDS = 5


def _host_tensor(a):
    # Zero-copy view of a validated array. torch warns about read-only arrays
    # (memmaps); nothing writes through this view.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(a)


def _to_numpy(a):
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _check_device_matrix(X, n_features=None):
    """Validates a CUDA tensor on its device (sklearn's rules and messages) and
    returns it as a contiguous float32 matrix, the CUDA solvers' type."""
    if X.dim() != 2:
        raise ValueError(f"Expected 2D array, got a {X.dim()}-D tensor of shape "
                         f"{tuple(X.shape)} instead.")
    if X.is_complex():
        raise ValueError("Complex data not supported")
    n, d = X.shape
    if n < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a "
                         "minimum of 1 is required by SVC.")
    if d < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={tuple(X.shape)}) while a "
                         "minimum of 1 is required by SVC.")
    X = X.detach().to(torch.float32).contiguous()
    if not bool(torch.isfinite(X).all()):
        if bool(torch.isnan(X).any()):
            raise ValueError("Input X contains NaN.")
        raise ValueError("Input X contains infinity or a value too large for dtype('float32').")
    if n_features is not None and d != n_features:
        raise ValueError(f"X has {d} features, but SVC is expecting {n_features} features "
                         "as input.")
    return X


def _check_device_labels(y, n, device):
    """Validates labels given as a tensor for a CUDA fit; returns (classes_, codes)."""
    y = y.detach().to(device)
    if y.dim() == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples, ), for example using ravel().",
                      DataConversionWarning, stacklevel=3)
        y = y[:, 0]
    if y.dim() != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {tuple(y.shape)} "
                         "instead.")
    if y.shape[0] != n:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"[{n}, {y.shape[0]}]")
    if y.is_complex():
        raise ValueError("Complex data not supported")
    if y.is_floating_point():
        if not bool(torch.isfinite(y).all()):
            raise ValueError("Input y contains NaN or infinity.")
        if not bool((y == y.round()).all()):
            raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a "
                             "classifier, which expects discrete classes on a regression "
                             "target with continuous values.")
    classes, codes = torch.unique(y, sorted=True, return_inverse=True)
    return classes.cpu().numpy(), codes


class SVC(ClassifierMixin, BaseEstimator):
    """C-support vector classification trained by dsdkern (CPU or CUDA).

    Parameters follow sklearn.svm.SVC where they share a name.

    Parameters
    ----------
    C : float > 0, default=1.0
        Penalty of the hinge loss (LIBSVM's C); class_weight multiplies it per class.
    kernel : {'linear', 'poly', 'rbf', 'sigmoid'}, default='rbf'
    degree : int >= 1, default=3
        Degree of the 'poly' kernel.
    gamma : {'scale', 'auto'} or float > 0, default='scale'
        'scale' is 1 / (n_features * X.var()), 'auto' is 1 / n_features.
    coef0 : float, default=0.0
        Independent term of the 'poly' and 'sigmoid' kernels.
    tol : float > 0, default=1e-3
        Stopping tolerance (SMO: maximal KKT violation, as LIBSVM; spsvm: the
        basis stops growing once the primal objective falls by less than tol,
        relative, while the basis grows by 10 %).
    cache_size : float > 0, default=200
        Kernel-row cache of each binary problem, in MB.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies C per class; 'balanced' uses n_samples / (n_classes * bincount(y)).
    max_iter : int, default=-1
        Outer-iteration limit per binary problem, -1 for none (SMO: working-set
        rounds, and a set that holds the whole problem is solved to tol in one
        round; spsvm: basis-growth rounds).
    solver : {'smo', 'spsvm'}, default='smo'
        'smo': exact dual solver (parallel SMO with second-order working-set
        selection, LIBSVM's solution). 'spsvm': approximate sparse primal solver
        (Keerthi et al. 2006); its basis vectors play the role of support vectors.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where training and prediction run; 'auto' trains on CUDA when X is a
        CUDA tensor. The CUDA solvers work in float32.
    n_jobs : int or None, default=None
        CPU threads; None uses torch.get_num_threads(), -1 all cores. On the GPU
        they serve the host's share (the 'spsvm' Newton solves).
    max_basis : int >= 1 or None, default=None
        Largest basis of the 'spsvm' solver per binary problem; the objective's
        stop (see tol) may end the growth earlier. None: 1024 functions up to
        50000 points, 2304 above, a quarter of the points (at least 64) on small
        problems, and never more than memory allows ((cap + 1) x n float32 kernel
        rows within 1 GiB, at most 4096). A larger max_basis lets the objective
        decide: more accurate, but much slower at tens of thousands of points.
    random_state : int, RandomState instance or None, default=None
        Seeds the 'spsvm' candidate sampling.
    verbose : bool, default=False
        Print one line per binary problem.
    decision_function_shape : {'ovr', 'ovo'}, default='ovr'
    shrinking : bool, default=True
        Accepted for sklearn compatibility; changes nothing. LIBSVM's shrinking
        drops bounded variables from the gradient work; our SMO instead works
        each round on a working set of the largest violators and updates the
        whole gradient in one batched pass, which plays that role.
    probability : bool, default='deprecated'
        Deprecated as in sklearn 1.9 (the same FutureWarning when it is set); use
        ``CalibratedClassifierCV(SVC(), ensemble=False)``. True fits Platt's
        sigmoid per class pair on decision values of an internal 5-fold
        cross-validation, as LIBSVM does, for predict_proba / predict_log_proba.
    break_ties : bool, default=False
        With decision_function_shape='ovr' and more than two classes, predict
        returns the argmax of decision_function instead of the one-vs-one vote.
    process_group : 'auto', torch.distributed ProcessGroup or None, default='auto'
        Data-parallel training (svm_dist.py): fit then takes this rank's shard
        of the rows, and every rank of the group ends with the same model,
        trained on all ranks' rows. 'auto' uses the default group when one is
        initialised with more than one rank; None trains on this process's
        data alone. Needs solver='spsvm' on the CPU without sample_weight or
        probability; support_ then numbers the rows of all shards in rank order.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    support_ : ndarray of shape (n_SV,)
        Indices of the support (basis) vectors in the training set, grouped by class.
    support_vectors_ : ndarray of shape (n_SV, n_features), float64
    n_support_ : ndarray of shape (n_classes,), int32
    dual_coef_ : ndarray of shape (n_classes - 1, n_SV)
        y_i * alpha_i (SMO) or the basis weights (spsvm), in LIBSVM's one-vs-one layout.
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
    objective_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Final objective of each binary problem: LIBSVM's dual objective (SMO) or
        the primal objective (spsvm).
    class_weight_ : ndarray of shape (n_classes,)
    n_iter_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
    fit_status_ : int
        0 when every binary problem converged, 1 when max_iter stopped one.
    probA_, probB_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Platt's sigmoid per pair, P(i | f) = 1 / (1 + exp(probA_ f + probB_)) on
        LIBSVM's decision values; only with probability=True.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X had string feature names (a DataFrame).

    Inputs may be array-likes or torch tensors. For a torch tensor input the
    outputs of predict and decision_function are torch tensors on its device
    (string labels stay a numpy array).
    """

    _parameter_constraints: dict = {
        "C": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "kernel": [StrOptions({"linear", "poly", "rbf", "sigmoid"})],
        "degree": [Interval(numbers.Integral, 1, None, closed="left")],
        "gamma": [StrOptions({"scale", "auto"}),
                  Interval(numbers.Real, 0.0, None, closed="neither")],
        "coef0": [Interval(numbers.Real, None, None, closed="neither")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "cache_size": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "max_iter": [Options(numbers.Integral, {-1}),
                     Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [StrOptions({"smo", "spsvm"})],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "n_jobs": [Interval(numbers.Integral, None, -1, closed="right"),
                   Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_basis": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
        "shrinking": ["boolean"],
        "probability": ["boolean", Hidden(StrOptions({"deprecated"}))],
        "break_ties": ["boolean"],
        "process_group": [StrOptions({"auto"}), HasMethods(["rank", "size"]), None],
    }

    def __init__(self, *, C=1.0, kernel="rbf", degree=3, gamma="scale", coef0=0.0, tol=1e-3,
                 cache_size=200, class_weight=None, max_iter=-1, solver="smo", device="auto",
                 n_jobs=None, max_basis=None, random_state=None, verbose=False,
                 decision_function_shape="ovr", shrinking=True, probability="deprecated",
                 break_ties=False, process_group="auto"):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.cache_size = cache_size
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.solver = solver
        self.device = device
        self.n_jobs = n_jobs
        self.max_basis = max_basis
        self.random_state = random_state
        self.verbose = verbose
        self.decision_function_shape = decision_function_shape
        self.shrinking = shrinking
        self.probability = probability
        self.break_ties = break_ties
        self.process_group = process_group

    def _has_group_object(self):
        return not (self.process_group is None or isinstance(self.process_group, str))

    def __getstate__(self):
        """A ProcessGroup cannot be pickled: a model saved with one loads with
        process_group=None (its fitted state is complete without the group)."""
        state = super().__getstate__()
        return dict(state, process_group=None) if self._has_group_object() else state

    def __sklearn_clone__(self):
        """sklearn's clone; a ProcessGroup, which cannot be deep-copied, is shared."""
        if not self._has_group_object():
            return super().__sklearn_clone__()
        group = self.process_group
        try:
            self.process_group = None
            twin = super().__sklearn_clone__()
        finally:
            self.process_group = group
        twin.process_group = group
        return twin

    # ---- devices and threads ------------------------------------------------

    def _cuda_device(self, X):
        """The CUDA device to run on, or None for the CPU."""
        if self.device == "cpu":
            return None
        if self.device == "auto":
            return X.device if isinstance(X, torch.Tensor) and X.is_cuda else None
        if not (_C.has_cuda_backend() and torch.cuda.is_available()):
            raise ValueError("device='cuda' needs a CUDA device and a dsdkern build with its "
                             "CUDA backend; use device='cpu' or 'auto'.")
        return X.device if isinstance(X, torch.Tensor) and X.is_cuda else torch.device("cuda")

    def _num_threads(self):
        if self.n_jobs is None:
            return 0  # the binding then uses torch.get_num_threads()
        if self.n_jobs < 0:
            return max(1, (os.cpu_count() or 1) + 1 + self.n_jobs)
        return self.n_jobs

    def _kernel_args(self):
        return dict(kernel=self.kernel, gamma=self._gamma, coef0=float(self.coef0),
                    degree=int(self.degree))

    # ---- fit ------------------------------------------------------------------

    def _validate_fit(self, X, y):
        """Returns (X as a torch matrix on the training device, int64 class codes on
        that device, classes_)."""
        device = self._cuda_device(X)
        if device is not None and isinstance(X, torch.Tensor) and X.is_cuda:
            Xt = _check_device_matrix(X)
            if isinstance(y, torch.Tensor):
                classes, codes = _check_device_labels(y, Xt.shape[0], Xt.device)
            else:
                y = column_or_1d(y, warn=True)
                if y.shape[0] != Xt.shape[0]:
                    raise ValueError("Found input variables with inconsistent numbers of "
                                     f"samples: [{Xt.shape[0]}, {y.shape[0]}]")
                check_classification_targets(y)
                classes, codes = np.unique(y, return_inverse=True)
                codes = torch.from_numpy(codes).to(Xt.device)
            self.n_features_in_ = Xt.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return Xt, codes, classes
        X = _to_numpy(X) if isinstance(X, torch.Tensor) else X
        y = _to_numpy(y) if isinstance(y, torch.Tensor) else y
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], order="C")
        # A 1-D integer or bool y is always 'binary' or 'multiclass', both accepted:
        # type_of_target would spend ~0.1 ms (a third of a small fit's Python) to say so.
        if y.dtype.kind not in "biu":
            check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        Xt = _host_tensor(X)
        if device is not None:
            Xt = Xt.to(device=device, dtype=torch.float32)
        return Xt, torch.from_numpy(codes.astype(np.int64)).to(Xt.device), classes

    def _validate_sample_weight(self, sample_weight, n, on_cuda):
        """sklearn's checks of sample_weight; returns float64 weights or None."""
        if sample_weight is None:
            return None
        if on_cuda and self.solver == "spsvm":
            raise ValueError("sample_weight is not supported by solver='spsvm' on a CUDA "
                             "device; use solver='smo' or device='cpu'.")
        w = np.asarray(_to_numpy(sample_weight), dtype=np.float64)
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError("sample_weight and X have incompatible shapes: %r vs %r"
                             % (w.shape, (n,)))
        if not np.all(np.isfinite(w)):
            raise ValueError("Input sample_weight contains NaN or infinity.")
        # LIBSVM drops rows of weight <= 0 and refuses what is left if unusable.
        if not np.any(w > 0):
            raise ValueError("Invalid input - all samples have zero or negative weights.")
        return w

    def _effective_probability(self):
        """probability as sklearn 1.9 reads it, with its deprecation warning."""
        if self.probability == "deprecated":
            return False
        warnings.warn("The `probability` parameter was deprecated in 1.9 and will be removed "
                      "in version 1.11. Use `CalibratedClassifierCV(SVC(), ensemble=False)` "
                      "instead of `SVC(probability=True)`", FutureWarning)
        return bool(self.probability)

    def _train_binary(self, X, y, w, weight_pos, weight_neg, seed, process_group=""):
        """One binary problem on rows X (labels y = +1 / -1, int32 on X's device,
        sample weights w as float64 numpy or None; process_group: a group's name
        when X is this rank's shard); returns dsdkern's (index, coef, bias,
        objective, iterations, converged)."""
        return _C.svm_train(
            X, y, C=float(self.C), tol=float(self.tol), max_iter=int(self.max_iter),
            cache_bytes=int(self.cache_size * (1 << 20)), weight_pos=float(weight_pos),
            weight_neg=float(weight_neg), solver=self.solver,
            max_basis=int(self.max_basis or 0), seed=seed % (1 << 31),
            num_threads=self._num_threads(),
            sample_weight=None if w is None else torch.from_numpy(np.ascontiguousarray(w)),
            process_group=process_group, **self._kernel_args())

    @staticmethod
    def _pair_problem(codes, w, i, j):
        """Rows of classes i and j (ascending, on codes' device), their labels
        (+1 for class i, int32) and sample weights (numpy or None)."""
        rows = torch.nonzero((codes == i) | (codes == j)).squeeze(1)
        yp = torch.where(codes.index_select(0, rows) == i, 1, -1).to(torch.int32)
        return rows, yp, None if w is None else w[rows.cpu().numpy()]

    def _cross_validated_decisions(self, X, y, w, weight_pos, weight_neg, seed):
        """LIBSVM's decision values for Platt scaling: each row's value from a
        model trained on the other folds of a random split into 5."""
        n = X.shape[0]
        perm = np.random.RandomState(seed).permutation(n)
        dec = np.empty(n)
        y_host = y.cpu().numpy()
        for f in range(_PROBABILITY_FOLDS):
            held = perm[f * n // _PROBABILITY_FOLDS:(f + 1) * n // _PROBABILITY_FOLDS]
            rest = np.setdiff1d(np.arange(n), held, assume_unique=True)
            pos = int((y_host[rest] > 0).sum())
            if pos == 0 or pos == rest.size:
                # one class left to train on: LIBSVM's constant answer for it
                dec[held] = 0.0 if rest.size == 0 else (1.0 if pos else -1.0)
                continue
            rest_t = torch.from_numpy(rest).to(X.device)
            Xr = X.index_select(0, rest_t)
            index, coef, bias, *_ = self._train_binary(
                Xr, y.index_select(0, rest_t), None if w is None else w[rest],
                weight_pos, weight_neg, seed + f + 1)
            sv = Xr.index_select(0, index.to(X.device))
            K = _C.svm_kernel_matrix(X.index_select(0, torch.from_numpy(held).to(X.device)), sv,
                                     num_threads=self._num_threads(), **self._kernel_args())
            dec[held] = (K.to(torch.float64) @ coef.to(K.device)).cpu().numpy() + bias
        return dec

    def _validate_params(self):
        """sklearn's parameter checks (run by fit's _fit_context). A rank that trains over a
        process group keeps a failure for fit, which raises it on every rank together: raised
        here alone, it would leave the other ranks waiting in the group's first exchange."""
        try:
            super()._validate_params()
        except Exception as error:
            from .svm_dist import resolve_group
            try:
                group = resolve_group(self.process_group)
            except Exception:  # the group itself is what is wrong: no exchange can start
                group = None
            if group is None:
                raise
            self._param_error = error

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fits one binary SVM per pair of classes.

        X : array-like or torch tensor of shape (n_samples, n_features)
            float32 or float64. The solvers compute kernel values in float32
            (as LIBSVM caches them; smo with float64 input and tol < 1e-4
            keeps float64 kernel rows) and the dual variables, gradients,
            Newton systems and objective in float64; prediction uses X's dtype.
            A CUDA tensor trains on its device.
        y : array-like or torch tensor of shape (n_samples,), class labels.
        sample_weight : array-like of shape (n_samples,) or None
            Multiplies C per sample (LIBSVM's instance weights: row i's C is
            C * class_weight_[y_i] * sample_weight[i]). Rows of weight <= 0 are
            left out of training, as LIBSVM does. On a CUDA device only solver='smo'
            takes them.
        """
        from .svm_dist import fit as fit_over_group, resolve_group
        param_error = self.__dict__.pop("_param_error", None)
        group = resolve_group(self.process_group)
        if group is not None:
            return fit_over_group(self, group, X, y, sample_weight, param_error)
        probability = self._effective_probability()
        Xt, codes, classes = self._validate_fit(X, y)
        k = len(classes)
        if k < 2:
            raise ValueError("The number of classes has to be greater than one; got %d class"
                             % k)
        w = self._validate_sample_weight(sample_weight, Xt.shape[0], Xt.is_cuda)
        if w is not None and not np.all(w > 0):
            kept = np.unique(codes.cpu().numpy()[w > 0])
            if kept.size < 2:
                raise ValueError("Invalid input - all samples with positive weights belong to "
                                 "the same class.")
            if kept.size < k:
                missing = classes[np.setdiff1d(np.arange(k), kept)]
                raise ValueError(f"sample_weight: classes {list(missing)} have no sample with "
                                 "a positive weight; leave them out of y.")
        self.classes_ = classes
        if self.class_weight is None:
            self.class_weight_ = np.ones(k)
        else:
            labels = classes[codes.cpu().numpy()]
            self.class_weight_ = compute_class_weight(self.class_weight, classes=classes,
                                                      y=labels)
        # numpy on the host (sklearn's arithmetic, and no thread team for a
        # reduction this small); torch on a GPU.
        self._set_gamma(Xt.shape[1], lambda: float(Xt.var(correction=0) if Xt.is_cuda
                                                   else Xt.numpy().var(dtype=np.float64)))
        seed = self._draw_seed()

        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        # LIBSVM leaves rows of weight <= 0 out; kept maps the rest back to X's rows.
        kept = None if w is None or np.all(w > 0) else np.flatnonzero(w > 0)
        if kept is None:
            Xu, cu, wu = Xt, codes, w
        else:
            kept_t = torch.from_numpy(kept).to(Xt.device)
            Xu, cu, wu = Xt.index_select(0, kept_t), codes.index_select(0, kept_t), w[kept]
        if Xu.is_cuda:
            results = []
            for p, (i, j) in enumerate(pairs):
                rows, yp, wp = self._pair_problem(cu, wu, i, j)
                index, *rest = self._train_binary(Xu.index_select(0, rows), yp, wp,
                                                  self.class_weight_[i], self.class_weight_[j],
                                                  seed + p)
                results.append((rows.index_select(0, index.to(rows.device)), *rest))
        else:
            results = _C.svm_train_ovo(
                Xu, cu.to(torch.int32), k, class_weight=torch.from_numpy(self.class_weight_),
                solver=self.solver, C=float(self.C), tol=float(self.tol),
                max_iter=int(self.max_iter), cache_bytes=int(self.cache_size * (1 << 20)),
                max_basis=int(self.max_basis or 0), seed=seed % (1 << 31),
                num_threads=self._num_threads(),
                sample_weight=None if wu is None else torch.from_numpy(wu),
                **self._kernel_args())
        fits, prob_a, prob_b = [], [], []
        codes_host = cu.cpu().numpy()  # host bookkeeping: numpy costs less per pair than torch
        for p, ((i, j), (index, coef, bias, objective, iterations, converged)) in enumerate(
                zip(pairs, results)):
            index = index.cpu().numpy()
            of_i = codes_host[index] == i
            orig = index if kept is None else kept[index]
            fits.append((orig, of_i, coef.numpy(), bias, objective, iterations, converged))
            if probability:
                rows, yp, wp = self._pair_problem(cu, wu, i, j)
                dec = self._cross_validated_decisions(
                    Xu.index_select(0, rows), yp, wp, self.class_weight_[i],
                    self.class_weight_[j], seed + p)
                a, b = fit_sigmoid(dec, (yp > 0).cpu().numpy())
                prob_a.append(a)
                prob_b.append(b)
            if self.verbose:
                print(f"[dsdkern.SVC] classes ({i}, {j}): {self.solver} "
                      f"nSV={len(orig)} iterations={iterations} objective={objective:.6g} "
                      f"converged={converged}")
        self._store_model(lambda support: Xt.index_select(
            0, torch.from_numpy(support.astype(np.int64)).to(Xt.device)).to(torch.float64)
            .cpu().numpy(), k, pairs, fits)
        self._probA = np.array(prob_a, dtype=np.float64)
        self._probB = np.array(prob_b, dtype=np.float64)
        return self

    def _set_gamma(self, d, variance):
        """The kernel's gamma for d features; variance() is that of all of X's
        values, asked for by gamma='scale' only."""
        if self.gamma == "scale":
            var = variance()
            self._gamma = 1.0 / (d * var) if var != 0 else 1.0
        elif self.gamma == "auto":
            self._gamma = 1.0 / d
        else:
            self._gamma = float(self.gamma)

    def _draw_seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo("i").max))

    def _store_model(self, vectors, k, pairs, fits):
        """Lays the binary models out as LIBSVM does: support vectors grouped by
        class; a vector of class c keeps its coefficient for the pair (c, o) in
        row o if o < c, else in row o - 1. vectors(support) gives the float64
        coordinates of the training rows `support` (ascending within each class)."""
        per_class = [[] for _ in range(k)]
        for (i, j), (orig, of_i, *_rest) in zip(pairs, fits):
            per_class[i].append(orig[of_i])
            per_class[j].append(orig[~of_i])
        sv = [np.unique(np.concatenate(c)) for c in per_class]
        support = np.concatenate(sv).astype(np.int32)
        order = np.argsort(support, kind="stable")
        dual_coef = np.zeros((k - 1, len(support)))
        for (i, j), (orig, of_i, coef, *_rest) in zip(pairs, fits):
            at = order[np.searchsorted(support[order], orig)]
            dual_coef[j - 1, at[of_i]] = coef[of_i]
            dual_coef[i, at[~of_i]] = coef[~of_i]

        self.support_ = support
        self.support_vectors_ = vectors(support)
        self.n_support_ = np.array([len(c) for c in sv], dtype=np.int32)
        self._dual_coef_ = dual_coef
        self._intercept_ = np.array([f[3] for f in fits], dtype=np.float64)
        # What svm_predict_ovo takes, made once here (numpy, so that a pickle holds
        # no torch state): predict must not change the estimator (sklearn's
        # check_dict_unchanged), and converting per call costs.
        self._ovo_operands = dict(
            sv={"float64": self.support_vectors_,
                "float32": self.support_vectors_.astype(np.float32)},
            n_support=self.n_support_.astype(np.int64), dual_coef=dual_coef,
            intercept=self._intercept_, pair_i=np.array([i for i, _ in pairs], dtype=np.int64),
            pair_j=np.array([j for _, j in pairs], dtype=np.int64))
        self.objective_ = np.array([f[4] for f in fits], dtype=np.float64)
        self.n_iter_ = np.array([f[5] for f in fits], dtype=np.int32)
        self.fit_status_ = 0 if all(f[6] for f in fits) else 1
        # sklearn's binary convention: positive decision values mean classes_[1].
        sign = -1.0 if k == 2 else 1.0
        self.dual_coef_ = sign * dual_coef
        self.intercept_ = sign * self._intercept_
        if self.fit_status_:
            warnings.warn("Solver terminated early (max_iter=%i).  Consider pre-processing "
                          "your data with StandardScaler or MinMaxScaler." % self.max_iter,
                          ConvergenceWarning)

    # ---- prediction -----------------------------------------------------------

    def _validate_predict(self, X):
        """Returns (X as a torch matrix on the prediction device, the device of the
        outputs or None for numpy outputs)."""
        check_is_fitted(self)
        if isinstance(X, torch.Tensor):
            out = X.device
            if X.is_cuda and self.device != "cpu":
                return _check_device_matrix(X, self.n_features_in_), out
            X = _to_numpy(X)
        else:
            out = None
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=False)
        Xt = _host_tensor(X)
        if self.device == "cuda":
            Xt = Xt.to(device=self._cuda_device(X), dtype=torch.float32)
        return Xt, out

    def _predict_ovo(self, Xt, with_decision):
        """(winner class codes by one-vs-one vote, pairwise decision values f_ij(x) > 0
        for class i of shape (n, n_pairs) or None unless with_decision). On the CPU
        one library call (svm_predict_ovo); on a GPU the kernel against all
        support vectors in blocks that stay near _BLOCK_BYTES, summed per pair."""
        ops = self._ovo_operands
        if Xt.device.type == "cpu":
            sv = ops["sv"][str(Xt.dtype)[len("torch."):]]
            return _C.svm_predict_ovo(
                Xt, *(torch.from_numpy(a) for a in (sv, ops["n_support"], ops["dual_coef"],
                                                    ops["intercept"])),
                with_decision=with_decision, num_threads=self._num_threads(),
                **self._kernel_args())
        k = len(self.classes_)
        sv = torch.from_numpy(self.support_vectors_).to(Xt.device, Xt.dtype).contiguous()
        # Sums on a GPU in the kernel's float32.
        dc = torch.from_numpy(self._dual_coef_).to(Xt.device, Xt.dtype)
        start = np.concatenate([[0], np.cumsum(self.n_support_)])
        dec = torch.empty((Xt.shape[0], len(self._intercept_)), dtype=Xt.dtype, device=Xt.device)
        block = max(1, _BLOCK_BYTES // (8 * max(1, sv.shape[0])))
        for r0 in range(0, Xt.shape[0], block):
            K = _C.svm_kernel_matrix(Xt[r0:r0 + block], sv, num_threads=self._num_threads(),
                                     **self._kernel_args())
            out = dec[r0:r0 + block]
            p = 0
            for i in range(k):
                for j in range(i + 1, k):
                    si, ei, sj, ej = start[i], start[i + 1], start[j], start[j + 1]
                    out[:, p] = (K[:, si:ei] @ dc[j - 1, si:ei] + K[:, sj:ej] @ dc[i, sj:ej]
                                 + float(self._intercept_[p]))
                    p += 1
        votes = self._pair_sums(dec > 0, torch.int64)
        return votes.argmax(dim=1), dec  # argmax: the lowest index among ties

    def _pair_sums(self, per_pair, dtype, minus=None):
        """(n, n_classes): per class, the sum of per_pair[:, p] over the pairs p = (i, j)
        where it is i, plus that of minus[:, p] (default: not per_pair) where it is j."""
        ops = self._ovo_operands
        dev = per_pair.device
        out = torch.zeros((per_pair.shape[0], len(self.classes_)), dtype=dtype, device=dev)
        out.index_add_(1, torch.from_numpy(ops["pair_i"]).to(dev), per_pair.to(dtype))
        out.index_add_(1, torch.from_numpy(ops["pair_j"]).to(dev),
                       (~per_pair if minus is None else minus).to(dtype))
        return out

    @staticmethod
    def _output(t, out):
        return _to_numpy(t) if out is None else t.to(out)

    def decision_function(self, X):
        """Decision values: shape (n,) for two classes (positive means classes_[1]);
        (n, n_classes * (n_classes - 1) / 2) for 'ovo'; (n, n_classes) for 'ovr'
        (sklearn's monotone transform of the one-vs-one votes and values)."""
        Xt, out = self._validate_predict(X)
        _, dec = self._predict_ovo(Xt, with_decision=True)
        k = len(self.classes_)
        if k == 2:
            return self._output(-dec[:, 0], out)
        if self.decision_function_shape == "ovo":
            return self._output(dec, out)
        votes = self._pair_sums(dec >= 0, dec.dtype)
        conf = self._pair_sums(dec, dec.dtype, minus=-dec)
        return self._output(votes + conf / (3 * (conf.abs() + 1)), out)

    def predict(self, X):
        """Class labels by one-vs-one voting (LIBSVM's rule: f_ij > 0 votes for i;
        ties go to the lower class index), or with break_ties (and 'ovr', more
        than two classes) the argmax of decision_function."""
        check_is_fitted(self)
        if self.break_ties and self.decision_function_shape == "ovo":
            raise ValueError("break_ties must be False when decision_function_shape is 'ovo'")
        k = len(self.classes_)
        if self.break_ties and k > 2:
            winner = torch.as_tensor(self.decision_function(X)).argmax(dim=1)
            return self._labels(winner, X.device if isinstance(X, torch.Tensor) else None)
        Xt, out = self._validate_predict(X)
        winner, _ = self._predict_ovo(Xt, with_decision=False)
        return self._labels(winner, out)

    def _labels(self, winner, out):
        """classes_[winner] as a tensor on `out` (numeric labels) or a numpy array."""
        if out is not None and self.classes_.dtype.kind in "biuf":
            return torch.as_tensor(self.classes_, device=out)[winner.to(out)]
        return self.classes_[winner.cpu().numpy()]

    def _check_proba(self):
        if self.probability == "deprecated" or not self.probability:
            raise AttributeError("predict_proba is not available when probability=False")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Class probabilities, shape (n, n_classes) in classes_ order: Platt's
        sigmoid per pair on the one-vs-one decision values, coupled over the
        classes (Wu, Lin and Weng's second method), as LIBSVM. A torch input
        gets a float64 tensor on its device."""
        check_is_fitted(self)
        if self._probA.size == 0:
            raise NotFittedError("predict_proba is not available when fitted with "
                                 "probability=False")
        Xt, out = self._validate_predict(X)
        dec = self._predict_ovo(Xt, with_decision=True)[1].to(torch.float64).cpu().numpy()
        proba = pairwise_probabilities(dec, self._probA, self._probB)
        return proba if out is None else torch.from_numpy(proba).to(out)

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        proba = self.predict_proba(X)
        return proba.log() if isinstance(proba, torch.Tensor) else np.log(proba)

    @property
    def probA_(self):
        return self._probA

    @property
    def probB_(self):
        return self._probB

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of predict(X) against y (numpy or torch)."""
        return accuracy_score(_to_numpy(y), _to_numpy(self.predict(X)),
                              sample_weight=sample_weight)
