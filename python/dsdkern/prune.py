"""Pruning rules, schedules and sensitivity analysis for models built of dsdkern's masked layers.

Every rule prunes through the layers' `set_mask`, so pruned weights are exactly zero
afterwards, and returns `{layer name: kept fraction}` for the layers it pruned (names as
`named_modules()` gives them). A rule checks all of its arguments before it changes any
layer, so a bad call never leaves a half-pruned model.

Rules prune over W ⊙ M: a weight the mask already prunes stays pruned, and the rule ranks
only the currently kept weights. A layer that is already sparser than asked stays as it is.
"""
import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from . import ops
from .nn import MaskedConv2d, MaskedLayer, masked_layers

__all__ = ["magnitude", "by_std", "cubic_sparsity", "GradualPruner", "iterative",
           "sensitivity", "Sensitivity", "dropout_rate", "summary", "compression"]

_SCOPES = ("layer", "global")
_RULES = ("std", "magnitude")


def _layers(model: nn.Module) -> list[tuple[str, MaskedLayer]]:
    layers = masked_layers(model)
    if not layers:
        raise ValueError("the model has no prunable (masked) layer; convert it with "
                         "dsdkern.nn.sparsify(model) first")
    return layers


def _is_number(value) -> bool:
    """A real number (numpy scalars included), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(value, name: str, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _check_sparsity(sparsity, name: str = "sparsity") -> float:
    if not _is_number(sparsity) or not 0.0 <= sparsity < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {sparsity!r}")
    return float(sparsity)


def _check_quality(quality, name: str) -> float:
    if not _is_number(quality) or not 0.0 <= quality < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {quality!r}")
    return float(quality)


def _kept_fraction(layer: MaskedLayer) -> float:
    numel = layer.mask.numel()
    return layer.mask.count_nonzero().item() / numel if numel else 1.0


def _n_pruned(sparsity: float, numel: int) -> int:
    # torch.nn.utils.prune's count for a float amount (Python's round: half to even).
    return round(sparsity * numel)


def _prunable(model: nn.Module, exclude_first_conv: bool) -> list[tuple[str, MaskedLayer]]:
    layers = _layers(model)
    if exclude_first_conv:
        first_conv = next((i for i, (_, m) in enumerate(layers) if isinstance(m, MaskedConv2d)),
                          None)
        if first_conv is not None:
            layers = layers[:first_conv] + layers[first_conv + 1:]
        if not layers:
            raise ValueError("the model's only masked layer is its first conv, which "
                             "exclude_first_conv=True keeps dense")
    return layers


def _top_k_masks(layers: Sequence[MaskedLayer], sparsity: float) -> list[torch.Tensor]:
    """One top-k by |w| over the kept weights of `layers` taken together (concatenated in
    order, each flattened row-major, so ties go to the earlier layer and lower flat index);
    the number kept is that of torch's L1Unstructured over all their weights."""
    masks = [layer.mask.detach() for layer in layers]
    kept = torch.cat([layer.weight.detach().reshape(-1)[mask.reshape(-1)]
                      for layer, mask in zip(layers, masks)])
    numel = sum(mask.numel() for mask in masks)
    keep = min(numel - _n_pruned(sparsity, numel), kept.numel())
    chosen = ops.magnitude_mask(kept, keep)
    out, start = [], 0
    for mask in masks:
        n = int(mask.count_nonzero().item())
        new = torch.zeros_like(mask, dtype=torch.bool)
        new.view(-1)[mask.reshape(-1).nonzero().view(-1)] = chosen[start:start + n]
        out.append(new)
        start += n
    return out


def _apply(named: Sequence[tuple[str, MaskedLayer]], masks: Sequence[torch.Tensor]) -> dict:
    for (_, layer), mask in zip(named, masks):
        layer.set_mask(mask)
    return {name: _kept_fraction(layer) for name, layer in named}


def magnitude(model: nn.Module, sparsity: float, scope: str = "layer",
              exclude_first_conv: bool = True) -> dict[str, float]:
    """Keep the weights of largest |w| (DSD's rule, exact top-k).

    sparsity: the fraction in [0, 1) of each layer's weights to prune (scope="layer"), or
    of all included layers' weights together (scope="global", one top-k over them all);
    the count pruned is round(sparsity * numel), as torch.nn.utils.prune.l1_unstructured
    counts. Ties go to the lower row-major index (the earlier layer, under "global"), so
    the masks are the same on every run, rank and thread count.
    exclude_first_conv: leave the first MaskedConv2d (named_modules() order) dense.
    Masks live on the weights' device. Returns {layer name: kept fraction}.
    """
    sparsity = _check_sparsity(sparsity)
    if scope not in _SCOPES:
        raise ValueError(f"scope must be one of {_SCOPES}, got {scope!r}")
    named = _prunable(model, exclude_first_conv)
    layers = [layer for _, layer in named]
    with torch.no_grad():
        if scope == "global":
            masks = _top_k_masks(layers, sparsity)
        else:
            masks = [_top_k_masks([layer], sparsity)[0] for layer in layers]
        return _apply(named, masks)


