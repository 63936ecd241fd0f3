"""`python -m dsdkern demo sparse`: a quick `bench sparse` (two ResNet-18 3x3 layers at 80 and
90 %, the 4096x9216 linear layer, the crossover of the 256->256 14x14 layer), printed and
written as the "Sparse execution" section of --out/report.md, with its JSON and plot."""
import json
import os
import re

from . import add_options

HEADING = "## Sparse execution"
PLOT = "sparse_crossover.png"


def register(areas) -> None:
    p = areas.add_parser("sparse", help="sparse layers vs torch dense and CSR: a quick "
                                        "bench sparse, into the report", description=__doc__)
    add_options(p, area=True)
    p.set_defaults(func=run)


def section(result: dict) -> list:
    """The report's markdown lines for a quick `bench sparse` result."""
    from ..bench import sparse_report

    return [HEADING, "", "A quick run (a few layers, few repeats, no ResNet-18): for issue 9's "
            "targets run `python -m dsdkern bench sparse` on a quiet machine "
            "(benchmarks/RESULTS.md).", "", *sparse_report.markdown_report(result, PLOT)]


def write_section(out: str, lines: list) -> str:
    """Puts `lines` into out/report.md in place of an earlier sparse section (or at its
    end); returns the path."""
    path = os.path.join(out, "report.md")
    text = open(path).read() if os.path.exists(path) else "# dsdkern demo\n"
    # An earlier section runs from its heading to the next level-2 heading or the end.
    text = re.sub(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", "", text,
                  flags=re.S | re.M).rstrip("\n")
    with open(path, "w") as f:
        f.write(text + "\n\n" + "\n".join(lines))
    return path


def run(args) -> int:
    import torch

    from ..bench import sparse, sparse_report

    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads or 2)  # issue 9's targets are set at 2 threads
    try:
        print("== sparse execution (CPU, float32): a quick bench sparse")
        result = sparse.run(sparse.QUICK, ("targets", "crossover"))
    finally:
        torch.set_num_threads(threads)
    sparse_report.print_result(result)
    os.makedirs(args.out, exist_ok=True)
    sparse_report.plot(result, os.path.join(args.out, PLOT))
    with open(os.path.join(args.out, "sparse.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"report: {write_section(args.out, section(result))}")
    return 0
