"""Data-parallel training of SVC(solver="spsvm") over torch.distributed.

Each rank passes fit its own shard of the rows. Everything that depends on all
the rows is agreed on first: the classes (the union of the shards' labels),
n_features, gamma='scale' (the variance of all values), class_weight='balanced'
(the counts of all rows) and the seed (rank 0's). Then every one-vs-one pair
trains in one dsdkSVMTrain call per rank on that rank's rows of the pair, with
the process group as the core's communicator: kernel columns stay local, the
Newton systems, gradients and candidate scores are all-reduced (gloo), so every
rank chooses the same basis. Last, the basis vectors' rows are summed from
their owners, so every rank ends with the same model, usable alone.

Before any collective work, one all_gather_object of every rank's verdict on
its own input and its settings lets all ranks raise together (a bad shard,
different n_features or settings, solver='smo'), instead of the others waiting
in an exchange the failing rank never joins.
"""
import numpy as np
import torch
import torch.distributed as dist
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .svm import _host_tensor, _to_numpy

# Settings that shape the model: every rank must fit with the same ones.
_SHARED_PARAMS = ("C", "kernel", "degree", "gamma", "coef0", "tol", "class_weight", "max_iter",
                  "solver", "max_basis", "probability", "break_ties", "decision_function_shape")


def resolve_group(process_group):
    """The group fit trains over, or None to train on this process's data alone:
    process_group="auto" is the default group when one is initialised with more
    than one rank, None opts out, a ProcessGroup is used as given (one of a
    single rank trains alone)."""
    if process_group is None:
        return None
    if isinstance(process_group, str):  # "auto", the only string the estimator accepts
        if not (dist.is_available() and dist.is_initialized()):
            return None
        process_group = dist.group.WORLD
    return process_group if dist.get_world_size(process_group) > 1 else None


def _local_view(est, X, y, sample_weight):
    """This rank's checked input: (X as a C-contiguous float array, y, the
    error raised on it or None)."""
    try:
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported when training over a process "
                             "group; pass process_group=None to train on each rank alone.")
        if isinstance(X, torch.Tensor) and X.is_cuda or est.device == "cuda":
            raise ValueError("training over a process group runs on the CPU; pass CPU data "
                             "and device='cpu' or 'auto'.")
        X = _to_numpy(X) if isinstance(X, torch.Tensor) else X
        y = _to_numpy(y) if isinstance(y, torch.Tensor) else y
        X, y = validate_data(est, X, y, dtype=[np.float64, np.float32], order="C")
        check_classification_targets(y)
        return X, y, None
    except Exception as error:  # every rank must learn of it before any exchange
        return None, None, error


def _agree(est, group, X, y, error):
    """Every rank's verdict and settings, gathered; raises the same error on
    every rank when one rank failed or the ranks disagree. Returns the views."""
    settings = {name: getattr(est, name) for name in _SHARED_PARAMS}
    seed = int(est._draw_seed()) if error is None else 0  # a bad random_state is the error
    mine = dict(error=None if error is None else f"{type(error).__name__}: {error}",
                n=0 if X is None else X.shape[0], d=None if X is None else X.shape[1],
                dtype=None if X is None else str(X.dtype), settings=repr(settings),
                labels=None if y is None else np.unique(y), seed=seed)
    views = [None] * dist.get_world_size(group)
    dist.all_gather_object(views, mine, group=group)
    rank = dist.get_rank(group)
    for r, v in enumerate(views):
        if v["error"] is not None:
            if r == rank:
                raise error
            raise ValueError(f"rank {r} of the process group could not fit its shard "
                             f"({v['error']}); every rank stops.")
    for key, what in (("d", "n_features"), ("dtype", "X dtype"), ("settings", "parameters")):
        for r, v in enumerate(views):
            if v[key] != views[0][key]:
                raise ValueError(f"rank {r} of the process group has other {what} than rank 0 "
                                 f"({v[key]} vs {views[0][key]}); every rank must fit alike.")
    if est.solver != "spsvm":
        raise ValueError(f"solver={est.solver!r} cannot train over a process group; use "
                         "solver='spsvm', or process_group=None to train each rank alone.")
    if est._effective_probability():
        raise ValueError("probability=True is not supported when training over a process "
                         "group; calibrate the fitted model on held-out data instead.")
    return views


