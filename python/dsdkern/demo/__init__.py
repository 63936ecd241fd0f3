"""`python -m dsdkern demo [area]`: short runs on packaged data sets that show what
dsdkern does next to the library a user would pick instead. Each area is a module with
register(subparsers) and run(args) listed in AREAS; with no area (the README's main
job), every area runs in turn."""
import importlib

AREAS = ("dsdkern.demo.conv", "dsdkern.demo.svm")


def register(commands) -> None:
    parser = commands.add_parser("demo", help="short demonstrations on packaged data sets "
                                              "(every area when none is named)",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for dsdkern and its peers (default: torch's)")
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
