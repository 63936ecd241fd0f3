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


def _cpuinfo(field: str) -> str | None:
    """The first value of `field` in /proc/cpuinfo (None where there is no such file)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.split(":", 1)[0].strip() == field:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_name(device: str) -> str:
    """CPU model (or GPU name) and the host's logical core count."""
    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    model = _cpuinfo("model name") or platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} logical cores"


def cpu_isa() -> str:
    """The SIMD level dsdkern's CPU kernels pick at run time on this machine: "avx512"
    (avx512f/bw/vl/dq), "avx2" (avx2 and fma) or "generic" (csrc/cpu/gemm_kernels_generic.cpp
    applies the same rule)."""
    flags = set((_cpuinfo("flags") or "").split())
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "avx512"
    if {"avx2", "fma"} <= flags:
        return "avx2"
    return "generic"
