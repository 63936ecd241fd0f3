"""`python -m dsdkern bench sparse`: issue 9's sparse-execution targets, measured in one run.

Every measurement times a dsdkern.nn masked layer (eval, under torch.inference_mode,
float32, no bias) against torch on the same weight and mask: F.conv2d(x, w * m) /
F.linear(x, w * m) with w * m precomputed ("dense"), and for linear layers torch's CSR,
torch.sparse.mm((w * m).to_sparse_csr(), x.T) ("csr"). "ours" is the layer with algo="auto"
unless a row names a fixed algorithm. Masks are uniform random with exactly
round(sparsity * numel) pruned entries, from fixed seeds; the contenders' timed runs are
interleaved (bench.timing.time_ms) and the medians reported. ratio = dense ms / ours ms,
csr ratio = csr ms / ours ms (> 1: dsdkern is faster). Auto's cached choices are cleared
before each case, so that its Find (in the warm-up) runs on that case's mask; "auto ran"
names the candidate it picked.

The crossover times every fixed algorithm, auto and the peers from 0 to 98 % on one early
and one deep 3x3 layer (and the linear layer in the full run). The break-even sparsity of
a layer is where its fastest sparse algorithm crosses torch dense (linear interpolation
between the measured sparsities): from there on auto has a sparse kernel to pick. The end
to end row is a pruned torchvision ResNet-18 (sparse_resnet.py); the targets and how rows
are judged by them are in sparse_targets.py, the tables and the plot in sparse_report.py.
"""
import json
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F

from .conv import LAYERS, ConvLayer, make_problem, random_mask
from .sparse_report import markdown_report, plot, print_result
from .sparse_targets import BREAK_EVEN, Row, checks, layer_break_evens
from .timing import cpu_isa, machine_name, time_ms


@dataclass(frozen=True)
class LinearLayer:
    out_features: int
    in_features: int

    @property
    def name(self) -> str:
        return f"linear {self.out_features}x{self.in_features}"


LINEAR = LinearLayer(4096, 9216)
CROSSOVER_SPARSITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9,
                        0.95, 0.98)


@dataclass(frozen=True)
class Plan:
    """What one run measures; FULL is issue 9's list, QUICK a smoke run of seconds."""
    conv_layers: tuple = tuple(LAYERS)
    conv90_batches: tuple = (1, 8)
    conv80_batches: tuple = (1,)
    linear_batches: tuple = (1, 16)
    crossover_layers: tuple = (LAYERS[0], LAYERS[2], LINEAR)
    crossover_sparsities: tuple = CROSSOVER_SPARSITIES
    e2e_size: int = 224
    warmup: int = 2
    repeats: int = 20
    budget_s: float = 2.0


FULL = Plan()
QUICK = Plan(conv_layers=(LAYERS[2], LAYERS[3]), conv90_batches=(1,), linear_batches=(1,),
             crossover_layers=(LAYERS[2],), crossover_sparsities=(0.0, 0.5, 0.9, 0.98),
             warmup=1, repeats=3, budget_s=0.2)
PARTS = ("targets", "crossover", "e2e")


@dataclass
class Case:
    """One layer, batch and sparsity: the masked layer (eval) and torch's callables."""
    layer: ConvLayer | LinearLayer
    batch: int
    sparsity: float
    x: torch.Tensor
    module: torch.nn.Module
    peers: dict  # "dense" (and "csr" for linear): callables returning the output

    @property
    def algos(self) -> tuple:
        """Every fixed algorithm this layer's `algo` accepts."""
        from .. import ops

        kind = "linear" if isinstance(self.layer, LinearLayer) else "conv"
        return ops.sparse_algorithms(kind)[1:]  # [0] is "auto"


def make_case(layer, batch: int, sparsity: float, seed: int) -> Case:
    """Fresh normal input and weight (He-scaled), exact-count random mask, from `seed`."""
    from .. import nn as dnn

    if isinstance(layer, LinearLayer):
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(batch, layer.in_features, generator=gen)
        w = torch.randn(layer.out_features, layer.in_features, generator=gen)
        w *= (2.0 / layer.in_features) ** 0.5
        mask = random_mask(w.shape, sparsity, gen)
        module = dnn.MaskedLinear(layer.in_features, layer.out_features, bias=False)
        wm = w * mask
        with warnings.catch_warnings():  # "sparse CSR support is in beta": known, not news
            warnings.simplefilter("ignore", UserWarning)
            csr = wm.to_sparse_csr()
        peers = {"dense": lambda: F.linear(x, wm),
                 "csr": lambda: torch.sparse.mm(csr, x.t()).t()}
    else:
        pb = make_problem(layer, batch, sparsity, seed=seed)
        x, w, mask = pb.x, pb.w, pb.mask
        module = dnn.MaskedConv2d(layer.c, layer.k, layer.kernel, layer.stride, layer.padding,
                                  bias=False)
        peers = {"dense": pb.run_torch}
    with torch.no_grad():
        module.weight.copy_(w)
    module.set_mask(mask)
    return Case(layer, batch, sparsity, x, module.eval(), peers)


def _with_algo(module, algo: str):
    """A layer sharing `module`'s weight and mask that runs `algo` (its own packed cache)."""
    if algo == "auto":
        return module
    layer = type(module).from_dense(module).eval()
    layer.algo = algo
    return layer


