"""SVM training benchmark: dsdkern (SMO, SPSVM) against LIBSVM, oneDAL and ThunderSVM.

Data and hyper-parameters are those of BENCHMARKS.md (RBF, C=1, gamma='scale',
tol=1e-3; digits, or make_classification with 4/3 of the training size and a 25 %
test split). Every fit runs in its own subprocess started with the same thread
count (OMP/MKL/OpenBLAS variables, threadpoolctl, torch.set_num_threads and each
library's n_jobs), so a peer that crashes or runs past --timeout leaves the
table intact. Fit time is the median of --repeat fits after one warm-up fit.

    python -m dsdkern bench svm --sizes digits 7500 30000 --threads 2 --plot svm.png
    python -m dsdkern bench svm --device cuda --sizes 100000 --peers libsvm

With --device cuda, dsdkern's solvers train on the GPU (from host arrays, so the
copy to the device is part of the fit time); the peers stay on the CPU.

    python -m dsdkern bench svm --small --threads 2 --repeat 15

times fit and predict on the small packaged sets instead (digits, breast_cancer,
wine), in this process with the contenders' runs interleaved (medians): dsdkern smo,
LIBSVM, and smo trained one pair per library call (the path before
dsdkSVMTrainOneVsOne: a fresh handle and descriptor, a thread team and Python per
pair), so that the per-pair overhead shows as a before/after in one run.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

CONTENDERS = ("smo", "spsvm", "libsvm", "sklearnex", "thundersvm")
LABELS = {"smo": "dsdkern smo", "spsvm": "dsdkern spsvm", "libsvm": "LIBSVM (sklearn)",
          "sklearnex": "oneDAL (sklearnex)", "thundersvm": "ThunderSVM-cpu"}
PARAMS = dict(C=1.0, kernel="rbf", gamma="scale", tol=1e-3)
CACHE_MB = 500


def load(dataset):
    """(Xtr, Xte, ytr, yte) float64 for 'digits' or a training size n (synthetic)."""
    import numpy as np
    from sklearn.datasets import load_digits, make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        n = int(dataset)
        X, y = make_classification(n_samples=-(-4 * n // 3), n_features=50, n_informative=20,
                                   n_redundant=10, n_classes=2, flip_y=0.05, class_sep=1.0,
                                   random_state=0)
        X = StandardScaler().fit_transform(X)
    return train_test_split(X.astype(np.float64), y, test_size=0.25, random_state=0)


def _estimator(contender, threads, Xtr, device="cpu"):
    if contender in ("smo", "spsvm"):
        from dsdkern.svm import SVC
        return SVC(**PARAMS, cache_size=CACHE_MB, solver=contender, n_jobs=threads,
                   random_state=0, device=device)
    if contender == "libsvm":
        from sklearn.svm import SVC
        return SVC(**PARAMS, cache_size=CACHE_MB)
    if contender == "sklearnex":
        from sklearnex.svm import SVC
        return SVC(**PARAMS, cache_size=CACHE_MB, n_jobs=threads)
    if contender == "thundersvm":
        from thundersvm import SVC
        # ThunderSVM takes gamma as a number only: the value of gamma='scale'.
        return SVC(C=PARAMS["C"], kernel="rbf", gamma=1.0 / (Xtr.shape[1] * Xtr.var()),
                   tol=PARAMS["tol"], n_jobs=threads)
    raise ValueError(f"unknown contender {contender!r}; choose from {', '.join(CONTENDERS)}")


def label(row):
    """The contender's name, with the device for dsdkern's GPU rows."""
    gpu = row.get("device") == "cuda" and row["contender"] in ("smo", "spsvm")
    return LABELS[row["contender"]] + (" (CUDA)" if gpu else "")


def _n_support(model):
    for attr in ("n_support_", "support_"):
        value = getattr(model, attr, None)
        if value is not None:
            import numpy as np
            return int(np.sum(value)) if attr == "n_support_" else int(np.size(value))
    return None


def measure(contender, dataset, threads, repeat, device="cpu"):
    """One contender on one data set, in this process: fit times, accuracy, nSV.
    device applies to dsdkern's solvers only."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    Xtr, Xte, ytr, yte = load(dataset)
    with threadpool_limits(limits=threads):
        ours = contender in ("smo", "spsvm")
        device = device if ours else "cpu"
        if ours:
            import torch
            torch.set_num_threads(threads)
            if device == "cuda":
                torch.zeros(1, device="cuda")  # the CUDA context is not part of a fit
        # A GPU fit gets one extra warm-up (library loading, first kernels).
        warm = int(repeat > 1 or device == "cuda")
        times = []
        for rep in range(repeat + warm):
            model = _estimator(contender, threads, Xtr, device)
            t0 = time.perf_counter()
            model.fit(Xtr, ytr)
            if device == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - t0
            if rep >= warm:  # the first of several fits warms up
                times.append(elapsed)
        accuracy = float(np.mean(np.asarray(model.predict(Xte)).astype(ytr.dtype) == yte))
    return dict(contender=contender, dataset=str(dataset), n_train=len(ytr),
                n_features=Xtr.shape[1], fit_s=statistics.median(times), fit_runs=times,
                accuracy=accuracy, n_sv=_n_support(model), threads=threads, device=device,
                status="ok")


