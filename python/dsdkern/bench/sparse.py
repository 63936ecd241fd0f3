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
to end row is a pruned torchvision ResNet-18 (bench/sparse_resnet.py).
"""
import json
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F

from .conv import LAYERS, ConvLayer, make_problem, random_mask
from .timing import cpu_isa, machine_name, time_ms

# The fixed algorithms (dsdkern.ops.sparse_algorithms) that skip pruned weights: the
# break-even sparsity is read from them (the others are dense: dense_torch, implicit_gemm,
# masked_gemm).
SPARSE_ALGOS = ("direct_sparse", "sparse_tile", "sparse_gemm")
TOLERANCE = 1e-4  # max |ours - dense| / max |dense| that float32 summation order explains


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
class Row:
    group: str  # the target list's name for it: "conv 90 %", "crossover conv", "e2e", ...
    layer: str
    batch: int
    sparsity: float
    contender: str  # what "ours" ran: "auto" or a fixed algorithm
    ours_ms: float
    dense_ms: float
    csr_ms: float | None
    ratio: float  # dense_ms / ours_ms
    csr_ratio: float | None  # csr_ms / ours_ms
    max_rel_err: float  # max |ours - dense| / max |dense| over the output
    threads: int
    repeats: int
    picked: str | None = None  # the algorithm auto's Find chose (auto rows)


@dataclass(frozen=True)
class Target:
    """One of issue 9's targets: `stat` of `measure` over the selected rows, `op` threshold.

    measure: "ratio", "csr_ratio", "slowdown" (ours / dense = 1 / ratio) or "max_rel_err";
    stat: "geomean", "min", "max" (every row must pass), or "break_even" (the highest
    break-even sparsity over the selected layers)."""
    name: str
    groups: tuple
    measure: str
    stat: str
    op: str
    threshold: float
    batch: int | None = None  # None: every batch
    max_sparsity: float = 1.0
    contenders: tuple | None = ("auto",)  # None: every contender

    def selects(self, row: Row) -> bool:
        return (row.group in self.groups and self.batch in (None, row.batch)
                and row.sparsity <= self.max_sparsity
                and (self.contenders is None or row.contender in self.contenders))


BREAK_EVEN = Target("break-even sparsity (sparse = dense)", ("crossover conv",), "ratio",
                    "break_even", "<=", 0.60, contenders=SPARSE_ALGOS)
CROSSOVER_GROUPS = ("crossover conv", "crossover linear")
ALL_GROUPS = ("conv 90 %", "conv 80 %", "linear 90 %", "e2e") + CROSSOVER_GROUPS
TARGETS = (
    Target("conv 90 %, N=1: geometric mean", ("conv 90 %",), "ratio", "geomean", ">=", 3.0, 1),
    Target("conv 90 %, N=1: every layer", ("conv 90 %",), "ratio", "min", ">=", 2.0, 1),
    Target("conv 90 %, N=8: geometric mean", ("conv 90 %",), "ratio", "geomean", ">=", 2.5, 8),
    Target("conv 90 %, N=8: every layer", ("conv 90 %",), "ratio", "min", ">=", 2.0, 8),
    Target("conv 80 %, N=1: geometric mean", ("conv 80 %",), "ratio", "geomean", ">=", 2.0, 1),
    BREAK_EVEN,
    Target("linear 90 %, N=1: vs dense", ("linear 90 %",), "ratio", "min", ">=", 5.0, 1),
    Target("linear 90 %: vs torch CSR", ("linear 90 %",), "csr_ratio", "min", ">=", 1.5),
    Target("auto 0-95 %: time / dense", ALL_GROUPS[:3] + CROSSOVER_GROUPS, "slowdown", "max",
           "<=", 1.10, max_sparsity=0.95),
    Target("ResNet-18 end to end, N=1", ("e2e",), "ratio", "min", ">=", 2.5),
    Target("outputs match torch dense", ALL_GROUPS, "max_rel_err", "max", "<=", TOLERANCE,
           contenders=None),
)


def _value(row: Row, measure: str) -> float | None:
    if measure == "slowdown":
        return 1.0 / row.ratio
    return getattr(row, measure)


def _passes(value: float, op: str, threshold: float) -> bool:
    return value >= threshold if op == ">=" else value <= threshold


def break_even(rows: list) -> float | None:
    """Lowest sparsity from which the best of `rows` (one layer, any contenders) is at least
    as fast as dense at every measured sparsity, interpolated linearly between the last
    sparsity below dense and the next; None when the best is below dense at the highest."""
    best = {}
    for r in rows:
        best[r.sparsity] = max(best.get(r.sparsity, 0.0), r.ratio)
    points = sorted(best.items())
    if not points or points[-1][1] < 1.0:
        return None
    below = [i for i, (_, ratio) in enumerate(points) if ratio < 1.0]
    if not below:
        return points[0][0]
    (s0, r0), (s1, r1) = points[below[-1]], points[below[-1] + 1]
    return s0 + (1.0 - r0) / (r1 - r0) * (s1 - s0)


@dataclass
class Check:
    target: str
    value: float | None  # None: not measured in this run (or, for break-even, never reached)
    op: str
    threshold: float
    met: bool | None  # None: not measured
    rows: int  # how many rows the value comes from


def layer_break_evens(rows: list) -> dict:
    """{layer: break_even of its rows} for rows of any layers."""
    layers = dict.fromkeys(r.layer for r in rows)
    return {name: break_even([r for r in rows if r.layer == name]) for name in layers}


STATISTICS = {"geomean": statistics.geometric_mean, "min": min, "max": max}


def check(target: Target, rows: list) -> Check:
    chosen = [r for r in rows if target.selects(r)]
    if not chosen:
        return Check(target.name, None, target.op, target.threshold, None, 0)
    if target.stat == "break_even":
        evens = list(layer_break_evens(chosen).values())
        value = None if None in evens else max(evens)
    else:
        value = STATISTICS[target.stat]([_value(r, target.measure) for r in chosen])
    met = value is not None and _passes(value, target.op, target.threshold)
    return Check(target.name, value, target.op, target.threshold, met, len(chosen))


def checks(rows: list) -> list:
    return [check(t, rows) for t in TARGETS]


def row_targets(row: Row) -> list:
    """The speed targets every selected row must pass on its own (min / max statistics)."""
    return [t for t in TARGETS if t.stat in ("min", "max") and t.measure != "max_rel_err"
            and t.selects(row)]


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

        return ops.sparse_algorithms(self.module._algo_kind)[1:]  # [0] is "auto"


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


def _ms(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _x(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _verdict(met) -> str:
    return {True: "met", False: "MISSED", None: "not run"}[met]


def _target_text(t: Target) -> str:
    unit = {"ratio": "x dense", "csr_ratio": "x CSR", "slowdown": "x dense time"}[t.measure]
    op = t.op.replace(">=", "≥").replace("<=", "≤")
    return f"{'geomean ' if t.stat == 'geomean' else ''}{op}{t.threshold:g}{unit}"


def table_rows(result: dict) -> list:
    """A TABLE_HEADER tuple per row of the targets and the end to end (not the crossover):
    "target" names the group's geometric-mean target too (see the checks), "row met" says
    whether the row passes its own ones."""
    out = []
    for d in result["rows"]:
        if d["group"] in CROSSOVER_GROUPS:
            continue
        r = Row(**d)
        ts = row_targets(r)
        met = all(_passes(_value(r, t.measure), t.op, t.threshold) for t in ts) if ts else None
        shown = [t for t in TARGETS if t.stat == "geomean" and t.selects(r)] + ts
        out.append((f"{r.group}: {r.layer}", str(r.batch), f"{r.sparsity:.0%}", _ms(r.ours_ms),
                    r.picked or r.contender, _ms(r.dense_ms), _ms(r.csr_ms), _x(r.ratio),
                    _x(r.csr_ratio),
                    ", ".join(map(_target_text, shown)), "" if met is None else _verdict(met)))
    return out


TABLE_HEADER = ("layer", "N", "sparsity", "ours ms", "auto ran", "dense ms", "CSR ms", "ratio",
                "CSR ratio", "target", "row met")


def crossover_tables(result: dict) -> list:
    """[(group, header, rows)] per crossover group (conv, linear): per layer and sparsity,
    dense ms, each contender's speed-up over dense (and torch CSR's, for linear), auto's
    pick."""
    tables = []
    for group in CROSSOVER_GROUPS:
        rows = [Row(**d) for d in result["rows"] if d["group"] == group]
        if not rows:
            continue
        contenders = tuple(dict.fromkeys(r.contender for r in rows))
        csr = group == "crossover linear"
        header = ("layer", "sparsity", "dense ms") + contenders + ("torch CSR",) * csr \
            + ("auto ran",)
        out = []
        for layer in dict.fromkeys(r.layer for r in rows):
            for sparsity in sorted({r.sparsity for r in rows if r.layer == layer}):
                at = {r.contender: r for r in rows if r.layer == layer and r.sparsity == sparsity}
                first = next(iter(at.values()))
                out.append((layer, f"{sparsity:.0%}", _ms(first.dense_ms))
                           + tuple(_x(at[c].ratio) if c in at else "—" for c in contenders)
                           + ((_x(first.dense_ms / first.csr_ms),) if csr else ())
                           + (at["auto"].picked if "auto" in at else "—",))
        tables.append((group, header, out))
    return tables


def check_rows(result: dict) -> list:
    out = []
    for c in result["checks"]:
        value = c["value"]
        if value is not None and "sparsity" in c["target"]:
            shown = f"{value:.0%}"
        elif value is not None and c["threshold"] < 1e-2:
            shown = f"{value:.1e}"
        else:
            shown = _x(value)
        if value is None and c["met"] is False:
            shown = "never"
        out.append((c["target"], shown, f"{c['op']} {c['threshold']:g}", _verdict(c["met"]),
                    str(c["rows"])))
    return out


CHECK_HEADER = ("target", "value", "threshold", "", "rows")


def _print_table(header, rows) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for line in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths)).rstrip())


def print_result(result: dict) -> None:
    """The target table, the crossover table, the end-to-end line and the checks."""
    _print_table(TABLE_HEADER, table_rows(result))
    for group, header, crossover in crossover_tables(result):
        print(f"\n{group}: speed-up over torch dense, N=1")
        _print_table(header, crossover)
    if result["break_even"]:
        print("break-even sparsity (fastest sparse algorithm = torch dense): " + ", ".join(
            f"{layer} {'never' if s is None else f'{s:.0%}'}"
            for layer, s in result["break_even"].items()))
    if result["e2e"] is not None:
        print()
        print(result["e2e"]["summary"])
    print()
    _print_table(CHECK_HEADER, check_rows(result))


def markdown(header, rows) -> list:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + \
        ["| " + " | ".join(row) + " |" for row in rows]


def markdown_report(result: dict, plot_png: str | None) -> list:
    """The tables of `result` as markdown lines, with the crossover plot when one is named."""
    meta = result["meta"]
    lines = [f"`python -m dsdkern bench sparse` ({meta['date']}): {meta['machine']}, ISA "
             f"{meta['isa']}, {meta['threads']} threads, torch {meta['torch']}, float32, uniform "
             f"random masks. {meta['peers']}.", "",
             *markdown(TABLE_HEADER, table_rows(result)), ""]
    for group, header, crossover in crossover_tables(result):
        lines += [f"{group.capitalize()}: speed-up over torch dense, N=1.", "",
                  *markdown(header, crossover), ""]
    if plot_png:
        lines += [f"![speed-up against sparsity]({plot_png})", ""]
    if result["e2e"] is not None:
        lines += [result["e2e"]["summary"] + ".", ""]
    return lines + [*markdown(CHECK_HEADER, check_rows(result)), ""]


def plot(result: dict, path: str) -> None:
    """Speed-up over torch dense against sparsity, one panel per crossover layer."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    rows = [Row(**d) for d in result["rows"] if d["group"].startswith("crossover")]
    layers = list(dict.fromkeys(r.layer for r in rows))
    fig, axes = plt.subplots(1, max(len(layers), 1), figsize=(5 * max(len(layers), 1), 4),
                             squeeze=False)
    for ax, layer in zip(axes[0], layers):
        mine = [r for r in rows if r.layer == layer]
        for name in dict.fromkeys(r.contender for r in mine):
            pts = sorted((r.sparsity * 100, r.ratio) for r in mine if r.contender == name)
            ax.plot(*zip(*pts), marker="o", ms=3, lw=2.5 if name == "auto" else 1.2,
                    label=f"dsdkern {name}")
        csr = sorted({(r.sparsity * 100, r.dense_ms / r.csr_ms) for r in mine
                      if r.csr_ms is not None})
        if csr:
            ax.plot(*zip(*csr), marker="s", ms=3, ls="--", label="torch CSR")
        ax.axhline(1.0, color="black", lw=1, label="torch dense")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("sparsity (%)")
        ax.set_ylabel("speed-up over torch dense")
        ax.set_title(f"{layer}, N=1")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    meta = result["meta"]
    fig.suptitle(f"{meta['machine']} ({meta['isa']}), {meta['threads']} threads, float32",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
