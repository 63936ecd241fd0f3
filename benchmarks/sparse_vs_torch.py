"""dsdkern's CPU sparse algorithms against torch, float32, same thread count, uniform
random masks: the sparse convolutions from a packed filter (direct_sparse, sparse_tile)
against F.conv2d(x, w * m) on ResNet-18's 3x3 layers, and the sparse GEMM (packed
matrix) against F.linear(x, w * m) and torch's CSR (to_sparse_csr + torch.sparse.mm).
dsdkern runs in build/core/bench_sparse (C API, no torch); torch runs in a worker
process; the two take turns measurement by measurement so that background load hits
both alike, and each turn waits `--settle-ms` first, so that the other side's OpenMP
threads have stopped spinning. Each measurement is the best of `reps` runs; a table
entry is the median of those over `rounds`. "ours" is the faster sparse algorithm (what
Find would pick). One command prints the issue's target table and the crossover sweep
(speed-up against sparsity, 0-98 %, every algorithm and torch) and writes both as JSON:

    cmake -S . -B build/core -G Ninja -DDSDK_CUDA=OFF && cmake --build build/core
    python benchmarks/sparse_vs_torch.py [--threads 2] [--rounds 7] [--reps 10]
        [--only targets|crossover] [--json benchmarks/results/sparse_cpu.json]
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
ALGOS = {"implicit_gemm": 0, "direct_sparse": 1, "sparse_tile": 2}
SPARSE = ("direct_sparse", "sparse_tile")
CROSSOVER_LAYERS = ((64, 56), (512, 7))
CROSSOVER_SPARSITY = (0, 10, 20, 30, 40, 50, 60, 70, 80, 85, 90, 95, 98)


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
    def __init__(self, settle_ms):
        self.settle = settle_ms / 1e3
        self.ours = subprocess.Popen([BENCH, "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.torch = subprocess.Popen([sys.executable, __file__, "--worker"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, proc, line):
        time.sleep(self.settle)
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


def conv_jobs(srv, n, c, hw, sp, algos, reps, th):
    jobs = {a: (srv.ours, f"conv {n} {c} {hw} {c} 1 {sp} {ALGOS[a]} {reps} {th}") for a in algos}
    jobs["torch"] = (srv.torch, f"conv {n} {c} {hw} {c} 1 {sp} {reps} {th}")
    return jobs


# (name, sparsity, batch, geometric-mean target, lowest-layer target or None)
TARGETS = (("90 % batch 1", 90, 1, 3.0, 2.0), ("90 % batch 8", 90, 8, 2.5, 2.0),
           ("80 % batch 1", 80, 1, 2.0, None))


def run_targets(srv, args):
    rows, summary = [], {}
    for name, sp, n, goal, floor in TARGETS:
        ratios = []
        for c, hw in CONV_LAYERS:
            t = measure(srv, conv_jobs(srv, n, c, hw, sp, SPARSE, args.reps, args.threads),
                        args.rounds)
            best = min(SPARSE, key=lambda a: t[a])
            r = t["torch"] / t[best]
            ratios.append(r)
            row = {"op": "conv3x3", "layer": f"{c}->{c} {hw}x{hw}", "batch": n, "sparsity": sp,
                   "torch_dense_ms": t["torch"], "ours_ms": t[best], "ours_algo": best,
                   "speedup": r}
            row.update({f"{a}_ms": t[a] for a in SPARSE})
            rows.append(row)
            print(f"conv {c:3d}->{c:3d} {hw:2d}^2 N={n} {sp}%: " +
                  ", ".join(f"{a} {t[a]:.3f} ms" for a in SPARSE) +
                  f", torch {t['torch']:.3f} ms, x{r:.2f} ({best})", flush=True)
        g, lo = geomean(ratios), min(ratios)
        met = g >= goal and (floor is None or lo >= floor)
        summary[name] = {"geomean": g, "min": lo, "target_geomean": goal,
                         "target_min": floor, "met": met}
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
    """Speed-up over torch dense of every algorithm at each sparsity, batch 1; the
    break-even sparsity is the lowest from which the faster sparse algorithm stays
    at least as fast as torch."""
    rows, breakeven = [], {}
    for c, hw in CROSSOVER_LAYERS:
        layer = f"{c}->{c} {hw}x{hw}"
        wins = []
        for sp in CROSSOVER_SPARSITY:
            t = measure(srv, conv_jobs(srv, 1, c, hw, sp, ALGOS, args.reps, args.threads),
                        args.rounds)
            row = {"layer": layer, "batch": 1, "sparsity": sp, "torch_dense_ms": t["torch"]}
            for a in ALGOS:
                row[f"{a}_ms"] = t[a]
                row[f"{a}_speedup"] = t["torch"] / t[a]
            rows.append(row)
            wins.append((sp, max(row[f"{a}_speedup"] for a in SPARSE) >= 1.0))
            print(f"crossover {layer} {sp:2d}%: torch {t['torch']:.3f} ms, " +
                  ", ".join(f"{a} x{row[a + '_speedup']:.2f}" for a in ALGOS), flush=True)
        above = [sp for i, (sp, _) in enumerate(wins) if all(w for _, w in wins[i:])]
        breakeven[layer] = above[0] if above else None
    return rows, breakeven


def print_table(summary, breakeven):
    print("\ntarget (issue 9, CPU, float32)       measured          goal          met")
    for name, v in summary.items():
        goal = f">= {v['target_geomean']}x" + (f", min >= {v['target_min']}x"
                                             if v["target_min"] else "")
        print(f"conv {name:14s} geomean x{v['geomean']:.2f}, min x{v['min']:.2f}   "
              f"{goal:22s} {'yes' if v['met'] else 'NO'}")
    for layer, sp in breakeven.items():
        print(f"break-even {layer:14s} {'none' if sp is None else f'{sp} %':>9s}          "
              f"<= 60 %                {'yes' if sp is not None and sp <= 60 else 'NO'}")


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
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--settle-ms", type=float, default=20.0)
    ap.add_argument("--only", choices=("targets", "crossover"))
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.worker:
        return torch_worker()
    srv = Servers(args.settle_ms)
    summary, breakeven = {}, {}
    try:
        result = {"machine": platform.processor() or platform.machine(), "isa": isa(),
                  "threads": args.threads, "rounds": args.rounds, "reps": args.reps,
                  "load_average_start": os.getloadavg()}
        if args.only != "crossover":
            result["rows"], summary = run_targets(srv, args)
            result["summary"] = summary
        if args.only != "targets":
            result["crossover"], breakeven = run_crossover(srv, args)
            result["breakeven_sparsity"] = breakeven
        result["load_average_end"] = os.getloadavg()
    finally:
        srv.close()
    print_table(summary, breakeven)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