def run_case(contender, dataset, threads, repeat, timeout, device="cpu"):
    """measure() in a fresh interpreter with the thread count fixed in its environment."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    pkg_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
    job = json.dumps(dict(contender=contender, dataset=str(dataset), threads=threads,
                          repeat=repeat, device=device))
    row = dict(contender=contender, dataset=str(dataset), threads=threads)
    try:
        proc = subprocess.run([sys.executable, "-m", "dsdkern.bench.svm", "--worker", job],
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(row, status=f"timeout > {timeout:g} s")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return dict(row, status=f"failed: {err[:120]}")
    return json.loads(lines[-1])


def machine():
    import sklearn
    import torch

    from .timing import machine_name
    return dict(cpu=machine_name("cpu"), python=platform.python_version(),
                torch=torch.__version__, sklearn=sklearn.__version__)


def parse_caps(text):
    """'libsvm=30000,thundersvm=30000' -> {'libsvm': 30000, 'thundersvm': 30000}."""
    caps = {}
    for item in filter(None, (text or "").split(",")):
        name, _, n = item.partition("=")
        if name not in CONTENDERS or not n.isdigit():
            raise ValueError(f"bad --max-n entry {item!r}; expected contender=N")
        caps[name] = int(n)
    return caps


def run_all(datasets, contenders, threads, repeat, timeout, caps=None, log=sys.stderr,
            device="cpu", rows_from=()):
    """Runs every contender on every data set; rows_from: rows measured by other
    runs on this machine (e.g. LIBSVM while the GPU rows ran), joined in before the
    speed-ups are computed."""
    rows = [r for r in rows_from if r["dataset"] in map(str, datasets)]
    for dataset in datasets:
        for contender in contenders:
            n = 1347 if dataset == "digits" else int(dataset)
            if caps and contender in caps and n > caps[contender]:
                row = dict(contender=contender, dataset=str(dataset), threads=threads,
                           status=f"skipped (> {caps[contender]})")
            else:
                reps = repeat if repeat else (3 if n <= 10000 else 1)
                row = run_case(contender, dataset, threads, reps, timeout, device)
            row.setdefault("n_train", n)
            rows.append(row)
            if log:
                print(f"  {dataset:>7} {label(row):27s} "
                      + (f"fit {row['fit_s']:9.3f} s  acc {row['accuracy']:.4f}  "
                         f"nSV {row['n_sv']}" if row["status"] == "ok" else row["status"]),
                      file=log, flush=True)
    _add_ratios(rows)
    return rows


def _add_ratios(rows):
    """speedup = LIBSVM's fit time / the contender's, on the same data set."""
    base = {r["dataset"]: r["fit_s"] for r in rows
            if r["contender"] == "libsvm" and r["status"] == "ok"}
    for r in rows:
        if r["status"] == "ok" and r["dataset"] in base:
            r["speedup_vs_libsvm"] = base[r["dataset"]] / r["fit_s"]


def table(rows):
    out = ["| data | n_train | contender | fit (s) | test acc | nSV | speed-up vs LIBSVM |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        name = "digits" if r["dataset"] == "digits" else "make_classification"
        if r["status"] != "ok":
            out.append(f"| {name} | {r['n_train']} | {label(r)} "
                       f"| {r['status']} | | | |")
            continue
        ratio = r.get("speedup_vs_libsvm")
        out.append(f"| {name} | {r['n_train']} | {label(r)} | {r['fit_s']:.3f} | "
                   f"{r['accuracy']:.4f} | {r['n_sv']} | "
                   f"{'' if ratio is None else f'{ratio:.2f}x'} |")
    return "\n".join(out)


def plot_bars(rows, path):
    """Fit time (log scale) and test accuracy per data set, one bar per contender."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    contenders = list(dict.fromkeys(r["contender"] for r in rows))
    width = 0.8 / max(1, len(contenders))
    fig, (ax_t, ax_a) = plt.subplots(1, 2, figsize=(11, 4))
    for c_i, c in enumerate(contenders):
        xs, ts, accs = [], [], []
        for d_i, d in enumerate(datasets):
            r = next((r for r in rows if r["dataset"] == d and r["contender"] == c), None)
            if r and r["status"] == "ok":
                xs.append(d_i + c_i * width)
                ts.append(r["fit_s"])
                accs.append(r["accuracy"])
        color = f"C{CONTENDERS.index(c)}"
        ax_t.bar(xs, ts, width, label=LABELS[c], color=color)
        ax_a.bar(xs, accs, width, label=LABELS[c], color=color)
    labels = ["digits" if d == "digits" else f"synth {int(d):,}" for d in datasets]
    for ax in (ax_t, ax_a):
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(datasets))], labels)
    ax_t.set_yscale("log")
    ax_t.set_ylabel("fit time (s)")
    ax_a.set_ylabel("test accuracy")
    ax_a.set_ylim(min([r["accuracy"] for r in rows if r["status"] == "ok"] + [1.0]) - 0.02, 1.0)
    ax_t.legend(fontsize=8)
    fig.suptitle(f"RBF SVM training, {rows[0]['threads']} threads")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


