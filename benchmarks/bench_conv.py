"""masked_conv vs dense F.conv2d(x, w * m) per ResNet-18 3x3 layer (pytest-benchmark).

    PYTHONPATH=python python -m pytest benchmarks/bench_conv.py --threads 2 [--device cuda]

One benchmark group per (layer, batch, sparsity) holding both contenders; the problems
and the layer list are those of `python -m dsdkern bench conv` (dsdkern.bench.conv).
"""
import pytest
import torch

from dsdkern.bench.conv import LAYERS, make_problem

CASES = [(layer, batch, sparsity) for layer in LAYERS for batch in (1, 8) for sparsity in (0.0, 0.9)]


@pytest.mark.parametrize("impl", ["torch", "dsdkern"])
@pytest.mark.parametrize("layer,batch,sparsity", CASES,
                         ids=[f"{l.c}-{l.k}_{l.hw}_N{b}_sp{s}" for l, b, s in CASES])
def test_conv(benchmark, threads, device, impl, layer, batch, sparsity):
    pb = make_problem(layer, batch, sparsity, device=device)
    fn = pb.run_torch if impl == "torch" else pb.run_ours
    if device == "cuda":
        def run():
            fn()
            torch.cuda.synchronize()
    else:
        run = fn
    benchmark.group = f"{layer.name} N={batch} sparsity={sparsity:.0%}"
    benchmark.extra_info.update(threads=threads, device=device, sparsity=sparsity,
                                dense_gflop=layer.flops(batch) / 1e9)
    with torch.no_grad():
        benchmark.pedantic(run, warmup_rounds=1, rounds=5 if batch == 1 else 3)
