"""`python -m dsdkern demo train`: masked training on digits and MNIST-1D (made offline).
Han et al.'s prune-and-retrain of a LeNet-300-100-shaped MLP (inputs→300→100→classes) by
rounds of the std threshold until at most 10 % of the weights are left, with a sensitivity
scan of the dense net; then Dense-Sparse-Dense against a dense baseline trained for as many
epochs with the same learning-rate drop, on a LeNet-5-shaped CNN of MaskedConv2d layers
over MNIST-1D, over several seeds. Writes report.md, report.json and PNG plots to --out."""
import copy
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from . import add_options, data
from .train_report import write_report

LR_FACTOR = 0.1  # DSD's re-dense learning rate, relative (the paper's 1/10)
HAN_TARGET = 0.10  # at most this fraction of the MLP's weights is left after pruning
SENSITIVITY_SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


@dataclass(frozen=True)
class Config:
    han_epochs: int = 30        # dense training before pruning
    han_lr: float = 0.05
    retrain_epochs: int = 8     # after each pruning round
    retrain_lr: float = 0.01    # Han retrains at a lower rate than the first training
    # Han's quality parameter per round (threshold = quality × the layer's weight std),
    # rising until the net keeps at most HAN_TARGET of its weights.
    # The std is that of the kept weights, which grows as the small ones go, so small
    # steps in quality already prune a lot.
    qualities: tuple = tuple(round(0.5 + 0.1 * i, 1) for i in range(20))
    dsd_epochs: tuple = (16, 8, 8)  # dense, sparse, re-dense (the baseline: their sum)
    dsd_sparsity: float = 0.5
    dsd_lr: float = 0.05
    seeds: tuple = (0, 1, 2)
    batch_size: int = 64


FULL = Config()
QUICK = replace(FULL, han_epochs=3, retrain_epochs=1, dsd_epochs=(2, 1, 1), seeds=(0,))


def register(areas) -> None:
    p = areas.add_parser("train", help="Han prune-and-retrain and DSD on digits and MNIST-1D; "
                                       "writes a report", description=__doc__.splitlines()[0])
    add_options(p, area=True)
    p.set_defaults(func=run)


def mlp(features, classes):
    from torch import nn

    from ..nn import MaskedLinear
    return nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", MaskedLinear(features, 300)), ("relu1", nn.ReLU()),
        ("fc2", MaskedLinear(300, 100)), ("relu2", nn.ReLU()),
        ("fc3", MaskedLinear(100, classes))]))


def lenet5(length, classes):
    """LeNet-5's layer sequence on 1×length inputs: 1×5 kernels without padding, 1×2 max
    pooling, 6 and 16 channels, then 120 → 84 → classes."""
    from torch import nn

    from ..nn import MaskedConv2d, MaskedLinear
    flat = 16 * (((length - 4) // 2 - 4) // 2)
    return nn.Sequential(OrderedDict([
        ("conv1", MaskedConv2d(1, 6, (1, 5))), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d((1, 2))),
        ("conv2", MaskedConv2d(6, 16, (1, 5))), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d((1, 2))),
        ("flatten", nn.Flatten()),
        ("fc1", MaskedLinear(flat, 120)), ("relu3", nn.ReLU()),
        ("fc2", MaskedLinear(120, 84)), ("relu4", nn.ReLU()),
        ("fc3", MaskedLinear(84, classes))]))


def _kept_overall(model):
    from ..nn import masked_layers
    layers = [m for _, m in masked_layers(model)]
    return sum(int(m.mask.sum()) for m in layers) / sum(m.mask.numel() for m in layers)


def han(ds, cfg, seed=0):
    """Dense training, a sensitivity scan, then pruning rounds of rising quality, each
    followed by retraining with a fresh optimizer, until at most HAN_TARGET is kept."""
    import torch

    from .. import prune
    from ..dsd import evaluate, fit

    torch.manual_seed(seed)
    model = mlp(ds.features, ds.classes)
    train = data.Batches(ds.x_train, ds.y_train, cfg.batch_size, seed=seed)
    test = data.Batches(ds.x_test, ds.y_test, 1000)

    def accuracy(m):
        return evaluate(m, test)

    def optimizer(lr):
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    fit(model, optimizer(cfg.han_lr), train, cfg.han_epochs, progress=False)
    dense_acc = accuracy(model)
    scan = prune.sensitivity(model, accuracy, SENSITIVITY_SPARSITIES)

    def retrain(m, round_index):
        # A fresh optimizer carries no momentum that could move a pruned weight.
        fit(m, optimizer(cfg.retrain_lr), train, cfg.retrain_epochs, progress=False)

    rounds = []
    for quality in cfg.qualities:
        kept = prune.iterative(model, "std", [quality], retrain)[-1]
        rounds.append({"quality": quality, "kept": _kept_overall(model),
                       "accuracy": accuracy(model), "layers": kept})
        if rounds[-1]["kept"] <= HAN_TARGET:
            break
    return {"data": ds.name, "dense_accuracy": dense_acc, "rounds": rounds,
            "pruned_accuracy": rounds[-1]["accuracy"], "kept": rounds[-1]["kept"],
            "layers": prune.summary(model), "compression": prune.compression(model),
            "sensitivity": scan}


