"""`python -m dsdkern bench <area>`: timed comparisons against the peer a user would pick
instead (BENCHMARKS.md). Each area is a module with register(subparsers) listed in AREAS."""
import importlib

AREAS = ("dsdkern.bench.conv", "dsdkern.bench.sparse", "dsdkern.bench.svm",
         "dsdkern.bench.train")


def register(commands) -> None:
    parser = commands.add_parser("bench", help="time dsdkern against its peers",
                                 description=__doc__.splitlines()[0])
    areas = parser.add_subparsers(dest="area", required=True, metavar="area")
    for module in AREAS:
        importlib.import_module(module).register(areas)
