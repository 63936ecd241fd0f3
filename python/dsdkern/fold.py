"""Batch-norm folding for inference: dsdkern.nn.fold_batchnorm (re-exported there)."""
import collections

import torch
from torch import nn

from .nn import _HOOK_DICTS, MaskedConv2d, MaskedLayer, MaxPool2d, _replace

__all__ = ["fold_batchnorm"]

_FOLDABLE_CONVS = (nn.Conv2d, MaskedConv2d)


class _Tracer(torch.fx.Tracer):
    """torch.fx's tracer, with dsdkern's layers as leaves: their forwards branch on whether a
    gradient is needed, which a symbolic trace cannot decide."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, (MaskedLayer, MaxPool2d)) or super().is_leaf_module(m, qualname)


def _foldable_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """(conv name, batch-norm name) of every BatchNorm2d whose input is the output of an
    nn.Conv2d / MaskedConv2d that feeds nothing else; each module called once in the trace."""
    try:
        graph = _Tracer().trace(model)
    except Exception as e:  # torch.fx raises many kinds for untraceable control flow
        raise TypeError(f"fold_batchnorm: torch.fx cannot trace the model, so its data flow is "
                        f"unknown ({type(e).__name__}: {e})") from e
    modules = dict(model.named_modules())
    calls = collections.Counter(n.target for n in graph.nodes if n.op == "call_module")
    pairs = []
    for node in graph.nodes:
        if node.op != "call_module" or type(modules[node.target]) is not nn.BatchNorm2d:
            continue
        src = node.args[0] if len(node.args) == 1 and not node.kwargs else None
        if (isinstance(src, torch.fx.Node) and src.op == "call_module"
                and type(modules[src.target]) in _FOLDABLE_CONVS and len(src.users) == 1
                and calls[src.target] == 1 and calls[node.target] == 1):
            pairs.append((src.target, node.target))
    return pairs


def _check_foldable(name: str, bn: nn.BatchNorm2d, conv: nn.Conv2d) -> None:
    if bn.training:
        raise ValueError(f"fold_batchnorm: batch norm {name!r} is in training mode; call "
                         "model.eval() first")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"fold_batchnorm: batch norm {name!r} has no running statistics "
                         "(track_running_stats=False), so it normalises with the batch's own")
    if bn.running_mean.device != conv.weight.device:
        raise ValueError(f"fold_batchnorm: batch norm {name!r} is on {bn.running_mean.device} "
                         f"but its conv is on {conv.weight.device}")
    if bn.num_features != conv.out_channels:
        raise ValueError(f"fold_batchnorm: batch norm {name!r} has {bn.num_features} features "
                         f"but its conv has {conv.out_channels} output channels")


@torch.no_grad()
def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """conv := bn(conv(x)), in float64 then rounded to the conv's dtype: each output channel's
    weights scaled (a pruned zero stays zero, so a mask keeps its meaning) and a bias set."""
    scale = (bn.running_var.double() + bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight.double()
    shift = -bn.running_mean.double() * scale
    if bn.bias is not None:
        shift = shift + bn.bias.double()
    if conv.bias is not None:
        shift = shift + conv.bias.double() * scale
    # In place, under no_grad: the Parameter stays the same object, and its version counter
    # moves, so a MaskedConv2d's packed cache is rebuilt on its next forward.
    conv.weight.copy_(conv.weight.double() * scale.view(-1, 1, 1, 1))
    if conv.bias is None:
        conv.bias = nn.Parameter(shift.to(conv.weight.dtype),
                                 requires_grad=conv.weight.requires_grad)
    else:
        conv.bias.copy_(shift)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold, in place, every BatchNorm2d that directly follows a conv of an eval model into
    that conv, for inference: the conv's weight and bias take in the batch norm's running
    statistics and affine transform (a conv without bias gets one), and the batch norm
    becomes nn.Identity. Returns `model` (the same object, of the same class).

    Pairs come from the data flow that torch.fx traces (a model it cannot trace is a
    TypeError): a BatchNorm2d (exact type) whose only input is the output of an nn.Conv2d or
    dsdkern.nn.MaskedConv2d (exact types) that feeds nothing else, each called once per
    forward. A batch norm with hooks is left as it is. A MaskedConv2d keeps its mask and
    sparsity (scaling keeps zeros) and rebuilds its packed sparse weight on its next forward.
    The output equals the unfolded model's within rounding.

    A model in training mode, or a batch norm to fold that is in training mode or has no
    running statistics, is a ValueError, raised before anything changes. The folded model
    is for inference: training it trains the folded weights without batch statistics.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"fold_batchnorm: model must be an nn.Module, got "
                        f"{type(model).__name__}")
    if model.training:
        raise ValueError("fold_batchnorm: the model is in training mode; call model.eval() "
                         "first (folding uses the running statistics)")
    modules = dict(model.named_modules())
    pairs = [(c, b) for c, b in _foldable_pairs(model)
             if not any(getattr(modules[b], d) for d in _HOOK_DICTS)]
    for conv_name, bn_name in pairs:  # everything checked before anything changes
        _check_foldable(bn_name, modules[bn_name], modules[conv_name])
    for conv_name, bn_name in pairs:
        _fold(modules[conv_name], modules[bn_name])
    _replace(model, {id(modules[b]): nn.Identity() for _, b in pairs})
    return model