SMALL_SETS = ("digits", "breast_cancer", "wine")


def load_small(name):
    """(Xtr, Xte, ytr, yte) of a packaged set: digits / 16, the others standardised."""
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    loader = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}
    X, y = loader[name](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    if name == "digits":
        return Xtr / 16.0, Xte / 16.0, ytr, yte
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def fit_per_pair(model, X, y):
    """The baseline of --small: model (a dsdkern SVC) fitted with one dsdkSVMTrain
    call per class pair, as SVC.fit did before it trained all pairs in one call."""
    import numpy as np
    import torch
    from dsdkern import _C

    classes, codes = np.unique(y, return_inverse=True)
    Xt, codes = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(codes)
    var = float(Xt.var(correction=0))
    gamma = 1.0 / (X.shape[1] * var) if var else 1.0
    out = []
    for i in range(len(classes)):
        for j in range(i + 1, len(classes)):
            rows = torch.nonzero((codes == i) | (codes == j)).squeeze(1)
            yp = torch.where(codes.index_select(0, rows) == i, 1, -1).to(torch.int32)
            out.append(_C.svm_train(Xt.index_select(0, rows), yp, kernel="rbf", C=model.C,
                                    gamma=gamma, tol=model.tol,
                                    cache_bytes=int(model.cache_size * (1 << 20)),
                                    num_threads=model.n_jobs))
    return out


def run_small(threads, repeat, log=sys.stderr):
    """Rows of the --small comparison: fit and predict medians per contender and set."""
    import numpy as np
    import torch
    from sklearn.svm import SVC as LibSVC
    from threadpoolctl import threadpool_limits

    from dsdkern.svm import SVC

    torch.set_num_threads(threads)
    per_pair = "smo, one call per pair"
    contenders = {"smo": lambda: SVC(**PARAMS, n_jobs=threads),
                  per_pair: lambda: SVC(**PARAMS, n_jobs=threads),
                  "libsvm": lambda: LibSVC(**PARAMS)}
    rows = []
    with threadpool_limits(limits=threads):
        for name in SMALL_SETS:
            Xtr, Xte, ytr, yte = load_small(name)
            fit_t = {c: [] for c in contenders}
            pred_t = {c: [] for c in contenders}
            accuracy = {}
            for rep in range(repeat + 1):  # the first round warms up
                for c, make in contenders.items():
                    model = make()
                    t0 = time.perf_counter()
                    if c == per_pair:
                        fit_per_pair(model, Xtr, ytr)
                    else:
                        model.fit(Xtr, ytr)
                    t1 = time.perf_counter()
                    if c != per_pair:
                        accuracy[c] = float(np.mean(model.predict(Xte) == yte))
                        pred_t[c].append(time.perf_counter() - t1)
                    fit_t[c].append(t1 - t0)
            median = {c: (statistics.median(fit_t[c][1:]),
                          statistics.median(pred_t[c][1:]) if pred_t[c] else None)
                      for c in contenders}
            for c in contenders:
                row = dict(dataset=name, n_train=len(ytr), contender=c, threads=threads,
                           fit_s=median[c][0], fit_vs_libsvm=median[c][0] / median["libsvm"][0])
                if median[c][1] is not None:
                    row.update(predict_s=median[c][1], accuracy=accuracy[c],
                               predict_vs_libsvm=median[c][1] / median["libsvm"][1])
                rows.append(row)
                if log:
                    print(f"  {name:>13} {c:24s} fit {row['fit_s'] * 1e3:8.2f} ms", file=log,
                          flush=True)
    return rows


def small_table(rows):
    out = ["| data | n_train | contender | fit (ms) | fit / LIBSVM | predict (ms) | "
           "predict / LIBSVM | test acc |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        pred = (f"{r['predict_s'] * 1e3:.2f} | {r['predict_vs_libsvm']:.2f} | "
                f"{r['accuracy']:.4f}") if "predict_s" in r else " | | "
        out.append(f"| {r['dataset']} | {r['n_train']} | {r['contender']} | "
                   f"{r['fit_s'] * 1e3:.2f} | {r['fit_vs_libsvm']:.2f} | {pred} |")
    return "\n".join(out)


def register(areas):
    p = areas.add_parser("svm", help="kernel SVM training vs LIBSVM, oneDAL, ThunderSVM",
                         description=__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", default=["digits", "7500"],
                   help="'digits' and/or training sizes of the synthetic set (default: "
                        "digits 7500)")
    p.add_argument("--threads", type=int, default=2, help="threads for every contender")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where dsdkern's solvers train (the peers run on the CPU)")
    p.add_argument("--solvers", default="smo,spsvm", help="dsdkern solvers (smo,spsvm)")
    p.add_argument("--peers", default="libsvm,sklearnex,thundersvm",
                   help="peers to run: libsvm,sklearnex,thundersvm ('' for none)")
    p.add_argument("--repeat", type=int, default=0,
                   help="timed fits per case (default: 3 up to 10k points, else 1)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per case")
    p.add_argument("--max-n", default="", help="skip a contender above a size, e.g. "
                                               "libsvm=30000,thundersvm=30000")
    p.add_argument("--json", metavar="PATH", help="also write machine, parameters and rows "
                                                  "as JSON")
    p.add_argument("--plot", metavar="PNG", help="write a bar chart of the results")
    p.add_argument("--rows-from", nargs="+", default=[], metavar="JSON",
                   help="join rows that other runs on this machine wrote with --json (or "
                        "--libsvm-rows), instead of measuring those contenders here")
    p.add_argument("--small", action="store_true",
                   help="fit and predict on digits, breast_cancer and wine, in process and "
                        "interleaved, against LIBSVM and the one-call-per-pair path")
    p.set_defaults(func=run)


def contenders_from(args):
    names = [s for s in (args.solvers + "," + args.peers).split(",") if s]
    for name in names:
        if name not in CONTENDERS:
            raise SystemExit(f"unknown contender {name!r}; choose from {', '.join(CONTENDERS)}")
    return names


def run(args):
    if args.small:
        rows = run_small(args.threads, args.repeat or 15)
        print(f"RBF SVM, C=1, gamma='scale', tol=1e-3, {args.threads} threads, "
              f"{machine()['cpu']}")
        print(small_table(rows))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(dict(machine=machine(), params=PARAMS, rows=rows), f, indent=1)
        return 0
    for s in args.sizes:
        if s != "digits" and not s.isdigit():
            raise SystemExit(f"--sizes takes 'digits' or integers, got {s!r}")
    rows_from = []
    for path in args.rows_from:
        with open(path) as f:
            rows_from += json.load(f)["rows"]
    rows = run_all(args.sizes, contenders_from(args), args.threads, args.repeat, args.timeout,
                   parse_caps(args.max_n), device=args.device, rows_from=rows_from)
    print(f"RBF SVM, C=1, gamma='scale', tol=1e-3, {args.threads} threads, "
          f"{machine()['cpu']}")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=machine(), params=PARAMS, rows=rows), f, indent=1)
    if args.plot:
        plot_bars(rows, args.plot)
    return 0


