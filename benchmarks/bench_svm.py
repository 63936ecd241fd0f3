"""pytest-benchmark: SVM training on small problems, dsdkern against its peers with
the same thread count (BENCHMARKS.md data; big sizes: benchmarks/svm_scaling.py).

    PYTHONPATH=python python -m pytest benchmarks/bench_svm.py --benchmark-only
"""
import importlib.util

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from dsdkern.bench import svm as bench

THREADS = 2
CASES = ["digits", "2000"]


@pytest.fixture(scope="module", params=CASES)
def data(request):
    return request.param, bench.load(request.param)


def _available(contender):
    module = {"sklearnex": "sklearnex", "thundersvm": "thundersvm"}.get(contender)
    return module is None or importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("contender", bench.CONTENDERS)
def test_fit(benchmark, data, contender):
    if not _available(contender):
        pytest.skip(f"{contender} is not installed")
    name, (Xtr, Xte, ytr, yte) = data
    torch.set_num_threads(THREADS)
    with threadpool_limits(limits=THREADS):
        model = benchmark.pedantic(
            lambda: bench._estimator(contender, THREADS, Xtr).fit(Xtr, ytr),
            rounds=3, warmup_rounds=1)
        accuracy = float(np.mean(np.asarray(model.predict(Xte)).astype(ytr.dtype) == yte))
    benchmark.group = f"svm fit {name}"
    benchmark.extra_info.update(accuracy=accuracy, n_sv=bench._n_support(model),
                                threads=THREADS, n_train=len(ytr))
