"""The table of issue 10's item 3 for solver='spsvm' with default settings:
test accuracy against LIBSVM (sklearn.svm.SVC) on the packaged data sets and
on BENCHMARKS.md's make_classification sets, and fit time against our own smo
(and LIBSVM where it is run) at the largest size. The dsdkern fits are timed
interleaved in this one process (spsvm, smo, spsvm, smo, ...), medians.

    PYTHONPATH=python python benchmarks/svm_spsvm_targets.py --threads 2
    (--libsvm-max-n 30000 skips LIBSVM above 30000 points; its accuracy there is
    then BENCHMARKS.md's and its time RESULTS.md's, both marked "recorded")
"""
import argparse
import statistics
import time

import torch
from sklearn import svm as sk_svm
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from dsdkern.bench import svm as bench
from dsdkern.svm import SVC

RECORDED_LIBSVM = {100000: (368.7, 0.9642)}  # RESULTS.md scaling table, this machine


def packaged(loader):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    s = StandardScaler().fit(Xtr)
    return s.transform(Xtr), s.transform(Xte), ytr, yte


def timed(make, Xtr, ytr, Xte, yte):
    t0 = time.perf_counter()
    m = make().fit(Xtr, ytr)
    return time.perf_counter() - t0, m.score(Xte, yte), m


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sizes", nargs="+", type=int, default=[7500, 30000, 100000])
    p.add_argument("--repeat", type=int, default=3, help="interleaved timed fits at the largest size")
    p.add_argument("--libsvm-max-n", type=int, default=30000)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    ours = {s: (lambda s=s: SVC(**bench.PARAMS, solver=s, n_jobs=args.threads, random_state=0,
                                cache_size=bench.CACHE_MB)) for s in ("spsvm", "smo")}
    sets = {"digits": lambda: bench.load("digits"), "breast_cancer": lambda: packaged(load_breast_cancer),
            "wine": lambda: packaged(load_wine), "iris": lambda: packaged(load_iris)}
    sets.update({f"make_classification {n}": (lambda n=n: bench.load(str(n))) for n in args.sizes})
    print(f"{args.threads} threads, {bench.machine()['cpu']}\n")
    print("| data set | n_train | LIBSVM acc | spsvm acc | diff (points) | spsvm basis | "
          "spsvm fit (s) | smo fit (s) | LIBSVM fit (s) | LIBSVM / spsvm | smo / spsvm |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    largest = f"make_classification {max(args.sizes)}"
    for name, load in sets.items():
        Xtr, Xte, ytr, yte = load()
        n = len(ytr)
        if n <= args.libsvm_max_n:
            t_lib, acc_lib, _ = timed(lambda: sk_svm.SVC(**bench.PARAMS, cache_size=bench.CACHE_MB),
                                      Xtr, ytr, Xte, yte)
            lib = f"{t_lib:.3f}"
        else:
            t_lib, acc_lib = RECORDED_LIBSVM.get(n, (float("nan"), float("nan")))
            lib = f"{t_lib:.1f} (recorded)"
        reps = args.repeat if name == largest else 1
        times = {"spsvm": [], "smo": []}
        for _ in range(reps):
            for s in ("spsvm", "smo"):
                t, acc, m = timed(ours[s], Xtr, ytr, Xte, yte)
                times[s].append(t)
                if s == "spsvm":
                    acc_sp, basis = acc, int(m.support_.size)
        t_sp, t_smo = statistics.median(times["spsvm"]), statistics.median(times["smo"])
        print(f"| {name} | {n} | {acc_lib:.4f} | {acc_sp:.4f} | {100 * (acc_sp - acc_lib):+.2f} | "
              f"{basis} | {t_sp:.3f} | {t_smo:.3f} | {lib} | {t_lib / t_sp:.1f}x | "
              f"{t_smo / t_sp:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
