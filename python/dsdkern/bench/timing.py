"""Timing and machine description shared by every benchmark area."""
import os
import platform
import time

import torch


def time_ms(fns: dict, device: str, warmup: int = 2, repeats: int = 10, budget_s: float = 2.0,
            min_repeats: int = 3) -> dict:
    """Wall times in milliseconds of each callable in `fns`, as {name: [ms, ...]}.

    Every fn gets `warmup` untimed calls, then rounds call each fn once in turn, so a
    change in machine load hits all contenders alike. Stops after `repeats` rounds, or
    earlier (never under `min_repeats`) once the rounds took `budget_s` seconds per
    contender, so slow cases stay bounded. On CUDA each call is timed with events on the
    current stream.
    """
    cuda = torch.device(device).type == "cuda"
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    if cuda:
        torch.cuda.synchronize()
    times = {name: [] for name in fns}
    spent = 0.0
    for rnd in range(repeats):
        if rnd >= min_repeats and spent >= budget_s * len(fns):
            break
        for name, fn in fns.items():
            if cuda:
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                ms = start.elapsed_time(end)
            else:
                t0 = time.perf_counter()
                fn()
                ms = (time.perf_counter() - t0) * 1e3
            times[name].append(ms)
            spent += ms / 1e3
    return times


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