def _train_epochs(model, opt, train, test, epochs):
    from ..dsd import evaluate, fit
    accs = []
    for _ in range(epochs):
        fit(model, opt, train, 1, progress=False)
        accs.append(evaluate(model, test))
    return accs


def dsd_vs_dense(ds, cfg):
    """Per seed: one dense phase shared by both arms (same init, same batches), then the
    baseline trains on densely and DSD goes sparse and re-dense; both drop the learning
    rate by DSD's lr_factor when DSD re-densifies, so the comparison is DSD's, not the
    learning-rate drop's."""
    import torch

    from .. import prune
    from ..dsd import DSD
    e_dense, e_sparse, e_redense = cfg.dsd_epochs
    runs = []
    for seed in cfg.seeds:
        torch.manual_seed(seed)
        model = lenet5(ds.x_train.shape[-1], ds.classes)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.dsd_lr, momentum=0.9)
        train = data.Batches(ds.x_train, ds.y_train, cfg.batch_size, seed=seed)
        test = data.Batches(ds.x_test, ds.y_test, 1000)
        dense = _train_epochs(model, opt, train, test, e_dense)

        base_model = copy.deepcopy(model)
        base_opt = torch.optim.SGD(base_model.parameters(), lr=cfg.dsd_lr, momentum=0.9)
        base_opt.load_state_dict(opt.state_dict())
        base_train = copy.deepcopy(train)  # the same batch order as the DSD arm
        base = _train_epochs(base_model, base_opt, base_train, test, e_sparse)
        for group in base_opt.param_groups:
            group["lr"] *= LR_FACTOR
        base += _train_epochs(base_model, base_opt, base_train, test, e_redense)

        flow = DSD(model, opt, sparsity=cfg.dsd_sparsity, lr_factor=LR_FACTOR)
        flow.sparse()
        layers = prune.summary(model)
        sparse = _train_epochs(model, opt, train, test, e_sparse)
        flow.dense()
        redense = _train_epochs(model, opt, train, test, e_redense)
        flow.close()
        runs.append({"seed": seed, "dsd": dense + sparse + redense, "baseline": dense + base,
                     "sparse_layers": layers})
    return {"data": ds.name, "epochs": list(cfg.dsd_epochs), "sparsity": cfg.dsd_sparsity,
            "lr": cfg.dsd_lr, "lr_factor": LR_FACTOR, "runs": runs}


def run(args) -> int:
    import torch

    threads = torch.get_num_threads()
    # One thread unless told: these nets are too small for intra-op threads to pay for
    # their synchronisation, which on a busy machine costs more than the arithmetic.
    torch.set_num_threads(args.threads or 1)
    try:
        return _run(args)
    finally:
        torch.set_num_threads(threads)  # the other demo areas run with torch's own


def _run(args) -> int:
    import torch

    import dsdkern  # noqa: F401  (registers the ops)

    cfg = QUICK if args.quick else FULL
    timings = {}

    def timed(label, work, *a):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work(*a)
        timings[label] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    sets = timed("data", lambda: [data.digits(), data.mnist1d()])

    print("== masked training: Han prune-and-retrain (LeNet-300-100 MLP)")
    han_results = []
    for ds in sets:
        r = timed(f"Han {ds.name}", han, ds, cfg)
        han_results.append(r)
        print(f"{ds.name}: dense accuracy {r['dense_accuracy']:.4f} -> {r['pruned_accuracy']:.4f} "
              f"after {len(r['rounds'])} rounds, {r['kept']:.1%} of the weights kept "
              f"({r['compression']:.1f}x fewer), {timings[f'Han {ds.name}'][0]:.0f} s", flush=True)

    print("== Dense-Sparse-Dense vs dense baseline (LeNet-5-shaped CNN, MNIST-1D)")
    dsd_result = timed("DSD", dsd_vs_dense, sets[1], cfg)
    for r in dsd_result["runs"]:
        print(f"seed {r['seed']}: final test accuracy DSD {r['dsd'][-1]:.4f}, "
              f"baseline {r['baseline'][-1]:.4f}", flush=True)
    print(f"({timings['DSD'][0]:.0f} s)")

    command = "python -m dsdkern demo train" + (" --quick" if args.quick else "")
    path = write_report(args.out, command, cfg, han_results, dsd_result, timings,
                        threads=torch.get_num_threads())
    print(f"report: {path}")
    return 0
