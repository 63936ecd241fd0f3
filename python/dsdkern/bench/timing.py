"""Timing and machine description shared by every benchmark area."""
import os
import platform
import statistics
import time

import torch


def median_ms(fn, device: str, warmup: int = 2, repeats: int = 10, budget_s: float = 2.0,
              min_repeats: int = 3) -> float:
    """Median wall time of fn() in milliseconds, after `warmup` untimed calls.

    Runs `repeats` timed calls, or fewer (never under `min_repeats`) once `budget_s`
    seconds of timed calls have passed, so slow cases stay bounded. On CUDA each call is
    timed with events on the current stream.
    """
    cuda = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
    times, spent = [], 0.0
    while len(times) < repeats and (len(times) < min_repeats or spent < budget_s):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            fn()
            ms = (time.perf_counter() - t0) * 1e3
        times.append(ms)
        spent += ms / 1e3
    return statistics.median(times)


def machine_name(device: str) -> str:
    """CPU model (or GPU name) and the host's logical core count."""
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical cores"
