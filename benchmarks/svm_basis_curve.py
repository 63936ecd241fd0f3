"""Test accuracy of solver='spsvm' against its basis size on one data set
(make_classification of BENCHMARKS.md, default 7500 training points): the
basis is forced to each size (tol tiny, max_basis = the size), and the
default, adaptive fit is marked. Writes a table (Markdown), JSON and a PNG.

    PYTHONPATH=python python benchmarks/svm_basis_curve.py --threads 2 \
        --out benchmarks/results/svm_basis_curve
"""
import argparse
import json
import time

import torch

from dsdkern.bench import svm as bench
from dsdkern.svm import SVC
from figures import save_figure


def fit(Xtr, ytr, Xte, yte, threads, **kw):
    t0 = time.perf_counter()
    m = SVC(**dict(bench.PARAMS, **kw), solver="spsvm", n_jobs=threads, random_state=0).fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    return dict(basis=int(m.support_.size), fit_s=fit_s, accuracy=float(m.score(Xte, yte)),
                objective=float(m.objective_[0]))


def plot(rows, auto, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_a, ax_t) = plt.subplots(1, 2, figsize=(10, 4))
    b = [r["basis"] for r in rows]
    ax_a.plot(b, [r["accuracy"] for r in rows], marker="o", label="basis forced")
    ax_t.plot(b, [r["fit_s"] for r in rows], marker="o", label="basis forced")
    ax_a.plot([auto["basis"]], [auto["accuracy"]], "r*", ms=12, label="default (adaptive)")
    ax_t.plot([auto["basis"]], [auto["fit_s"]], "r*", ms=12, label="default (adaptive)")
    for ax in (ax_a, ax_t):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("basis size")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax_a.set_ylabel("test accuracy")
    ax_t.set_ylabel("fit time (s)")
    save_figure(fig, title, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default="7500", help="training points, or 'digits'")
    p.add_argument("--sizes", nargs="+", type=int,
                   default=[16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/results/svm_basis_curve")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    Xtr, Xte, ytr, yte = bench.load(args.n)
    rows = [dict(fit(Xtr, ytr, Xte, yte, args.threads, tol=1e-12, max_basis=s), forced=s)
            for s in args.sizes if s <= len(ytr)]
    auto = fit(Xtr, ytr, Xte, yte, args.threads)
    lines = [f"make_classification n_train={len(ytr)}, d={Xtr.shape[1]}, RBF C=1 gamma='scale', "
             f"{args.threads} threads, {bench.machine()['cpu']}", "",
             "| basis | fit (s) | test accuracy | primal objective |", "| --- | --- | --- | --- |"]
    for r in rows + [dict(auto, basis=f"{auto['basis']} (default, adaptive)")]:
        lines.append(f"| {r['basis']} | {r['fit_s']:.2f} | {r['accuracy']:.4f} | "
                     f"{r['objective']:.6g} |")
    text = "\n".join(lines)
    print(text)
    with open(args.out + ".md", "w") as f:
        f.write(text + "\n")
    with open(args.out + ".json", "w") as f:
        json.dump(dict(machine=bench.machine(), n_train=len(ytr), threads=args.threads,
                       forced=rows, default=auto), f, indent=1)
    plot(rows, auto, args.out + ".png",
         f"spsvm accuracy vs basis size, make_classification n={len(ytr)}, "
         f"{args.threads} threads")


if __name__ == "__main__":
    main()
