"""Issue 9's sparse-execution targets as data, and how `bench sparse` judges its rows by them:
a Target is a statistic (geometric mean, min, max, break-even sparsity) of one measure
(speed-up over torch dense or torch CSR, ours / dense time, relative error) over the rows it
selects, compared with a threshold."""
import statistics
from dataclasses import dataclass

# The fixed algorithms (dsdkern.ops.sparse_algorithms) that skip pruned weights: the
# break-even sparsity is read from them (the others are dense: dense_torch, implicit_gemm,
# masked_gemm).
SPARSE_ALGOS = ("direct_sparse", "sparse_tile", "sparse_gemm")
TOLERANCE = 1e-4  # max |ours - dense| / max |dense| that float32 summation order explains


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


def measure_of(row: Row, measure: str) -> float | None:
    """The row's value of a Target's `measure`."""
    if measure == "slowdown":
        return 1.0 / row.ratio
    return getattr(row, measure)


def passes(value: float, op: str, threshold: float) -> bool:
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
        value = STATISTICS[target.stat]([measure_of(r, target.measure) for r in chosen])
    met = value is not None and passes(value, target.op, target.threshold)
    return Check(target.name, value, target.op, target.threshold, met, len(chosen))


def checks(rows: list) -> list:
    return [check(t, rows) for t in TARGETS]


def row_targets(row: Row) -> list:
    """The speed targets every selected row must pass on its own (min / max statistics)."""
    return [t for t in TARGETS if t.stat in ("min", "max") and t.measure != "max_rel_err"
            and t.selects(row)]
