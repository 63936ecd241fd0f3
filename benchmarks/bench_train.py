"""One training step of LeNet-300-100 and LeNet-5 at ~90 % sparsity: masked layers against
the plain torch layers and against torch.nn.utils.prune on the same masks (pytest-benchmark).

    PYTHONPATH=python python -m pytest benchmarks/bench_train.py --threads 2

One benchmark group per (net, batch) holding the three contenders; nets, masks and steps
are those of `python -m dsdkern bench train` (dsdkern.bench.train).
"""
import pytest

from dsdkern.bench.train import CONTENDERS, NETS, make_setup, state_bytes

CASES = [(net, batch) for net in NETS for batch in (32, 128)]


@pytest.mark.parametrize("contender", CONTENDERS)
@pytest.mark.parametrize("net,batch", CASES, ids=[f"{n}_N{b}" for n, b in CASES])
def test_train_step(benchmark, threads, device, contender, net, batch):
    if device != "cpu":
        pytest.skip("the training-step benchmark is CPU only")
    setup = make_setup(net, batch, sparsity=0.9)
    benchmark.group = f"{net} N={batch}"
    benchmark.extra_info.update(threads=threads, sparsity=0.9,
                                state_bytes=state_bytes(setup.nets[contender]))
    benchmark.pedantic(setup.step, args=(contender,), warmup_rounds=3, rounds=30)
