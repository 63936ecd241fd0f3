"""`python -m dsdkern demo [area]`: short runs on packaged data sets that show what
dsdkern does next to the library a user would pick instead. Each area is a module with
register(subparsers) and run(args) listed in AREAS; with no area (the README's main
job), every area runs in turn."""
import argparse
import importlib

AREAS = ("dsdkern.demo.train", "dsdkern.demo.svm", "dsdkern.demo.conv", "dsdkern.demo.sparse")


def add_options(parser, area=False) -> None:
    """The options every area reads. The demo parser sets their defaults; an area's own
    parser leaves them unset unless given (SUPPRESS), so `demo --threads 2 svm` keeps 2."""
    def default(value):
        return argparse.SUPPRESS if area else value

    parser.add_argument("--threads", type=int, default=default(None),
                        help="CPU threads for dsdkern and its peers (default: torch's; "
                             "the training demo: 1, the sparse one: 2)")
    parser.add_argument("--out", default=default("results"),
                        help="folder for the report: report.md, report.json, PNG plots; "
                             "the sparse demo adds its section, sparse.json and "
                             "sparse_crossover.png (default: results)")
    parser.add_argument("--quick", action="store_true", default=default(False),
                        help="training demo: a few epochs and one seed (a smoke run)")


def register(commands) -> None:
    parser = commands.add_parser("demo", help="short demonstrations on packaged data sets "
                                              "(every area when none is named)",
                                 description=__doc__.splitlines()[0])
    add_options(parser)
    areas = parser.add_subparsers(dest="area", metavar="area")
    for module in AREAS:
        importlib.import_module(module).register(areas)
    parser.set_defaults(func=run_all)


def run_all(args) -> int:
    status = 0
    for module in AREAS:
        status |= importlib.import_module(module).run(args) or 0
        print()
    return status
