"""dsdkern's own GEMM and Cholesky (what the CPU SPSVM solver runs on) against
torch's BLAS/LAPACK (torch.mm, torch.linalg.cholesky) on the solver's shapes at
100000 points, same thread count. The two sides take turns for `rounds` rounds
(so background load hits both alike); each reports its best time.

    g++ -O3 -fopenmp -Icsrc/include -Icsrc benchmarks/cpp/bench_linalg.cpp \\
        build/libdsdkern.a -o build/bench_linalg
    (or: cmake -S . -B build && cmake --build build, which builds it too)
    python benchmarks/cpp/linalg_vs_torch.py [rounds=3] [threads=2] [n=100000]
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "build", "bench_linalg")
SHAPES = {"border": "float GEMM 96 x 2305 x n (A B')", "cand": "float GEMM 576 x n x 50 (A B')",
          "cholesky": "double Cholesky 2305 x 2305"}


def torch_times(threads, reps, n):
    import torch
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)

    def best(f):
        out = 1e300
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            out = min(out, time.perf_counter() - t0)
        return out

    a, b = torch.rand(96, n, generator=g), torch.rand(2305, n, generator=g)
    res = {"border": best(lambda: torch.mm(a, b.t()))}
    a, b = torch.rand(576, 50, generator=g), torch.rand(n, 50, generator=g)
    res["cand"] = best(lambda: torch.mm(a, b.t()))
    G = torch.rand(2305, 2305, dtype=torch.float64, generator=g) * 2 - 1
    S = G @ G.t() / 2305 + torch.eye(2305, dtype=torch.float64)
    res["cholesky"] = best(lambda: torch.linalg.cholesky(S))
    return res


def flops(name, n):
    return {"border": 2 * 96 * 2305 * n, "cand": 2 * 576 * n * 50,
            "cholesky": 2305 ** 3 / 3}[name]


def main(argv):
    rounds = int(argv[0]) if argv else 3
    threads = int(argv[1]) if len(argv) > 1 else 2
    n = int(argv[2]) if len(argv) > 2 else 100000
    ours, theirs = {}, {}
    for _ in range(rounds):
        out = subprocess.run([BENCH, str(threads), "3", str(n)], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            name, sec = line.split()
            ours[name] = min(ours.get(name, 1e300), float(sec))
        for name, sec in torch_times(threads, 3, n).items():
            theirs[name] = min(theirs.get(name, 1e300), sec)
    import re

    import torch
    info = dict(re.findall(r"(BLAS_INFO|LAPACK_INFO)=(\w+)", torch.__config__.show()))
    print(f"{threads} threads, n = {n}, torch {torch.__version__} (BLAS: "
          f"{info.get('BLAS_INFO', '?')}, LAPACK: {info.get('LAPACK_INFO', '?')})")
    print("| kernel | dsdkern s | GFLOP/s | torch s | GFLOP/s | torch / dsdkern |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, what in SHAPES.items():
        f = flops(name, n)
        print(f"| {what} | {ours[name]:.4f} | {f / ours[name] / 1e9:.0f} | {theirs[name]:.4f} | "
              f"{f / theirs[name] / 1e9:.0f} | {theirs[name] / ours[name]:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
