"""Per-call cost of masked_conv's autograd in C++ (the op's Autograd kernel,
csrc/torch/ops_autograd.cpp) against the same formula as a Python autograd.Function, which
is what torch.library.register_autograd builds (and a lower bound of its cost: that one
also flattens arguments and checks keysets per call). Forward + backward of a 1x1 conv on
a 1x1x4x4 input, where per-call cost is all there is; F.conv2d on the same problem for scale.

    PYTHONPATH=python python benchmarks/autograd_overhead.py --threads 2
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import dsdkern  # noqa: F401  (registers torch.ops.dsdkern)

OP, BWD = torch.ops.dsdkern.masked_conv, torch.ops.dsdkern.masked_conv_backward
GEOMETRY = ([1, 1], [0, 0], [1, 1], 1)


class PythonAutograd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, m):
        with torch._C._AutoDispatchBelowAutograd():
            y = OP(x, w, m, None, *GEOMETRY)
        ctx.save_for_backward(x, w, m)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w, m = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx, gw, _ = BWD(g, x, w, m, *GEOMETRY, [need[0], need[1], False])
        return gx, gw, None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--calls", type=int, default=200, help="calls per timed sample")
    p.add_argument("--samples", type=int, default=15)
    args = p.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 4, 4, generator=gen)
    w = torch.randn(1, 1, 1, 1, generator=gen).requires_grad_()
    m = torch.ones(1, 1, 1, 1, dtype=torch.bool)
    fns = {
        "C++ autograd (op)": lambda: OP(x, w, m, None, *GEOMETRY).sum().backward(),
        "Python autograd.Function": lambda: PythonAutograd.apply(x, w, m).sum().backward(),
        "F.conv2d": lambda: F.conv2d(x, w).sum().backward(),
    }
    for fn in fns.values():  # warm-up, and the measured choice's first calls
        for _ in range(args.calls):
            fn()
    times = {k: [] for k in fns}
    for _ in range(args.samples):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(args.calls):
                fn()
            times[k].append((time.perf_counter() - t0) / args.calls * 1e6)
    print(f"# threads {torch.get_num_threads()}, algorithm choice "
          f"{dsdkern.ops.algorithm_choice()}; us per forward+backward")
    for k, t in times.items():
        print(f"{k:<26} median {statistics.median(t):8.1f}  min {min(t):8.1f}")


if __name__ == "__main__":
    main()
