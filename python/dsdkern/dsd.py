"""Dense → Sparse → re-Dense training (Han et al., DSD, ICLR 2017) inside the user's own loop.

    dsd = DSD(model, optimizer, sparsity=0.3)   # plain torch layers become masked layers
    ... train dense ...
    dsd.sparse()                                 # per-layer top-k masks, W ⊙ M after every step
    ... train sparse ...
    dsd.dense()                                  # masks lifted, lr × lr_factor
    ... train re-dense ...

The model's Parameters are kept (nn.sparsify), so the optimizer built before DSD keeps
working; the masks are the layers' buffers and travel in the model's state_dict.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from . import prune
from .nn import masked_layers, sparsify

__all__ = ["DSD", "fit", "evaluate"]

_PHASES = ("dense", "sparse", "redense")


def _check_lr_factor(lr_factor) -> None:
    if not prune._is_number(lr_factor) or not 0 < lr_factor < math.inf:
        raise ValueError(f"lr_factor must be a finite number > 0, got {lr_factor!r}")


class DSD:
    """The DSD phase machine over `model` and `optimizer` (any torch.optim.Optimizer).

    sparsity: the fraction in [0, 1) of each masked layer's weights pruned by `.sparse()`
    (per-layer magnitude top-k, prune.magnitude); lr_factor (> 0): what `.dense()`
    multiplies every param group's lr by; exclude_first_conv: keep the first conv dense.
    `.model` is the model to train (the new masked layer when `model` itself is a bare
    nn.Linear / nn.Conv2d). Masks and weights stay on the model's device.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, sparsity: float = 0.3,
                 lr_factor: float = 0.1, exclude_first_conv: bool = True):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        prune._check_sparsity(sparsity)
        _check_lr_factor(lr_factor)
        self.model = sparsify(model)
        prune._prunable(self.model, exclude_first_conv)
        self._layers = [layer for _, layer in masked_layers(self.model)]
        self.optimizer, self.sparsity, self.lr_factor = optimizer, sparsity, lr_factor
        self.exclude_first_conv = exclude_first_conv
        self.phase = "dense"
        self.sparse_rounds = 0
        self._hook = optimizer.register_step_post_hook(self._after_step)

    def _after_step(self, optimizer, args, kwargs) -> None:
        if self.phase == "sparse":
            with torch.no_grad():
                for layer in self._layers:
                    layer.weight.mul_(layer.mask)

    def sparse(self) -> dict[str, float]:
        """Enter the sparse phase (from "dense" or, to repeat DSD, "redense"): prune, and
        zero the pruned entries of every optimizer state tensor of the weights' shape
        (momentum, Adam moments), so no later step moves them. Returns the kept fractions."""
        if self.phase == "sparse":
            raise RuntimeError("DSD.sparse() called in the sparse phase; call .dense() first")
        kept = prune.magnitude(self.model, self.sparsity, "layer", self.exclude_first_conv)
        with torch.no_grad():
            for layer in self._layers:
                for value in self.optimizer.state.get(layer.weight, {}).values():
                    if torch.is_tensor(value) and value.shape == layer.weight.shape:
                        value.masked_fill_(~layer.mask, 0)
        self.phase = "sparse"
        self.sparse_rounds += 1
        return kept

    def dense(self) -> None:
        """Enter the re-dense phase: lift every mask (the pruned weights restart at exactly
        zero) and multiply every param group's lr by lr_factor. Only after .sparse().
        An lr scheduler that recomputes lr from its own base_lrs would undo the factor:
        scale its base_lrs too."""
        if self.phase != "sparse":
            raise RuntimeError(f"DSD.dense() called in the {self.phase} phase; it must follow "
                               ".sparse()")
        with torch.no_grad():
            for layer in self._layers:
                layer.set_mask(torch.ones_like(layer.mask))
        for group in self.optimizer.param_groups:
            if torch.is_tensor(group["lr"]):
                group["lr"].mul_(self.lr_factor)
            else:
                group["lr"] *= self.lr_factor
        self.phase = "redense"

    def state_dict(self) -> dict:
        """The phase bookkeeping; save it with the model's and the optimizer's state_dicts
        (which hold the masks and the scaled lrs)."""
        return {"phase": self.phase, "sparse_rounds": self.sparse_rounds,
                "sparsity": self.sparsity, "lr_factor": self.lr_factor,
                "exclude_first_conv": self.exclude_first_conv}

    def load_state_dict(self, state: dict) -> None:
        """Resume from what state_dict() gave; load the model's and the optimizer's
        state_dicts too. The state is checked whole before anything changes."""
        expected = set(self.state_dict())
        if not isinstance(state, dict) or set(state) != expected:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"DSD.load_state_dict: state must have the keys "
                             f"{sorted(expected)}, got {got}")
        if state["phase"] not in _PHASES:
            raise ValueError(f"DSD.load_state_dict: phase must be one of {_PHASES}, got "
                             f"{state['phase']!r}")
        prune._check_sparsity(state["sparsity"])
        _check_lr_factor(state["lr_factor"])
        prune._check_int(state["sparse_rounds"], "sparse_rounds", 0)
        self.phase, self.sparse_rounds = state["phase"], state["sparse_rounds"]
        self.sparsity, self.lr_factor = state["sparsity"], state["lr_factor"]
        self.exclude_first_conv = state["exclude_first_conv"]

    def close(self) -> None:
        """Remove the optimizer hook; the model keeps its masks."""
        self._hook.remove()


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, loader, epochs: int,
        loss_fn=F.cross_entropy, progress: bool = True, desc: str | None = None) -> list[float]:
    """Train `epochs` epochs over `loader` (batches (x, y), moved to the model's device).
    Returns each epoch's mean loss per sample; a tqdm bar when progress."""
    prune._check_int(epochs, "epochs", 0)
    from tqdm.auto import tqdm

    device = _device(model)
    model.train()
    losses = []
    total_batches = epochs * len(loader) if hasattr(loader, "__len__") else None
    with tqdm(total=total_batches, desc=desc, disable=not progress, leave=False) as bar:
        for _ in range(epochs):
            total, count = 0.0, 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(y)
                count += len(y)
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.4f}")
            if not count:
                raise ValueError("loader yielded no sample")
            losses.append(total / count)
    return losses


def evaluate(model: nn.Module, loader) -> float:
    """Accuracy in [0, 1] of argmax(model(x)) against y over `loader`, under eval() and
    no_grad; the model's train/eval mode is restored."""
    device = _device(model)
    was_training = model.training
    model.eval()
    correct = count = 0
    try:
        with torch.no_grad():
            for x, y in loader:
                y = y.to(device)
                correct += (model(x.to(device)).argmax(-1) == y).sum().item()
                count += len(y)
    finally:
        model.train(was_training)
    if not count:
        raise ValueError("loader yielded no sample")
    return correct / count
