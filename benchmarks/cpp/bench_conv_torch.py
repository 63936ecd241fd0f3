"""Reference timings for bench_conv.cpp: torch F.conv2d (and its two gradients) on the
same ResNet-18 3x3 layers, float32, torch.set_num_threads(threads).
    python benchmarks/cpp/bench_conv_torch.py [threads=2] [reps=10] [dir=f|d|w|all]"""
import sys
import time

import torch
import torch.nn.functional as F

LAYERS = [(1, 64, 56, 64), (1, 128, 28, 128), (1, 256, 14, 256), (1, 512, 7, 512),
          (1, 256, 56, 256), (8, 64, 56, 64), (8, 128, 28, 128), (8, 256, 14, 256),
          (8, 512, 7, 512), (8, 256, 56, 256)]


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    dirs = sys.argv[3] if len(sys.argv) > 3 else "f"
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, threads {threads}, reps {reps}")
    print(f"{'layer':22s} {'dir':4s} {'median_ms':>10s} {'best_ms':>10s} {'GFLOP/s':>9s}")
    for n, c, hw, k in LAYERS:
        x = torch.randn(n, c, hw, hw)
        w = torch.randn(k, c, 3, 3)
        dy = torch.randn(n, k, hw, hw)
        flops = 2.0 * n * k * hw * hw * c * 9
        fns = {
            "f": lambda: F.conv2d(x, w, padding=1),
            "d": lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1),
            "w": lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1),
        }
        for tag, fn in fns.items():
            if dirs != "all" and tag not in dirs:
                continue
            with torch.no_grad():
                fn()
                ts = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    fn()
                    ts.append((time.perf_counter() - t0) * 1e3)
            ts.sort()
            name = f"n{n} c{c} {hw}x{hw} k{k}"
            print(f"{name:22s} {tag:4s} {ts[len(ts) // 2]:10.3f} {ts[0]:10.3f} "
                  f"{flops / ts[0] / 1e6:9.1f}", flush=True)


if __name__ == "__main__":
    main()