def _std_of_kept(layer: MaskedLayer) -> float:
    kept = layer.weight.detach()[layer.mask].double()
    return kept.std(correction=0).item() if kept.numel() else 0.0


def by_std(model: nn.Module, quality) -> dict[str, float]:
    """Han et al.'s threshold rule: prune a weight when |w| < quality * std of its layer.

    The std is the population std (ddof=0, numpy's default) of the layer's currently kept
    weights, so the threshold does not drift down with the zeros of earlier rounds; on a
    fresh layer it is the std of all its weights. quality: one number >= 0 for every
    masked layer, or {layer name: number} to prune only the named layers.
    Returns {layer name: kept fraction} of the pruned layers.
    """
    named = _layers(model)
    if isinstance(quality, Mapping):
        by_name = dict(named)
        unknown = [name for name in quality if name not in by_name]
        if unknown:
            raise ValueError(f"quality names {unknown} which are no masked layer of the model "
                             f"(masked layers: {list(by_name)})")
        qualities = {name: _check_quality(q, f"quality[{name!r}]") for name, q in quality.items()}
        named = [(name, by_name[name]) for name in qualities]
    else:
        q = _check_quality(quality, "quality")
        qualities = {name: q for name, _ in named}
    with torch.no_grad():
        masks = [ops.threshold_mask(layer.weight.detach(), qualities[name] * _std_of_kept(layer))
                 & layer.mask for name, layer in named]
        return _apply(named, masks)


def cubic_sparsity(step: int, total_steps: int, initial: float, final: float) -> float:
    """Zhu & Gupta's gradual schedule s_t = s_f + (s_i - s_f) * (1 - t/T)^3, t clamped to
    [0, T]: s_i at step 0, s_f from step T on, pruning fast early and slowly late."""
    total_steps = _check_int(total_steps, "total_steps", 1)
    step = _check_int(step, "step", 0)
    initial = _check_sparsity(initial, "initial")
    final = _check_sparsity(final, "final")
    remaining = (1.0 - min(step, total_steps) / total_steps) ** 3
    return initial * remaining + final * (1.0 - remaining)  # exact s_i at t=0, s_f at t>=T


class GradualPruner:
    """Zhu–Gupta gradual magnitude pruning inside the user's training loop.

    Call `.step()` once per training step (after optimizer.step()): every `every` steps,
    and at step total_steps, it prunes by `magnitude` to cubic_sparsity(t, total_steps,
    initial_sparsity, final_sparsity). Step 0 (construction) prunes nothing.
    """

    def __init__(self, model: nn.Module, final_sparsity: float, total_steps: int,
                 initial_sparsity: float = 0.0, every: int = 1, scope: str = "layer",
                 exclude_first_conv: bool = True):
        cubic_sparsity(0, total_steps, initial_sparsity, final_sparsity)  # checks them
        _check_int(every, "every", 1)
        if scope not in _SCOPES:
            raise ValueError(f"scope must be one of {_SCOPES}, got {scope!r}")
        _prunable(model, exclude_first_conv)
        self.model, self.final_sparsity, self.total_steps = model, final_sparsity, total_steps
        self.initial_sparsity, self.every, self.scope = initial_sparsity, every, scope
        self.exclude_first_conv = exclude_first_conv
        self.t = 0

    @property
    def sparsity(self) -> float:
        """The schedule's target at the current step."""
        return cubic_sparsity(self.t, self.total_steps, self.initial_sparsity,
                              self.final_sparsity)

    def step(self) -> dict[str, float] | None:
        """Advance one step; returns the kept fractions when it pruned, else None."""
        self.t += 1
        if self.t > self.total_steps or (self.t % self.every and self.t != self.total_steps):
            return None
        return magnitude(self.model, self.sparsity, self.scope, self.exclude_first_conv)


