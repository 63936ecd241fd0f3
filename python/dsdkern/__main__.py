"""Command line: python -m dsdkern {bench,demo} <area> [options]."""
import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m dsdkern")
    commands = parser.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("bench", help="benchmarks against the peers of BENCHMARKS.md")
    bench_areas = bench.add_subparsers(dest="area", required=True)
    from .bench import svm as bench_svm
    p = bench_areas.add_parser("svm", help="kernel SVM training vs LIBSVM, oneDAL, ThunderSVM",
                               description=bench_svm.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_svm.add_arguments(p)
    p.set_defaults(func=bench_svm.run)

    demo = commands.add_parser("demo", help="short demonstrations on packaged data sets")
    demo_areas = demo.add_subparsers(dest="area", required=True)
    from . import demo_svm
    p = demo_areas.add_parser("svm", help="both SVM solvers against LIBSVM on digits and "
                                          "breast_cancer")
    demo_svm.add_arguments(p)
    p.set_defaults(func=demo_svm.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
