"""dsdkern's CPU sparse algorithms against torch, float32, same thread count, uniform
random masks: the direct sparse convolution (packed filter) against F.conv2d(x, w * m)
on ResNet-18's 3x3 layers, and the sparse GEMM (packed matrix) against F.linear(x, w * m)
and torch's CSR (to_sparse_csr + torch.sparse.mm). dsdkern runs in build/core/bench_sparse
(C API, no torch); torch runs in a worker process; the two take turns measurement by
measurement so that background load hits both alike. Each measurement is the best of
`reps` runs; the table shows the median of those over `rounds`.

    cmake -S . -B build/core -G Ninja -DDSDK_CUDA=OFF && cmake --build build/core
    python benchmarks/sparse_vs_torch.py [--threads 2] [--rounds 5] [--reps 10]
        [--crossover] [--json out.json]
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

CONV_LAYERS = [(64, 56), (128, 28), (256, 14), (512, 7), (256, 56)]  # (channels, size)
LINEAR = (4096, 9216)  # (out, in)
HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "build", "core", "bench_sparse")
ALGOS = {"implicit_gemm": 0, "direct_sparse": 1}


def torch_worker():
    """Answers the request lines of bench_sparse with torch's times ("median best")."""
    import torch
    import torch.nn.functional as F
    torch.manual_seed(0)
    for line in sys.stdin:
        f = line.split()
        kind, args = f[0], list(map(int, f[1:]))
        if kind == "conv":
            n, c, hw, k, stride, sp, reps, th = args
            x, w = torch.randn(n, c, hw, hw), torch.randn(k, c, 3, 3)
            wm = w * (torch.rand_like(w) >= sp / 100)
            fn = lambda: F.conv2d(x, wm, stride=stride, padding=1)
        else:
            peer, m, rows, cols, sp, reps, th = args
            x, w = torch.randn(m, cols), torch.randn(rows, cols)
            wm = w * (torch.rand_like(w) >= sp / 100)
            if peer == 0:
                fn = lambda: F.linear(x, wm)
            else:
                csr = wm.to_sparse_csr()
                fn = lambda: torch.sparse.mm(csr, x.t()).t()
        torch.set_num_threads(th)
        times = []
        with torch.inference_mode():
            fn()
            for _ in range(max(reps, 1)):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        print(f"{times[len(times) // 2]:.4f} {times[0]:.4f}", flush=True)


class Servers:
    def __init__(self):
        self.ours = subprocess.Popen([BENCH, "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.torch = subprocess.Popen([sys.executable, __file__, "--worker"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    @staticmethod
    def ask(proc, line):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        out = proc.stdout.readline()
        if not out:
            raise RuntimeError(f"benchmark process died on: {line}")
        return float(out.split()[1])  # best of reps

    def close(self):
        for p in (self.ours, self.torch):
            p.stdin.close()
            p.wait()


def measure(srv, jobs, rounds):
    """jobs: {key: (process, request)}; returns {key: median over rounds of best-of-reps}."""
    got = {k: [] for k in jobs}
    for _ in range(rounds):
        for key, (proc, line) in jobs.items():
            got[key].append(srv.ask(proc, line))
    return {k: statistics.median(v) for k, v in got.items()}


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def conv_jobs(srv, n, c, hw, sp, a, reps, th):
    return {
        "ours": (srv.ours, f"conv {n} {c} {hw} {c} 1 {sp} {ALGOS[a]} {reps} {th}"),
        "torch": (srv.torch, f"conv {n} {c} {hw} {c} 1 {sp} {reps} {th}"),
    }


def run_targets(srv, args):
    rows, summary = [], {}
    for sp, batches in ((90, (1, 8)), (80, (1,))):
        for n in batches:
            ratios = []
            for c, hw in CONV_LAYERS:
                t = measure(srv, conv_jobs(srv, n, c, hw, sp, "direct_sparse", args.reps,
                                           args.threads), args.rounds)
                r = t["torch"] / t["ours"]
                ratios.append(r)
                rows.append({"op": "conv3x3", "layer": f"{c}->{c} {hw}x{hw}", "batch": n,
                             "sparsity": sp, "ours_ms": t["ours"], "torch_dense_ms": t["torch"],
                             "speedup": r})
                print(f"conv {c:3d}->{c:3d} {hw:2d}^2 N={n} {sp}%: ours {t['ours']:.3f} ms, "
                      f"torch {t['torch']:.3f} ms, x{r:.2f}", flush=True)
            summary[f"conv {sp}% N={n}"] = {"geomean": geomean(ratios), "min": min(ratios)}
    out, inp = LINEAR
    for m in (1, 16):
        jobs = {"ours": (srv.ours, f"linear {m} {out} {inp} 90 {args.reps} {args.threads}"),
                "dense": (srv.torch, f"linear 0 {m} {out} {inp} 90 {args.reps} {args.threads}"),
                "csr": (srv.torch, f"linear 1 {m} {out} {inp} 90 {args.reps} {args.threads}")}
        t = measure(srv, jobs, args.rounds)
        rows.append({"op": "linear", "layer": f"{out}x{inp}", "batch": m, "sparsity": 90,
                     "ours_ms": t["ours"], "torch_dense_ms": t["dense"], "torch_csr_ms": t["csr"],
                     "speedup": t["dense"] / t["ours"], "speedup_vs_csr": t["csr"] / t["ours"]})
        print(f"linear {out}x{inp} N={m} 90%: ours {t['ours']:.3f} ms, dense {t['dense']:.3f} ms "
              f"(x{t['dense'] / t['ours']:.2f}), csr {t['csr']:.3f} ms (x{t['csr'] / t['ours']:.2f})",
              flush=True)
    return rows, summary


def run_crossover(srv, args):
    rows = []
    for c, hw in ((64, 56), (256, 14)):
        for sp in (0, 50, 60, 70, 80, 90, 95, 98):
            jobs = {}
            for a in ALGOS:
                jobs[a] = conv_jobs(srv, 1, c, hw, sp, a, args.reps, args.threads)["ours"]
            jobs["torch"] = conv_jobs(srv, 1, c, hw, sp, "direct_sparse", args.reps,
                                      args.threads)["torch"]
            t = measure(srv, jobs, args.rounds)
            row = {"layer": f"{c}->{c} {hw}x{hw}", "batch": 1, "sparsity": sp,
                   "torch_dense_ms": t["torch"]}
            for a in ALGOS:
                row[f"{a}_ms"] = t[a]
                row[f"{a}_speedup"] = t["torch"] / t[a]
            rows.append(row)
            print(f"crossover {c}->{c} {hw}^2 {sp:2d}%: " +
                  ", ".join(f"{a} x{row[a + '_speedup']:.2f}" for a in ALGOS), flush=True)
    return rows


def isa():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return "unknown"
    return "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "generic"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.worker:
        return torch_worker()
    srv = Servers()
    try:
        result = {"machine": platform.processor() or platform.machine(), "isa": isa(),
                  "threads": args.threads, "rounds": args.rounds, "reps": args.reps}
        if args.crossover:
            result["crossover"] = run_crossover(srv, args)
        else:
            result["rows"], result["summary"] = run_targets(srv, args)
            for k, v in result["summary"].items():
                print(f"{k}: geometric mean x{v['geomean']:.2f}, lowest x{v['min']:.2f}")
    finally:
        srv.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
