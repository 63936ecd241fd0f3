"""Data-parallel SVC(solver="spsvm") over two gloo ranks against one process.

    python benchmarks/svm_distributed.py --n 20000 --max-basis 512 --repeat 3

BENCHMARKS.md's make_classification set (n training rows, RBF, C=1,
gamma='scale', tol=1e-3). Two ranks of one thread each train on the two halves;
between their fits, rank 0 alone fits all n rows on one thread and on two (the
same cores the two ranks use), so load from other jobs hits every contender
alike. Prints median fit times and test accuracies.
"""
import argparse
import datetime
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))

WORLD = 2


def fit_timed(make, X, y):
    t0 = time.perf_counter()
    model = make().fit(X, y)
    return time.perf_counter() - t0, model


def worker(rank, port, n, max_basis, repeat, out):
    from dsdkern.bench.svm import load
    from dsdkern.svm import SVC

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=WORLD, timeout=datetime.timedelta(seconds=600))
    try:
        Xtr, Xte, ytr, yte = load(n)
        rows = slice(rank * len(Xtr) // WORLD, (rank + 1) * len(Xtr) // WORLD)
        params = dict(C=1.0, kernel="rbf", gamma="scale", tol=1e-3, solver="spsvm",
                      random_state=0, max_basis=max_basis)
        times = {"2 ranks x 1 thread": [], "1 process x 1 thread": [],
                 "1 process x 2 threads": []}
        accuracy = {}
        for _ in range(repeat):
            dist.barrier()
            t, model = fit_timed(lambda: SVC(**params, n_jobs=1), Xtr[rows], ytr[rows])
            times["2 ranks x 1 thread"].append(t)
            accuracy["2 ranks x 1 thread"] = (model.score(Xte, yte), len(model.support_))
            if rank == 0:
                for threads in (1, 2):
                    key = f"1 process x {threads} thread{'s' if threads > 1 else ''}"
                    t, model = fit_timed(lambda: SVC(**params, n_jobs=threads,
                                                     process_group=None), Xtr, ytr)
                    times[key].append(t)
                    accuracy[key] = (model.score(Xte, yte), len(model.support_))
            dist.barrier()
        if rank == 0:
            with open(out, "w") as f:
                f.write(f"n = {len(Xtr)} training rows, d = {Xtr.shape[1]}, max_basis = "
                        f"{max_basis or 'automatic'}, "
                        f"{repeat} interleaved repeats, medians\n")
                f.write(f"{'contender':24s} {'fit s':>8s} {'accuracy':>9s} {'basis':>6s}\n")
                for key, ts in times.items():
                    acc, basis = accuracy[key]
                    f.write(f"{key:24s} {statistics.median(ts):8.2f} {acc:9.4f} {basis:6d}\n")
    finally:
        dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="training rows (default 20000)")
    ap.add_argument("--max-basis", type=int, default=None,
                    help="SVC's max_basis (default: automatic)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = f"/tmp/svm_distributed_{os.getpid()}.txt"
    mp.start_processes(worker, args=(port, args.n, args.max_basis, args.repeat, out), nprocs=WORLD,
                       start_method="spawn")
    with open(out) as f:
        print(f.read(), end="")
    os.remove(out)


if __name__ == "__main__":
    main()
