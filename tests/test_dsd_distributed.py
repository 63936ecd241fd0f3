"""DSD under DistributedDataParallel: two gloo processes on CPU against one process on the
union of their data shards."""
import datetime

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

import dsdkern
from dsdkern.dsd import DSD
from dsdkern.nn import masked_layers
from dist_helpers import run_ranks

pytestmark = [
    pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                       reason="torch.distributed with gloo is unavailable"),
]

WORLD, PER_RANK, STEPS = 2, 8, 12
TIMEOUT_S = 180


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 3))


def dataset():
    gen = torch.Generator().manual_seed(1)
    n = STEPS * WORLD * PER_RANK
    return torch.randn(n, 1, 8, 8, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def train(model, dsd, optimizer, rows):
    """DSD over STEPS steps (dense 4, sparse 4, redense 4); rows(step) picks the batch."""
    x, y = dataset()
    for step in range(STEPS):
        if step == 4:
            dsd.sparse()
        elif step == 8:
            dsd.dense()
        batch = rows(step)
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()


def state(model):
    return {"params": {n: p.detach().clone() for n, p in model.named_parameters()},
            "masks": {n: m.mask.clone() for n, m in masked_layers(model)}}


def worker(rank, port, out):
    torch.set_num_threads(1)
    # One kernel everywhere: a measured choice could differ between the processes, and a
    # last-bit difference can flip a near-tie of the magnitude top-k.
    dsdkern.ops.set_algorithm_choice("dsdk")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=WORLD, timeout=datetime.timedelta(seconds=60))
    try:
        model = nn.parallel.DistributedDataParallel(net())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        dsd = DSD(model, optimizer, sparsity=0.5)
        start = lambda step: step * WORLD * PER_RANK + rank * PER_RANK  # noqa: E731
        masks = {}

        def rows(step):
            if step == 7:  # the sparse phase's masks, before .dense() lifts them
                masks.update({n: m.clone() for n, m in state(model.module)["masks"].items()})
            return slice(start(step), start(step) + PER_RANK)

        train(model, dsd, optimizer, rows)
        torch.save({**state(model.module), "sparse_masks": masks}, f"{out}/rank{rank}.pt")
        # Both ranks tear gloo down together: a rank that destroys its group while the
        # other still has gloo work in flight can abort the other ("terminate called
        # without an active exception", seen once in a CI run).
        dist.barrier()
    finally:
        dist.destroy_process_group()


def test_ddp_dsd_matches_single_process_on_the_union_of_shards(tmp_path):
    run_ranks(worker, WORLD, tmp_path, TIMEOUT_S, "DDP")
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]

    model = net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sparse_masks = {}

    def rows(step):
        if step == 7:
            sparse_masks.update(state(model)["masks"])
        return slice(step * WORLD * PER_RANK, (step + 1) * WORLD * PER_RANK)

    choice = dsdkern.ops.algorithm_choice()
    dsdkern.ops.set_algorithm_choice("dsdk")
    try:
        train(model, DSD(model, optimizer, sparsity=0.5), optimizer, rows)
    finally:
        dsdkern.ops.set_algorithm_choice(choice)
    single = state(model)

    for key in ("masks", "sparse_masks"):
        assert ranks[0][key].keys() == ranks[1][key].keys()
        for name in ranks[0][key]:
            assert torch.equal(ranks[0][key][name], ranks[1][key][name]), (key, name)
    assert ranks[0]["sparse_masks"].keys() == sparse_masks.keys()
    assert not ranks[0]["sparse_masks"]["5"].all() and ranks[0]["sparse_masks"]["0"].all()
    for name, p in single["params"].items():
        for r in range(WORLD):
            torch.testing.assert_close(ranks[r]["params"][name], p, rtol=1e-4, atol=1e-5,
                                       msg=lambda m: f"rank {r}, {name}: {m}")