def measure(case: Case, group: str, algos=(), plan: Plan = QUICK) -> list:
    """Times the peers, auto and each of `algos` on `case` in one interleaved run; one Row per
    dsdkern contender. Auto measures its candidates afresh on this case's mask (its cached
    choices are cleared first), in the warm-up."""
    from .. import ops

    ops.clear_algorithm_choices()
    layers = {name: _with_algo(case.module, name) for name in ("auto",) + tuple(algos)}
    fns = dict(case.peers) | {name: (lambda m=m: m(case.x)) for name, m in layers.items()}
    with torch.inference_mode():
        times = time_ms(fns, "cpu", plan.warmup, plan.repeats, plan.budget_s)
        ref = case.peers["dense"]()
        errors = {name: float((fns[name]() - ref).abs().max() / ref.abs().max())
                  for name in layers}
    (choice,) = ops.sparse_algorithm_choices()  # one problem since the clear: this one
    ms = {name: statistics.median(t) for name, t in times.items()}
    csr = ms.get("csr")
    return [Row(group, case.layer.name, case.batch, case.sparsity, name, ms[name], ms["dense"],
                csr, ms["dense"] / ms[name], None if csr is None else csr / ms[name],
                errors[name], torch.get_num_threads(), len(times[name]),
                choice["algorithm"] if name == "auto" else None)
            for name in layers]


def target_cases(plan: Plan):
    """(group, layer, batch, sparsity) of the rows that issue 9's layer targets read."""
    for group, sparsity, batches in (("conv 90 %", 0.9, plan.conv90_batches),
                                     ("conv 80 %", 0.8, plan.conv80_batches)):
        for batch in batches:
            for layer in plan.conv_layers:
                yield group, layer, batch, sparsity
    for batch in plan.linear_batches:
        yield "linear 90 %", LINEAR, batch, 0.9


def run(plan: Plan = QUICK, parts=PARTS, progress=None) -> dict:
    """Measures `parts` of `plan` with torch's current thread count; returns the result
    dict that --json writes (meta, rows, checks, break_even, e2e)."""
    rows, seed = [], 0

    def add(new):
        rows.extend(new)
        for r in new:
            if progress:
                progress(r)

    if "targets" in parts:
        for group, layer, batch, sparsity in target_cases(plan):
            seed += 1
            add(measure(make_case(layer, batch, sparsity, seed), group, (), plan))
    if "crossover" in parts:
        for layer in plan.crossover_layers:
            kind = "linear" if isinstance(layer, LinearLayer) else "conv"
            for sparsity in plan.crossover_sparsities:
                seed += 1
                case = make_case(layer, 1, sparsity, seed)
                add(measure(case, f"crossover {kind}", case.algos, plan))
    e2e = None
    if "e2e" in parts:
        from . import sparse_resnet
        e2e = sparse_resnet.run(plan.e2e_size, plan)
        if e2e["row"] is not None:
            add([Row(**e2e["row"])])
    return {"meta": metadata(), "plan": asdict(plan), "rows": [asdict(r) for r in rows],
            "checks": [asdict(c) for c in checks(rows)],
            "break_even": layer_break_evens([r for r in rows if BREAK_EVEN.selects(r)]),
            "e2e": e2e}


def metadata() -> dict:
    from .. import ops

    return {"machine": machine_name("cpu"), "isa": cpu_isa(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "dtype": "float32",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "conv_algorithms": ops.sparse_algorithms("conv"),
            "linear_algorithms": ops.sparse_algorithms("linear"),
            "peers": "dense: F.conv2d / F.linear on w*m precomputed; csr: torch.sparse.mm("
                     "(w*m).to_sparse_csr(), x.T); ratio = peer ms / ours ms (> 1: dsdkern "
                     "faster); model.eval() under torch.inference_mode()"}


def register(areas) -> None:
    p = areas.add_parser("sparse", help="sparse execution vs torch dense and CSR: issue 9's "
                                        "targets, crossover, ResNet-18", description=__doc__)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--quick", action="store_true",
                   help="two layers, one crossover layer, few repeats (seconds)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                   help="what to measure (default: all)")
    p.add_argument("--repeats", type=int, help="timed rounds per case (median reported)")
    p.add_argument("--size", type=int, help="ResNet-18 input height and width (default 224)")
    p.add_argument("--json", metavar="PATH", help="write meta, rows and checks as JSON")
    p.add_argument("--plot", metavar="PATH", help="write the crossover plot (PNG)")
    p.add_argument("--markdown", metavar="PATH",
                   help="write the tables as markdown (linking the --plot file)")
    p.set_defaults(func=main)


def main(args) -> int:
    for name, value in (("--threads", args.threads), ("--repeats", args.repeats),
                        ("--size", args.size)):
        if value is not None and value < 1:
            raise SystemExit(f"bench sparse: {name} must be >= 1, got {value}")
    plan = QUICK if args.quick else FULL
    plan = replace(plan, repeats=args.repeats or plan.repeats,
                   e2e_size=args.size or plan.e2e_size)
    torch.set_num_threads(args.threads)
    meta = metadata()
    print(f"# {meta['machine']} | ISA {meta['isa']} | torch {meta['torch']} | "
          f"threads {meta['threads']} | float32 | conv algos {', '.join(meta['conv_algorithms'])}"
          f" | linear algos {', '.join(meta['linear_algorithms'])}")
    print(f"# {meta['peers']}", flush=True)
    result = run(plan, args.parts, progress=lambda r: print(
        f"  {r.group}: {r.layer} N={r.batch} {r.sparsity:.0%} {r.contender}: "
        f"ours {r.ours_ms:.3f} ms, dense {r.dense_ms:.3f} ms, ratio {r.ratio:.2f}", flush=True))
    print()
    print_result(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
        print(f"# wrote {args.json}")
    if args.plot:
        plot(result, args.plot)
        print(f"# wrote {args.plot}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(markdown_report(result, args.plot)))
        print(f"# wrote {args.markdown}")
    return 0
