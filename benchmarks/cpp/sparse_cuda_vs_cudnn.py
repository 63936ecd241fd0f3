"""dsdkern's CUDA sparse convolutions against cuDNN (torch F.conv2d on W ⊙ M, precomputed,
cudnn.benchmark on) on two ResNet-18 3x3 layers at several sparsities, same GPU, same
dtype. Our side is benchmarks/cpp/bench_sparse_cuda.cpp (built with the library:
cmake -S . -B build/gpu -DDSDK_CUDA=ON && cmake --build build/gpu), driven over a pipe;
the two take turns configuration by configuration for `--rounds` rounds, each reporting
the median of `--reps` runs timed with CUDA events; a row keeps the median over rounds.
"auto" is the faster of our best sparse algorithm and the dense candidates (ours and
cuDNN), as the layer's measured choice would be.

    python benchmarks/cpp/sparse_cuda_vs_cudnn.py --json out.json
    python benchmarks/cpp/sparse_cuda_vs_cudnn.py --device cpu --torch-only   # smoke test
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "..", "build", "gpu", "bench_sparse_cuda")
LAYERS = [(64, 56, 64), (256, 14, 256)]  # (c, hw, k): 3x3, stride 1, pad 1
ALGOS = {"implicit_gemm": 0, "direct_sparse": 1, "sparse_tile": 2}
DTYPES = {"float32": 0, "float16": 2, "bfloat16": 3}


def torch_time(torch, n, c, hw, k, sparsity, dtype, device, reps):
    """Median ms of F.conv2d(x, w * m) with w * m precomputed."""
    import torch.nn.functional as F
    g = torch.Generator(device="cpu").manual_seed(1234)
    dt = getattr(torch, dtype)
    x = (torch.rand(n, c, hw, hw, generator=g) * 2 - 1).to(device, dt)
    w = torch.rand(k, c, 3, 3, generator=g) * 2 - 1
    keep = torch.ones(w.numel())
    keep[torch.randperm(w.numel(), generator=g)[: w.numel() * sparsity // 100]] = 0
    wm = (w * keep.view_as(w)).to(device, dt)
    times = []
    with torch.no_grad():
        F.conv2d(x, wm, padding=1)
        for _ in range(reps):
            if device == "cuda":
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                F.conv2d(x, wm, padding=1)
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t0 = time.perf_counter()
                F.conv2d(x, wm, padding=1)
                times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", default=DRIVER)
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--sparsity", type=int, nargs="+", default=[0, 50, 80, 90, 95],
                    help="percent pruned")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--torch-only", action="store_true", help="time only the torch side")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    import torch
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    ours = None
    if not args.torch_only:
        ours = subprocess.Popen([args.driver, "serve"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
    configs = [(n, c, hw, k, sp) for (c, hw, k) in LAYERS for n in args.batch
               for sp in args.sparsity]
    samples = {cfg: {"cudnn": []} for cfg in configs}
    for _ in range(args.rounds):
        for cfg in configs:
            n, c, hw, k, sp = cfg
            if ours:
                for name, algo in ALGOS.items():
                    ours.stdin.write(f"conv {n} {c} {hw} {k} 1 {sp} {algo} "
                                     f"{DTYPES[args.dtype]} {args.reps}\n")
                    ours.stdin.flush()
                    line = ours.stdout.readline()
                    if not line:
                        sys.exit(f"{args.driver} stopped answering")
                    samples[cfg].setdefault(name, []).append(float(line.split()[0]))
            samples[cfg]["cudnn"].append(torch_time(torch, n, c, hw, k, sp, args.dtype,
                                                    args.device, args.reps))
    if ours:
        ours.stdin.close()
        ours.wait()
    rows = []
    print(f"| layer | N | sparsity | cuDNN ms | {' | '.join(ALGOS)} ms | auto ms | "
          "auto / cuDNN speed-up |")
    print("|---" * (6 + len(ALGOS)) + "|")
    for cfg in configs:
        n, c, hw, k, sp = cfg
        med = {name: statistics.median(v) for name, v in samples[cfg].items()}
        auto = min(med.values())
        row = {"layer": f"{c}->{k} {hw}x{hw}", "batch": n, "sparsity": sp, "dtype": args.dtype,
               "ms": med, "auto_ms": auto, "speedup_auto_vs_cudnn": med["cudnn"] / auto}
        rows.append(row)
        cells = " | ".join(f"{med[a]:.4f}" if a in med else "-" for a in ALGOS)
        print(f"| {row['layer']} | {n} | {sp} % | {med['cudnn']:.4f} | {cells} | {auto:.4f} | "
              f"{row['speedup_auto_vs_cudnn']:.2f} |")
    if args.json:
        meta = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
                "torch": torch.__version__,
                "cudnn": torch.backends.cudnn.version() if args.device == "cuda" else None,
                "rounds": args.rounds, "reps": args.reps}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
