"""Spawning a test's gloo workers: one process per rank on a free local port."""
import socket
import time

import pytest
import torch.multiprocessing as mp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(worker, world, out, timeout_s, what):
    """Runs worker(rank, port, out) in `world` spawned processes and waits for all of
    them; fails the test, naming `what`, when they take over timeout_s seconds (killing
    the ones left)."""
    context = mp.start_processes(worker, args=(free_port(), str(out)), nprocs=world,
                                 join=False, start_method="spawn")
    deadline = time.monotonic() + timeout_s
    try:
        while not context.join(timeout=5):
            if time.monotonic() > deadline:
                pytest.fail(f"the {what} workers did not finish in {timeout_s} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.terminate()
