"""Command line: python -m dsdkern <command> ...

Each command lives in its own module, which defines register(subparsers): it adds its
parser and sets `func` (called with the parsed arguments, returns the exit status).
A new command is one more entry in COMMANDS.
"""
import argparse
import importlib
import sys

COMMANDS = ("dsdkern.bench", "dsdkern.demo")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dsdkern", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for module in COMMANDS:
        importlib.import_module(module).register(commands)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
