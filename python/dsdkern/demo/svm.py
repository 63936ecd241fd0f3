"""`python -m dsdkern demo svm`: trains dsdkern's two SVM solvers and LIBSVM
(sklearn.svm.SVC) on two packaged data sets and on a generated one large enough
for the solvers' speed to show (BENCHMARKS.md's make_classification, 5000
training points), and prints fit time, test accuracy, support-vector count and
how often each agrees with LIBSVM."""
import time

from . import add_options


def register(areas):
    p = areas.add_parser("svm", help="both SVM solvers against LIBSVM on digits, "
                                     "breast_cancer and a generated set", description=__doc__)
    add_options(p, area=True)
    p.set_defaults(func=run)


def _data():
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    yield "digits (10 classes)", train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    yield "breast_cancer (2 classes)", (scaler.transform(Xtr), scaler.transform(Xte), ytr, yte)
    from ..bench.svm import load
    yield "make_classification (2 classes, generated)", load(5000)


def run(args):
    import numpy as np
    import torch
    from sklearn.svm import SVC as LibSVC

    from ..svm import SVC

    threads = args.threads or torch.get_num_threads()
    print(f"RBF kernel, C=1, gamma='scale', tol=1e-3; dsdkern on {threads} CPU thread(s), "
          "LIBSVM single-threaded")
    for name, (Xtr, Xte, ytr, yte) in _data():
        print(f"\n{name}: {len(ytr)} training / {len(yte)} test points, {Xtr.shape[1]} features")
        print(f"  {'solver':18s} {'fit (s)':>8s} {'test acc':>9s} {'nSV':>6s} {'agrees w/ LIBSVM':>17s}")
        models = [("LIBSVM (sklearn)", LibSVC()),
                  ("dsdkern smo", SVC(n_jobs=threads)),
                  ("dsdkern spsvm", SVC(solver="spsvm", n_jobs=threads, random_state=0))]
        reference = None
        for label, model in models:
            t0 = time.perf_counter()
            model.fit(Xtr, ytr)
            fit_s = time.perf_counter() - t0
            pred = model.predict(Xte)
            if reference is None:
                reference = pred
            print(f"  {label:18s} {fit_s:8.3f} {np.mean(pred == yte):9.4f} "
                  f"{model.support_.size:6d} {np.mean(pred == reference):16.1%}")
    return 0
