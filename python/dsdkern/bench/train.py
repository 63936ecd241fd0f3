"""`python -m dsdkern bench train`: one training step (forward, cross-entropy, backward, SGD
step) of LeNet-300-100 and of a LeNet-5-like CNN, three ways on the same weights and masks:

- masked: the net's Conv2d/Linear layers as dsdkern.nn masked layers (dsdkern.nn.sparsify);
- plain: the plain torch layers on W ⊙ M (dense training: what the masked net must not be
  slower than);
- prune: the plain net pruned by torch.nn.utils.prune.custom_from_mask on the same masks.

Step times are medians (and minima) of interleaved runs; "ratio" ("min x") is a
contender's median (minimum) over the plain net's; bytes are the parameters' and buffers'
(the masks included).
"""
import copy
import json
import statistics
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from .conv import random_mask
from .timing import machine_name, time_ms

CONTENDERS = ("masked", "plain", "prune")


def lenet_300_100() -> nn.Module:
    """LeNet-300-100 (Han et al. 2015): 784 -> 300 -> 100 -> 10 with ReLUs."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def lenet5() -> nn.Module:
    """Caffe's LeNet-5: conv 1->20 5x5, max-pool, conv 20->50 5x5, max-pool, fc 800->500,
    ReLU, fc 500->10, on 28x28 inputs."""
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(),
                         nn.Linear(500, 10))


NETS = {"lenet-300-100": (lenet_300_100, (784,)), "lenet-5": (lenet5, (1, 28, 28))}


def state_bytes(model: nn.Module) -> int:
    """Bytes held by the parameters and buffers (what a checkpoint and the optimizer see)."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def prunable(model: nn.Module) -> list:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@dataclass
class Setup:
    """The three contenders of one (net, batch), each with its own SGD optimizer."""
    nets: dict
    optimizers: dict
    x: torch.Tensor
    y: torch.Tensor

    def step(self, name: str) -> None:
        net, opt = self.nets[name], self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(self.x), self.y).backward()
        opt.step()


def make_setup(net: str, batch: int, sparsity: float, seed: int = 0, lr: float = 0.01) -> Setup:
    """Same initial weights W ⊙ M and masks M (exactly round(sparsity * numel) pruned per
    layer) for the three contenders; fresh normal inputs and random labels."""
    from dsdkern import nn as dnn

    build, shape = NETS[net]
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    plain = build()
    masks = [random_mask(m.weight.shape, sparsity, gen) for m in prunable(plain)]
    with torch.no_grad():
        for m, mask in zip(prunable(plain), masks):
            m.weight.mul_(mask)
    masked = dnn.sparsify(copy.deepcopy(plain))
    for (_, layer), mask in zip(dnn.masked_layers(masked), masks):
        layer.set_mask(mask)
    pruned = copy.deepcopy(plain)
    for m, mask in zip(prunable(pruned), masks):
        prune.custom_from_mask(m, "weight", mask)
    nets = {"masked": masked, "plain": plain, "prune": pruned}
    optimizers = {k: torch.optim.SGD(n.parameters(), lr=lr, momentum=0.9) for k, n in nets.items()}
    x = torch.randn(batch, *shape, generator=gen)
    y = torch.randint(0, 10, (batch,), generator=gen)
    return Setup(nets, optimizers, x, y)


@dataclass
class Row:
    net: str
    batch: int
    contender: str
    sparsity: float
    step_ms: float  # median
    min_ms: float
    ratio: float  # step_ms / the plain net's step_ms; <= 1.05 is the target for masked
    min_ratio: float  # min_ms / the plain net's min_ms: steadier on a loaded machine
    state_bytes: int
    bytes_ratio: float  # state_bytes / the plain net's; <= 1.25 is the target for masked
    threads: int
    repeats: int


def run(nets=tuple(NETS), batches=(32, 128), sparsity=0.9, threads=None, warmup=3, repeats=30,
        steps=5, budget_s=3.0, progress=None) -> list:
    """Times `steps` training steps per sample, interleaving the contenders' samples."""
    if threads is not None:
        torch.set_num_threads(threads)
    rows = []
    for net in nets:
        for batch in batches:
            s = make_setup(net, batch, sparsity)
            fns = {c: (lambda c=c: [s.step(c) for _ in range(steps)]) for c in CONTENDERS}
            times = time_ms(fns, "cpu", warmup, repeats, budget_s)
            ms = {c: statistics.median(t) / steps for c, t in times.items()}
            best = {c: min(t) / steps for c, t in times.items()}
            size = {c: state_bytes(n) for c, n in s.nets.items()}
            for c in CONTENDERS:
                row = Row(net, batch, c, sparsity, ms[c], best[c], ms[c] / ms["plain"],
                          best[c] / best["plain"], size[c], size[c] / size["plain"],
                          torch.get_num_threads(), len(times[c]))
                rows.append(row)
                if progress:
                    progress(row)
    return rows


def format_header() -> str:
    return (f"{'net':<14} {'N':>4} {'contender':<9} {'step ms':>9} {'min ms':>9} {'ratio':>6} "
            f"{'min x':>6} {'bytes':>10} {'bytes x':>7} {'threads':>7}")


def format_row(r: Row) -> str:
    return (f"{r.net:<14} {r.batch:>4} {r.contender:<9} {r.step_ms:>9.3f} {r.min_ms:>9.3f} "
            f"{r.ratio:>6.2f} {r.min_ratio:>6.2f} {r.state_bytes:>10} {r.bytes_ratio:>7.2f} "
            f"{r.threads:>7}")


def register(areas) -> None:
    p = areas.add_parser("train", help="training step: masked layers vs plain torch layers "
                                       "vs torch.nn.utils.prune", description=__doc__)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads for every contender (default: torch's)")
    p.add_argument("--net", choices=sorted(NETS), nargs="+", default=list(NETS))
    p.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    p.add_argument("--sparsity", type=float, default=0.9, help="fraction of pruned weights")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=30, help="timed samples; median reported")
    p.add_argument("--steps", type=int, default=5, help="training steps per timed sample")
    p.add_argument("--budget", type=float, default=3.0,
                   help="stop sampling (after 3 rounds) once the rounds took this many seconds "
                        "per contender")
    p.add_argument("--json", metavar="PATH", help="also write metadata, rows and the "
                                                  "algorithm choices as JSON")
    p.set_defaults(func=main)


def main(args) -> int:
    from dsdkern import ops

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    meta = {"machine": machine_name("cpu"), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "algorithm_choice": ops.algorithm_choice(),
            "peer": "plain nn.Conv2d/nn.Linear on W*M; ratio = contender ms / plain ms"}
    print(f"# {meta['machine']} | torch {meta['torch']} | threads {meta['threads']} | "
          f"algorithm choice {meta['algorithm_choice']}")
    print(f"# {meta['peer']}")
    print(format_header(), flush=True)
    rows = run(args.net, args.batch, args.sparsity, args.threads, args.warmup, args.repeats,
               args.steps, args.budget, progress=lambda r: print(format_row(r), flush=True))
    choices = ops.algorithm_choices()
    print("# algorithm that ran per problem (auto):")
    for c in choices:
        print(f"#   {c['algorithm']:<5} dsdk {c['dsdk_ms']:.3f} ms, torch {c['torch_ms']:.3f} ms"
              f"  {c['key']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": [asdict(r) for r in rows], "choices": choices}, f,
                      indent=1)
        print(f"# wrote {args.json}")
    return 0
