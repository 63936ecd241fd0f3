"""Probability estimates of a one-vs-one SVM, as LIBSVM computes them.

Each class pair gets Platt's sigmoid P(i | x, i or j) = 1 / (1 + exp(A f_ij(x) + B)),
fitted to cross-validated decision values by the robust Newton method of Lin, Lin
and Weng ("A note on Platt's probabilistic outputs for support vector machines",
2007); several classes are then coupled by the second method of Wu, Lin and Weng
("Probability estimates for multi-class classification by pairwise coupling", 2004).
Everything works on whole arrays of samples at once.
"""
import numpy as np

# LIBSVM clips pairwise probabilities away from 0 and 1 before coupling.
_MIN_PROB = 1e-7


def _log1pexp_and_prob(z):
    """(log(1 + exp(z)), 1 / (1 + exp(-z))) without overflow for any z."""
    e = np.exp(-np.abs(z))
    return np.maximum(z, 0) + np.log1p(e), np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(f, A, B):
    """Platt's P(positive | f) = 1 / (1 + exp(A f + B)), elementwise."""
    return _log1pexp_and_prob(-(f * A + B))[1]


def fit_sigmoid(f, positive, max_iter=100, min_step=1e-10, sigma=1e-12, eps=1e-5):
    """(A, B) of Platt's sigmoid for decision values f (1-D) and boolean labels.

    Platt's regularised targets, then Newton steps on (A, B) with a backtracking
    line search (sufficient decrease 1e-4) and a ridge sigma on the Hessian."""
    f = np.asarray(f, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    t = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def objective(A, B):
        # sum of -t log p - (1 - t) log(1 - p) with p = 1 / (1 + exp(A f + B))
        z = f * A + B
        return float(np.sum(_log1pexp_and_prob(z)[0] - (1 - t) * z))

    A, B = 0.0, float(np.log((n_neg + 1.0) / (n_pos + 1.0)))
    value = objective(A, B)
    for _ in range(max_iter):
        p = _log1pexp_and_prob(-(f * A + B))[1]
        d2 = p * (1 - p)
        h11, h22, h21 = sigma + np.dot(f * f, d2), sigma + d2.sum(), np.dot(f, d2)
        d1 = t - p
        g1, g2 = np.dot(f, d1), d1.sum()
        if abs(g1) < eps and abs(g2) < eps:
            break
        det = h11 * h22 - h21 * h21
        dA, dB = -(h22 * g1 - h21 * g2) / det, -(-h21 * g1 + h11 * g2) / det
        slope = g1 * dA + g2 * dB
        step = 1.0
        while step >= min_step:
            new = objective(A + step * dA, B + step * dB)
            if new < value + 1e-4 * step * slope:
                A, B, value = A + step * dA, B + step * dB, new
                break
            step /= 2
        if step < min_step:
            break  # no decrease along the Newton direction: as good as it gets
    return A, B


def couple_pairwise(r):
    """Class probabilities p of shape (n, k) from pairwise ones r of shape (n, k, k),
    r[:, i, j] = P(i | i or j) (the diagonal is ignored): minimises
    sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2 over the simplex by the fixed-point
    iteration of Wu, Lin and Weng, one coordinate at a time, per sample until
    max_t |(Qp)_t - p'Qp| < 0.005 / k."""
    n, k, _ = r.shape
    r = r * (1 - np.eye(k))
    Q = -np.swapaxes(r, 1, 2) * r
    idx = np.arange(k)
    Q[:, idx, idx] = (r * r).sum(axis=1)
    p = np.full((n, k), 1.0 / k)
    active = np.ones(n, dtype=bool)
    for _ in range(max(100, k)):
        Qp = np.einsum("ntj,nj->nt", Q, p)
        pQp = (p * Qp).sum(axis=1)
        active &= np.abs(Qp - pQp[:, None]).max(axis=1) >= 0.005 / k
        if not active.any():
            break
        for t in range(k):
            diff = np.where(active, (pQp - Qp[:, t]) / Q[:, t, t], 0.0)
            p[:, t] += diff
            scale = 1 + diff
            pQp = (pQp + diff * (diff * Q[:, t, t] + 2 * Qp[:, t])) / (scale * scale)
            Qp = (Qp + diff[:, None] * Q[:, t, :]) / scale[:, None]
            p /= scale[:, None]
    return p


def pairwise_probabilities(dec, A, B):
    """Clipped P(i | i or j) for decision values dec (n, n_pairs), pairs in
    LIBSVM's order (0, 1), (0, 2), ..., (1, 2), ...; returns class probabilities (n, k)."""
    n, n_pairs = dec.shape
    k = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    r_pair = np.clip(sigmoid(dec, A, B), _MIN_PROB, 1 - _MIN_PROB)
    if k == 2:
        return np.stack([r_pair[:, 0], 1 - r_pair[:, 0]], axis=1)
    r = np.zeros((n, k, k))
    i, j = np.triu_indices(k, 1)
    r[:, i, j] = r_pair
    r[:, j, i] = 1 - r_pair
    return couple_pairwise(r)
