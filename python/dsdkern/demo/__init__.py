"""`python -m dsdkern demo <area>`: short runs on packaged data sets that show what
dsdkern does next to the library a user would pick instead. Each area is a module with
register(subparsers) listed in AREAS."""
import importlib

AREAS = ("dsdkern.demo.svm",)


def register(commands) -> None:
    parser = commands.add_parser("demo", help="short demonstrations on packaged data sets",
                                 description=__doc__.splitlines()[0])
    areas = parser.add_subparsers(dest="area", required=True, metavar="area")
    for module in AREAS:
        importlib.import_module(module).register(areas)
