"""`python -m dsdkern bench conv`: masked_conv against dense F.conv2d over the 3x3 layers of
ResNet-18 (and 256->256 at 56x56), per batch size and mask sparsity.

The peer is F.conv2d(x, w * m) with w * m precomputed outside the timed region, i.e.
torch's dense convolution at its best (oneDNN on CPU, cuDNN on GPU). GFLOP/s are
dense-equivalent (2 * N * K * P * Q * C/groups * R * S over the time) for both, so the
ratio of GFLOP/s equals the ratio of times.
"""
import json
import statistics
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .timing import machine_name, time_ms

DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class ConvLayer:
    c: int
    k: int
    hw: int
    kernel: int = 3
    stride: int = 1
    padding: int = 1

    @property
    def name(self) -> str:
        return f"{self.c}->{self.k} {self.hw}x{self.hw} {self.kernel}x{self.kernel}"

    def flops(self, batch: int) -> int:
        out = (self.hw + 2 * self.padding - self.kernel) // self.stride + 1
        return 2 * batch * self.k * out * out * self.c * self.kernel * self.kernel


# ResNet-18's 3x3 convolutions (stride 1, pad 1) and one large layer.
LAYERS = [ConvLayer(64, 64, 56), ConvLayer(128, 128, 28), ConvLayer(256, 256, 14),
          ConvLayer(512, 512, 7), ConvLayer(256, 256, 56)]


def random_mask(shape, sparsity: float, gen: torch.Generator) -> torch.Tensor:
    """Bool mask with exactly round(sparsity * numel) pruned entries at random places."""
    numel = torch.Size(shape).numel()
    keep = torch.ones(numel, dtype=torch.bool)
    keep[torch.randperm(numel, generator=gen)[:round(sparsity * numel)]] = False
    return keep.view(shape)


@dataclass
class Problem:
    layer: ConvLayer
    batch: int
    x: torch.Tensor
    w: torch.Tensor
    mask: torch.Tensor
    w_masked: torch.Tensor

    def run_ours(self):
        lay = self.layer
        return torch.ops.dsdkern.masked_conv(self.x, self.w, self.mask, None, [lay.stride] * 2,
                                             [lay.padding] * 2, [1, 1], 1)

    def run_torch(self):
        return F.conv2d(self.x, self.w_masked, None, self.layer.stride, self.layer.padding)


def make_problem(layer: ConvLayer, batch: int, sparsity: float, dtype=torch.float32,
                 device: str = "cpu", seed: int = 0) -> Problem:
    """Fresh normal inputs and weights (never zeros) and a random mask of `sparsity`."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, layer.c, layer.hw, layer.hw, generator=gen).to(device, dtype)
    w = torch.randn(layer.k, layer.c, layer.kernel, layer.kernel, generator=gen)
    w = (w * (2.0 / (layer.c * layer.kernel ** 2)) ** 0.5).to(device, dtype)
    mask = random_mask(w.shape, sparsity, gen).to(device)
    return Problem(layer, batch, x, w, mask, w * mask)


@dataclass
class Row:
    layer: str
    batch: int
    sparsity: float
    dtype: str
    torch_ms: float
    ours_ms: float
    torch_gflops: float
    ours_gflops: float
    ratio: float  # torch time / our time; > 1 means dsdkern is faster
    threads: int
    device: str
    torch_min_ms: float  # the minimum is less sensitive to a loaded machine than the median
    ours_min_ms: float
    repeats: int


def run(layers=LAYERS, batches=(1, 8), sparsities=(0.0, 0.9), dtype="float32", device="cpu",
        threads=None, warmup=2, repeats=10, budget_s=2.0, progress=None) -> list:
    """Times every (layer, batch, sparsity); both contenders run with the same thread count."""
    import dsdkern  # noqa: F401  (registers torch.ops.dsdkern)

    if threads is not None:
        torch.set_num_threads(threads)
    rows = []
    for layer in layers:
        for batch in batches:
            for seed, sparsity in enumerate(sparsities):
                pb = make_problem(layer, batch, sparsity, DTYPES[dtype], device, seed)
                with torch.no_grad():
                    times = time_ms({"torch": pb.run_torch, "ours": pb.run_ours}, device,
                                    warmup, repeats, budget_s)
                t_torch, t_ours = (statistics.median(times[k]) for k in ("torch", "ours"))
                flops = layer.flops(batch)
                row = Row(layer.name, batch, sparsity, dtype, t_torch, t_ours,
                          flops / t_torch / 1e6, flops / t_ours / 1e6, t_torch / t_ours,
                          torch.get_num_threads(), device, min(times["torch"]),
                          min(times["ours"]), len(times["ours"]))
                rows.append(row)
                if progress:
                    progress(row)
    return rows


HEADER = ("layer", "N", "sparsity", "dtype", "torch ms", "ours ms", "torch GF/s", "ours GF/s",
          "ratio", "threads")


def format_row(r: Row) -> str:
    return (f"{r.layer:<20} {r.batch:>3} {r.sparsity:>8.0%} {r.dtype:>8} {r.torch_ms:>10.3f} "
            f"{r.ours_ms:>10.3f} {r.torch_gflops:>10.1f} {r.ours_gflops:>10.1f} "
            f"{r.ratio:>7.2f} {r.threads:>7}")


def format_header() -> str:
    widths = (20, 3, 8, 8, 10, 10, 10, 10, 7, 7)
    return " ".join(h.ljust(w) if i == 0 else h.rjust(w)
                    for i, (h, w) in enumerate(zip(HEADER, widths)))


def metadata(device: str) -> dict:
    from dsdkern import _C

    return {"machine": machine_name(device), "device": device, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "algorithms": _C.conv_algorithms(),
            "peer": "F.conv2d(x, w*m), w*m precomputed; GFLOP/s dense-equivalent; "
                    "ratio = torch ms / ours ms (> 1: dsdkern faster)"}


def register(areas) -> None:
    p = areas.add_parser("conv", help="masked_conv vs F.conv2d on ResNet-18 3x3 layers",
                         description=__doc__)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads for both contenders (default: torch's)")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    p.add_argument("--sparsity", type=float, nargs="+", default=[0.0, 0.9],
                   help="fractions of pruned weights (default: 0 0.9)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10, help="timed runs; median reported")
    p.add_argument("--budget", type=float, default=2.0,
                   help="stop repeating (after 3 rounds) once the rounds took this many seconds per contender")
    p.add_argument("--json", metavar="PATH", help="also write metadata and rows as JSON")
    p.set_defaults(func=main)


def main(args) -> int:
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench conv: --device cuda but torch.cuda.is_available() is False")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    meta = metadata(args.device)
    print(f"# {meta['machine']} | device {args.device} | torch {meta['torch']} | "
          f"threads {meta['threads']} | dsdkern algorithms {', '.join(meta['algorithms'])}")
    print(f"# {meta['peer']}")
    print(format_header(), flush=True)
    rows = run(LAYERS, args.batch, args.sparsity, args.dtype, args.device, args.threads,
               args.warmup, args.repeats, args.budget,
               progress=lambda r: print(format_row(r), flush=True))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": [asdict(r) for r in rows]}, f, indent=1)
        print(f"# wrote {args.json}")
    return 0
