"""magnitude_mask / threshold_mask against what torch.nn.utils.prune does (torch.topk on
|w| plus a scatter into a mask; |w| >= t), interleaved in one run, median of repeats.
Besides wall time it reports the process CPU time per call: on a shared, overloaded
machine that is the steadier measure of work (with more than one thread it also counts
OpenMP's spin-waiting).

    PYTHONPATH=python python benchmarks/bench_magnitude_mask.py [--threads 2] [--device cpu]
"""
import argparse
import statistics
import time

import torch

from dsdkern import ops
from dsdkern.bench.timing import machine_name, time_ms

# (name, weight shape): a small conv, ResNet-18's largest conv (2.36M), AlexNet's fc6.
SHAPES = [("conv 64x64x3x3", (64, 64, 3, 3)), ("conv 512x512x3x3", (512, 512, 3, 3)),
          ("linear 4096x9216", (4096, 9216))]


def torch_topk_mask(w, keep):
    mask = torch.zeros(w.numel(), dtype=torch.bool, device=w.device)
    mask[torch.topk(w.abs().view(-1), keep, sorted=False).indices] = True
    return mask.view(w.shape)


def cpu_ms(fns: dict, repeats: int) -> dict:
    """Median process CPU milliseconds per call of each fn, the fns interleaved."""
    spent = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.process_time()
            fn()
            spent[name].append((time.process_time() - t0) * 1e3)
    return {name: statistics.median(v) for name, v in spent.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"{machine_name(a.device)}; {a.threads} threads; float32; median ms of {a.repeats}")
    print("| weight | kept | dsdkern wall | torch wall | torch / dsdkern | dsdkern CPU | torch CPU |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, shape in SHAPES:
        w = torch.randn(shape, device=a.device) * 0.02
        for kept in (0.7, 0.1):
            keep = int(kept * w.numel())
            t = float(w.abs().view(-1).kthvalue(w.numel() - keep + 1).values)
            cases = {
                f"top-k {kept:.0%}": {"dsdkern": lambda: ops.magnitude_mask(w, keep),
                                      "torch": lambda: torch_topk_mask(w, keep)},
                f"threshold {kept:.0%}": {"dsdkern": lambda: ops.threshold_mask(w, t),
                                          "torch": lambda: w.abs() >= t},
            }
            for label, fns in cases.items():
                times = time_ms(fns, a.device, repeats=a.repeats, budget_s=3.0)
                ours, theirs = (statistics.median(times[k]) for k in ("dsdkern", "torch"))
                cpu = cpu_ms(fns, a.repeats)
                print(f"| {name} ({w.numel() / 1e6:.2f}M) | {label} | {ours:.3f} | "
                      f"{theirs:.3f} | {theirs / ours:.2f} | {cpu['dsdkern']:.3f} | "
                      f"{cpu['torch']:.3f} |")


if __name__ == "__main__":
    main()
