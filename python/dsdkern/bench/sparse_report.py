"""How `bench sparse` shows a result: the target table, the crossover tables, the checks
(as text or markdown) and the crossover plot."""
from .sparse_targets import (CROSSOVER_GROUPS, TARGETS, Row, Target, measure_of, passes,
                             row_targets)


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
        met = all(passes(measure_of(r, t.measure), t.op, t.threshold) for t in ts) if ts else None
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
