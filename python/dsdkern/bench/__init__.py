"""`python -m dsdkern bench <area>`: timed comparisons against the peer a user would pick
instead (BENCHMARKS.md). Each area is a module with register(subparsers) listed in AREAS,
or with add_arguments(parser) and run(args) named in PLAIN_AREAS."""
import importlib

AREAS = ("dsdkern.bench.conv",)
PLAIN_AREAS = {"svm": ("dsdkern.bench.svm", "kernel SVM training vs LIBSVM, oneDAL, ThunderSVM")}


def register(commands) -> None:
    parser = commands.add_parser("bench", help="time dsdkern against its peers",
                                 description=__doc__.splitlines()[0])
    areas = parser.add_subparsers(dest="area", required=True, metavar="area")
    for module in AREAS:
        importlib.import_module(module).register(areas)
    for name, (module, help_text) in PLAIN_AREAS.items():
        mod = importlib.import_module(module)
        p = areas.add_parser(name, help=help_text, description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
