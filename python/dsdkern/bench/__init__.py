"""Benchmarks behind `python -m dsdkern bench <area>`: one module per area."""