def iterative(model: nn.Module, rule: str, values: Sequence[float],
              retrain: Callable[[nn.Module, int], object]) -> list[dict[str, float]]:
    """Han et al.'s iterative prune-and-retrain: for each value (rising), prune by `rule`
    ("std": by_std(model, quality=value); "magnitude": magnitude(model, sparsity=value)),
    then call retrain(model, round_index). Returns each round's kept fractions."""
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one value")
    check = _check_quality if rule == "std" else _check_sparsity
    values = [check(v, f"values[{i}]") for i, v in enumerate(values)]
    if any(b < a for a, b in zip(values, values[1:])):
        raise ValueError(f"values must be rising (non-decreasing), got {values}")
    if not callable(retrain):
        raise ValueError("retrain must be callable as retrain(model, round_index)")
    _prunable(model, rule == "magnitude")
    rounds = []
    for i, value in enumerate(values):
        rounds.append(by_std(model, value) if rule == "std" else magnitude(model, value))
        retrain(model, i)
    return rounds


class Sensitivity:
    """Per-layer pruning sensitivity: `baseline` (the metric of the unchanged model) and
    `table` {layer name: {sparsity: metric}}."""

    def __init__(self, baseline: float, table: dict[str, dict[float, float]]):
        self.baseline, self.table = baseline, table

    def to_markdown(self) -> str:
        """The baseline, then a table: one row per layer, one column per sparsity."""
        sparsities = sorted({s for row in self.table.values() for s in row})
        lines = [f"baseline: {self.baseline:.4g}", "",
                 "| layer | " + " | ".join(f"{s:.0%}" for s in sparsities) + " |",
                 "| --- |" + " --- |" * len(sparsities)]
        lines += [f"| {name} | " + " | ".join(f"{row[s]:.4g}" for s in sparsities) + " |"
                  for name, row in self.table.items()]
        return "\n".join(lines) + "\n"

    def plot(self, path) -> None:
        """Write a PNG: metric against sparsity, one line per layer, the baseline dashed."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, row in self.table.items():
            xs = sorted(row)
            ax.plot(xs, [row[s] for s in xs], marker="o", label=name)
        ax.axhline(self.baseline, color="gray", linestyle="--", label="baseline")
        ax.set_xlabel("sparsity of the layer")
        ax.set_ylabel("metric")
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(path, format="png")
        plt.close(fig)


def sensitivity(model: nn.Module, evaluate: Callable[[nn.Module], float],
                sparsities: Sequence[float], layers: Sequence[str] | None = None) -> Sensitivity:
    """Prune one layer at a time by per-layer magnitude to each sparsity, evaluate(model),
    and restore that layer's weight and mask exactly (also when evaluate raises).
    layers: names of masked layers (default all, first conv included)."""
    by_name = dict(_layers(model))
    sparsities = [_check_sparsity(s, f"sparsities[{i}]") for i, s in enumerate(sparsities)]
    if not sparsities:
        raise ValueError("sparsities must hold at least one value")
    names = list(by_name) if layers is None else list(layers)
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"layers names {unknown} which are no masked layer of the model "
                         f"(masked layers: {list(by_name)})")
    baseline = float(evaluate(model))
    table = {}
    for name in names:
        layer = by_name[name]
        weight, mask = layer.weight.detach().clone(), layer.mask.clone()
        table[name] = {}
        for s in sparsities:
            try:
                with torch.no_grad():
                    layer.set_mask(_top_k_masks([layer], s)[0])
                table[name][s] = float(evaluate(model))
            finally:
                with torch.no_grad():
                    layer.set_mask(mask)
                    layer.weight.copy_(weight)
    return Sensitivity(baseline, table)


def dropout_rate(p: float, kept_original: float, kept_retrain: float) -> float:
    """Han et al.'s dropout for retraining a pruned layer: D_r = D_o * sqrt(C_r / C_o), with
    C_o / C_r the layer's connection counts (or kept fractions) before / after pruning."""
    if not _is_number(p) or not 0.0 <= p < 1.0:
        raise ValueError(f"p must be a dropout probability in [0, 1), got {p!r}")
    if not _is_number(kept_original) or not kept_original > 0:
        raise ValueError(f"kept_original must be > 0, got {kept_original!r}")
    if not _is_number(kept_retrain) or not 0 <= kept_retrain <= kept_original:
        raise ValueError(f"kept_retrain must be in [0, kept_original={kept_original}], "
                         f"got {kept_retrain!r}")
    return p * math.sqrt(kept_retrain / kept_original)


def summary(model: nn.Module) -> dict[str, float]:
    """{layer name: kept fraction} of every masked layer."""
    return {name: _kept_fraction(layer) for name, layer in _layers(model)}


def compression(model: nn.Module) -> float:
    """Weights of the masked layers over the weights they keep (inf when none is kept)."""
    layers = [layer for _, layer in _layers(model)]
    total = sum(layer.mask.numel() for layer in layers)
    kept = sum(int(layer.mask.count_nonzero().item()) for layer in layers)
    return total / kept if kept else math.inf
