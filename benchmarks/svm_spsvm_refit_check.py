"""Does the loss or the basis cost spsvm its accuracy? (benchmarks/RESULTS.md,
"A hinge refit over spsvm's basis".) On BENCHMARKS.md's make_classification set:
for each basis size, spsvm's fit, then LIBSVM over the features K_iS L^-T of the
basis spsvm chose (K_SS = L L'), under the hinge (C) and under spsvm's squared
hinge (hard margin on Gram + I / C: the dual of 1/2 sum C xi^2); and both losses
over every point.

    PYTHONPATH=python python benchmarks/svm_spsvm_refit_check.py --n 7500 --basis 256 1024
"""
import argparse

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC as LibSVC

from dsdkern.bench import svm as bench
from dsdkern.svm import SVC

HARD = 1e8  # C of a hard-margin fit


def accuracy(gram_tr, ytr, gram_te, yte, C):
    return LibSVC(kernel="precomputed", C=C, tol=1e-3, cache_size=2000).fit(gram_tr, ytr).score(gram_te, yte)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=7500)
    p.add_argument("--basis", nargs="+", type=int, default=[256, 512, 1024, 2048])
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    Xtr, Xte, ytr, yte = bench.load(str(args.n))
    C = bench.PARAMS["C"]
    gamma = 1.0 / (Xtr.shape[1] * Xtr.var())  # gamma='scale'
    Ktr, Kte = rbf_kernel(Xtr, Xtr, gamma=gamma), rbf_kernel(Xte, Xtr, gamma=gamma)
    eye = np.eye(len(ytr)) / C
    print(f"make_classification {args.n}: every point, hinge {accuracy(Ktr, ytr, Kte, yte, C):.4f}, "
          f"squared hinge {accuracy(Ktr + eye, ytr, Kte, yte, HARD):.4f}\n")
    print("| basis | spsvm | squared-hinge refit | hinge refit |\n| --- | --- | --- | --- |")
    for m in args.basis:
        sp = SVC(**bench.PARAMS, solver="spsvm", max_basis=m, random_state=0,
                 n_jobs=args.threads).fit(Xtr, ytr)
        S = np.sort(sp.support_)
        L = cholesky(Ktr[np.ix_(S, S)] + 1e-8 * np.eye(len(S)), lower=True)
        Ftr = solve_triangular(L, Ktr[S], lower=True).T
        Fte = solve_triangular(L, Kte[:, S].T, lower=True).T
        Gtr, Gte = Ftr @ Ftr.T, Fte @ Ftr.T
        print(f"| {len(S)} | {sp.score(Xte, yte):.4f} | {accuracy(Gtr + eye, ytr, Gte, yte, HARD):.4f} | "
              f"{accuracy(Gtr, ytr, Gte, yte, C):.4f} |", flush=True)


if __name__ == "__main__":
    main()