def libsvm_rows(path, sizes, threads):
    """LIBSVM's rows for `--rows-from`, measured in this process. Needs only
    scikit-learn, so it can run as a plain script while dsdkern builds (LIBSVM is
    single-threaded: scripts/gpu_check.sh pins it to one core):

        python python/dsdkern/bench/svm.py --libsvm-rows OUT.json THREADS SIZE...
    """
    rows = []
    for size in sizes:
        row = measure("libsvm", size, threads, 1)
        rows.append(row)
        print(f"  {size:>7} {label(row):27s} fit {row['fit_s']:9.3f} s  "
              f"acc {row['accuracy']:.4f}  nSV {row['n_sv']}", file=sys.stderr, flush=True)
        with open(path, "w") as f:  # rewritten after each size: a cut-off run keeps its rows
            json.dump(dict(params=PARAMS, rows=rows), f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        job = json.loads(sys.argv[2])
        print(json.dumps(measure(job["contender"], job["dataset"], job["threads"],
                                 job["repeat"], job.get("device", "cpu"))))
    elif len(sys.argv) >= 5 and sys.argv[1] == "--libsvm-rows":
        libsvm_rows(sys.argv[2], sys.argv[4:], int(sys.argv[3]))
    else:
        raise SystemExit("use: python -m dsdkern bench svm ...")
