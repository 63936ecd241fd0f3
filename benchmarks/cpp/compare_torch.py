"""dsdkern's CPU convolution against torch (F.conv2d and its two gradients) on
ResNet-18's 3x3 layers, float32, same thread count. The two run in separate processes
and take turns layer by layer, so background load hits both alike; each side reports
its best time over all rounds.

    g++ -O3 -fopenmp -Icsrc/include -Icsrc benchmarks/cpp/bench_conv.cpp \\
        build/libdsdkern.a -o build/bench_conv
    (or: cmake -S . -B build && cmake --build build, which builds it too)
    python benchmarks/cpp/compare_torch.py [dir=f|d|w] [rounds=5] [threads=2]
"""
import os
import subprocess
import sys
import time

LAYERS = [(1, 64, 56, 64), (1, 128, 28, 128), (1, 256, 14, 256), (1, 512, 7, 512),
          (1, 256, 56, 256), (8, 64, 56, 64), (8, 128, 28, 128), (8, 256, 14, 256),
          (8, 512, 7, 512), (8, 256, 56, 256)]
HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "build", "bench_conv")


def torch_worker():
    """Answers "n c hw k dir reps threads" lines like `bench_conv serve`."""
    import torch
    import torch.nn.functional as F
    for line in sys.stdin:
        n, c, hw, k, d, reps, th = map(int, line.split())
        torch.set_num_threads(th)
        x, w, dy = torch.randn(n, c, hw, hw), torch.randn(k, c, 3, 3), torch.randn(n, k, hw, hw)
        fn = [lambda: F.conv2d(x, w, padding=1),
              lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1),
              lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)][d]
        best = float("inf")
        with torch.no_grad():
            fn()
            for _ in range(max(reps, 1)):
                t0 = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - t0)
        print(f"{best * 1e3:.4f}", flush=True)


def main():
    d = "fdw".index(sys.argv[1]) if len(sys.argv) > 1 else 0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    procs = {
        "dsdkern": subprocess.Popen([BENCH, "serve"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True),
        "torch": subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True),
    }
    best = {}
    for _ in range(rounds):
        for layer in LAYERS:
            n, c, hw, k = layer
            flops = 2.0 * n * k * hw * hw * c * 9
            reps = int(min(30, max(2, 4e9 / flops)))  # bursts of roughly 20-40 ms
            for name, p in procs.items():
                time.sleep(0.02)  # let the other side's idle OpenMP threads settle
                p.stdin.write(f"{n} {c} {hw} {k} {d} {reps} {threads}\n")
                p.stdin.flush()
                t = float(p.stdout.readline())
                best[layer, name] = min(best.get((layer, name), float("inf")), t)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    print(f"direction {'fdw'[d]}, {threads} threads, best of {rounds} rounds")
    print(f"{'layer':22s} {'dsdkern GF/s':>12s} {'torch GF/s':>11s} {'ratio':>6s}")
    for layer in LAYERS:
        n, c, hw, k = layer
        flops = 2.0 * n * k * hw * hw * c * 9
        ours = flops / best[layer, "dsdkern"] / 1e6
        ref = flops / best[layer, "torch"] / 1e6
        print(f"{f'n{n} c{c} {hw}x{hw} k{k}':22s} {ours:12.1f} {ref:11.1f} {ours / ref:6.2f}")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        torch_worker()
    else:
        main()
