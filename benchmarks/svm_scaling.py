"""Fit time and test accuracy of every SVM contender as the training set grows
(make_classification of BENCHMARKS.md, n = 5k .. 100k), as a table, JSON and a
log-log PNG. Each fit runs in its own subprocess with the same thread count
(see dsdkern.bench.svm). The big sizes take long: LIBSVM needs ~7 min at 100k,
so cap slow contenders with --max-n.

    PYTHONPATH=python python benchmarks/svm_scaling.py --threads 2 \
        --max-n libsvm=50000,thundersvm=30000 --out benchmarks/svm_scaling
"""
import argparse
import json
import sys

from dsdkern.bench import svm as bench
from figures import save_figure


def plot_scaling(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_a) = plt.subplots(1, 2, figsize=(11, 4))
    for c in dict.fromkeys(r["contender"] for r in rows):
        ok = sorted((r["n_train"], r["fit_s"], r["accuracy"]) for r in rows
                    if r["contender"] == c and r["status"] == "ok")
        if not ok:
            continue
        n, t, acc = zip(*ok)
        style = dict(marker="o", label=bench.LABELS[c], color=f"C{bench.CONTENDERS.index(c)}")
        ax_t.plot(n, t, **style)
        ax_a.plot(n, acc, **style)
    ax_t.set_xscale("log")
    ax_t.set_yscale("log")
    ax_a.set_xscale("log")
    ax_t.set_xlabel("training points")
    ax_a.set_xlabel("training points")
    ax_t.set_ylabel("fit time (s)")
    ax_a.set_ylabel("test accuracy")
    ax_t.grid(True, which="both", alpha=0.3)
    ax_a.grid(True, alpha=0.3)
    ax_t.legend(fontsize=8)
    threads = rows[0]["threads"]
    save_figure(fig, f"RBF SVM training on make_classification (d=50), {threads} threads", path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=int,
                   default=[5000, 7500, 10000, 20000, 30000, 50000, 100000])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--solvers", default="smo,spsvm")
    p.add_argument("--peers", default="libsvm,sklearnex,thundersvm")
    p.add_argument("--max-n", default="",
                   help="skip a contender above a size, e.g. libsvm=50000,thundersvm=30000")
    p.add_argument("--repeat", type=int, default=1, help="timed fits per case")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per case")
    p.add_argument("--out", default="svm_scaling",
                   help="writes OUT.json, OUT.md and OUT.png")
    args = p.parse_args(argv)

    rows = bench.run_all([str(n) for n in args.sizes], bench.contenders_from(args),
                         args.threads, args.repeat, args.timeout, bench.parse_caps(args.max_n))
    text = (f"RBF SVM, C=1, gamma='scale', tol=1e-3, {args.threads} threads, "
            f"{bench.machine()['cpu']}\n\n" + bench.table(rows))
    print(text)
    with open(args.out + ".md", "w") as f:
        f.write(text + "\n")
    with open(args.out + ".json", "w") as f:
        json.dump(dict(machine=bench.machine(), params=bench.PARAMS, rows=rows), f, indent=1)
    plot_scaling(rows, args.out + ".png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