def fit(est, group, X, y, sample_weight, param_error=None):
    """SVC.fit over `group` on this rank's shard (X, y); see the module docstring.
    param_error: what this rank's parameter checks raised, raised here on every rank."""
    X, y, error = (None, None, param_error) if param_error is not None else \
        _local_view(est, X, y, sample_weight)
    views = _agree(est, group, X, y, error)
    rank, world = dist.get_rank(group), len(views)
    classes = np.unique(np.concatenate([v["labels"] for v in views]))
    k = len(classes)
    if k < 2:
        raise ValueError("The number of classes has to be greater than one; got %d class" % k)
    codes = np.searchsorted(classes, y)
    d = X.shape[1]
    counts = torch.from_numpy(np.bincount(codes, minlength=k).astype(np.float64))
    dist.all_reduce(counts, group=group)
    counts = counts.numpy()
    est.classes_ = classes
    if est.class_weight == "balanced":
        # sklearn's compute_class_weight on the counts of all rows
        est.class_weight_ = counts.sum() / (k * counts)
    else:
        est.class_weight_ = compute_class_weight(est.class_weight, classes=classes, y=classes)
    est._set_gamma(d, lambda: _variance(X, group, sum(v["n"] for v in views) * d))
    seed = views[0]["seed"]
    offset = sum(v["n"] for v in views[:rank])  # this shard's first row among all rows

    Xt, ct = _host_tensor(X), torch.from_numpy(codes)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    # rows of each pair on each rank: the pair's support indices count them in rank order
    pair_rows = torch.zeros((world, len(pairs)), dtype=torch.int64)
    for p, (i, j) in enumerate(pairs):
        pair_rows[rank, p] = int(((codes == i) | (codes == j)).sum())
    dist.all_reduce(pair_rows, group=group)
    fits, vectors = [], {}
    for p, (i, j) in enumerate(pairs):
        rows, yp, _ = est._pair_problem(ct, None, i, j)
        index, coef, bias, objective, iterations, converged = est._train_binary(
            Xt.index_select(0, rows), yp, None, est.class_weight_[i], est.class_weight_[j],
            seed + p, process_group=group.group_name)
        orig, of_i = _gather_support(index.numpy(), pair_rows[:, p].numpy(), rank, offset,
                                     rows.numpy(), codes == i, X, group, vectors)
        fits.append((orig, of_i, coef.numpy(), bias, objective, iterations, converged))
    est._store_model(lambda support: np.stack([vectors[int(s)] for s in support]), k, pairs, fits)
    est._probA = est._probB = np.empty(0)
    return est


def _variance(X, group, count):
    """The variance of every value of all ranks' X (numpy's two passes: the
    mean, then the mean squared deviation), in float64."""
    total = torch.tensor([X.sum(dtype=np.float64)], dtype=torch.float64)
    dist.all_reduce(total, group=group)
    mean = float(total) / count
    dev = torch.tensor([np.square(X - mean, dtype=np.float64).sum()], dtype=torch.float64)
    dist.all_reduce(dev, group=group)
    return float(dev) / count


def _gather_support(index, pair_rows, rank, offset, rows, is_i, X, group, vectors):
    """The global rows of a pair's support indices (which number the pair's rows
    of all ranks in rank order) and whether each is of the pair's first class;
    adds their coordinates to `vectors` (global row -> float64 row). Each
    owner writes its rows, the others zeros, and one all-reduce sums them."""
    start = np.concatenate([[0], np.cumsum(pair_rows)])
    buf = np.zeros((len(index), 2 + X.shape[1]))
    mine = (index >= start[rank]) & (index < start[rank + 1])
    local = rows[index[mine] - start[rank]]
    buf[mine, 0] = offset + local
    buf[mine, 1] = is_i[local]
    buf[mine, 2:] = X[local]
    summed = torch.from_numpy(buf)
    dist.all_reduce(summed, group=group)
    buf = summed.numpy()
    orig = buf[:, 0].astype(np.int64)
    for s, row in zip(orig, buf[:, 2:]):
        vectors.setdefault(int(s), row)
    return orig, buf[:, 1] > 0.5
