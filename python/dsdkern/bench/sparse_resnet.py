"""The end-to-end row of `bench sparse`: a pruned ResNet-18 against the dense torch model.

torchvision's resnet18 architecture with random weights (no download), eval mode, swapped
to masked layers by dsdkern.nn.sparsify (algo "auto"), then pruned by
dsdkern.prune.magnitude with Han-like per-layer sparsities: the 3x3 convolutions of stages
1-4 at 85 / 88 / 92 / 95 % (Han et al. found the early layers the most sensitive, and the
deep stages hold most of the weights), a per-layer mean of 90 % (94 % of the 3x3 weights).
The first conv (7x7), the 1x1 downsampling convs and fc stay dense. sparsify also swaps the
max pool for dsdkern.nn.MaxPool2d (dsdk's CPU pooling), and the timed model has its batch
norms folded into the convs (dsdkern.nn.fold_batchnorm). The peer is dsdkern.nn.densify of
the unfolded model: plain torch layers on W ⊙ M, torch's pooling and batch norms. Two more
models, timed in the same rounds, say what each step gives: the sparse convs alone (torch's
pooling, unfolded batch norms), then with dsdk's pooling.
"""
import collections
import statistics
import time
from dataclasses import asdict

import torch

from .sparse_targets import Row
from .timing import time_ms

STAGE_SPARSITY = {"layer1": 0.85, "layer2": 0.88, "layer3": 0.92, "layer4": 0.95}
MISSING = ("ResNet-18 end to end: skipped, torchvision is not installed "
           "(pip install --no-deps torchvision==0.29.1)")


def _convs_3x3(module) -> list:
    from .. import nn as dnn

    return [(name, m) for name, m in module.named_modules()
            if isinstance(m, dnn.MaskedConv2d) and m.kernel_size == (3, 3)]


def pruned_resnet18(seed: int = 0, pool: bool = True) -> torch.nn.Module:
    """The sparsified, pruned ResNet-18 (eval) described above, batch norms unfolded;
    `pool` False keeps torch's max pool. Raises ImportError without torchvision."""
    import torchvision

    from .. import nn as dnn
    from .. import prune

    torch.manual_seed(seed)
    model = dnn.sparsify(torchvision.models.resnet18(weights=None),
                         exclude=() if pool else torch.nn.MaxPool2d).eval()
    for stage, sparsity in STAGE_SPARSITY.items():
        convs = torch.nn.ModuleList(m for _, m in _convs_3x3(getattr(model, stage)))
        prune.magnitude(convs, sparsity, exclude_first_conv=False)
    return model


def conv3x3_sparsity(model) -> dict:
    """{qualified name: sparsity} of the model's 3x3 masked convolutions."""
    return {name: m.sparsity for name, m in _convs_3x3(model)}


def run(size: int, plan) -> dict:
    """Times the pruned model against its densified twin at batch 1, size x size; returns
    the row (as a dict; None without torchvision), the per-layer sparsities and a summary."""
    try:
        convs_only = pruned_resnet18(pool=False)
    except ImportError:
        return {"row": None, "summary": MISSING}
    from .. import nn as dnn
    from .. import ops

    pooled = pruned_resnet18()
    dense = dnn.densify(pooled).eval()
    model = dnn.fold_batchnorm(pruned_resnet18())
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    ops.clear_algorithm_choices()
    with torch.inference_mode():
        t0 = time.perf_counter()
        model(x)  # auto's Find runs here, once per layer problem
        first_ms = (time.perf_counter() - t0) * 1e3
        # The target pair alone, as every other row is timed; the steps in a pass of their
        # own, so that their models' weights do not share the pair's cache.
        times = time_ms({"dense": lambda: dense(x), "auto": lambda: model(x)}, "cpu",
                        plan.warmup, plan.repeats, plan.budget_s)
        step_times = time_ms({"dense": lambda: dense(x), "convs": lambda: convs_only(x),
                              "pool": lambda: pooled(x)}, "cpu", plan.warmup, plan.repeats,
                             plan.budget_s)
        ref = dense(x)
        err = float((model(x) - ref).abs().max() / ref.abs().max())
    choices = ops.sparse_algorithm_choices()  # one per layer problem of the model
    picked = collections.Counter(c["algorithm"] for c in choices)
    ms = {name: statistics.median(t) for name, t in times.items()}
    layers = conv3x3_sparsity(model)
    counts = {name: m.weight.numel() for name, m in _convs_3x3(model)}
    weighted = sum(layers[n] * counts[n] for n in layers) / sum(counts.values())
    mean = statistics.mean(layers.values())
    row = Row("e2e", f"resnet18 {size}x{size}", 1, mean, "auto", ms["auto"], ms["dense"], None,
              ms["dense"] / ms["auto"], None, err, torch.get_num_threads(), len(times["auto"]),
              ", ".join(f"{name} x{n}" for name, n in picked.most_common()))
    step_ms = {name: statistics.median(t) for name, t in step_times.items()}
    steps = {name: step_ms["dense"] / step_ms[name] for name in ("convs", "pool")}
    summary = (f"ResNet-18 end to end, N=1, {size}x{size}: ours (sparse convs, dsdkern max "
               f"pool, folded batch norms) {row.ours_ms:.2f} ms, dense torch "
               f"{row.dense_ms:.2f} ms, ratio {row.ratio:.2f}; by step (a second timed pass), the "
               f"ratio with sparse "
               f"convs alone (torch's pool, unfolded batch norms) {steps['convs']:.2f}, plus "
               f"dsdkern's max pool {steps['pool']:.2f}, plus folded batch norms "
               f"{row.ratio:.2f} (first call, with auto's Find: {first_ms:.0f} ms); 3x3 convs "
               "pruned "
               + "/".join(f"{s:.0%}" for s in STAGE_SPARSITY.values())
               + f" by stage: mean {mean:.1%} per layer, {weighted:.1%} of their weights; "
               f"max relative error {err:.1e}; auto ran {row.picked} (per layer problem)")
    return {"row": asdict(row), "size": size, "stage_sparsity": STAGE_SPARSITY,
            "choices": choices,
            "layers": layers, "mean_sparsity": mean, "weighted_sparsity": weighted,
            "first_call_ms": first_ms,
            "step_ms": {"dense": step_ms["dense"], "sparse_convs": step_ms["convs"],
                        "plus_max_pool": step_ms["pool"], "plus_folded_bn": ms["auto"]},
            "summary": summary}
