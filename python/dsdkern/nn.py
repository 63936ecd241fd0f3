"""Drop-in masked layers and the functions that swap them into (and out of) a model.

A masked layer is a plain ``nn.Conv2d`` / ``nn.Linear`` plus one bool buffer ``mask`` of the
weight's shape (False = pruned). Its state is nothing else: no second weight, no hooks of
its own, so optimizers, deepcopy, pickle, state_dict, ``.to()`` and torch.compile see plain
torch (the `algo` name and the cache of the packed W ⊙ M below are plain attributes, outside
the state_dict, and a copy starts with an empty cache). The forward runs ``masked_conv`` / ``masked_linear``, whose weight gradient is
masked, so a pruned weight gets a zero gradient.

When no gradient is needed (eval under ``torch.no_grad()`` / ``torch.inference_mode()``, or
nothing requires grad) a CPU layer runs the sparse ops instead, by its ``algo``: ``"auto"``
(measured per problem, see ``dsdkern.ops.sparse_conv2d``) or a fixed name of
``dsdkern.ops.sparse_algorithms``. The packed W ⊙ M they need is cached in the layer (not in
its state_dict) and rebuilt when the weight or the mask changed.

Only layers of exactly the types ``nn.Conv2d`` and ``nn.Linear`` are swapped: a subclass
(``nn.LazyLinear`` before its first forward, a user class with its own forward, the
``out_proj`` of ``nn.MultiheadAttention`` whose weight is read without calling forward) may
not compute ``conv2d`` / ``linear`` of its weight, so masking it could be silently wrong.
Such layers are left as they are and listed in a warning. sparsify also swaps every
``nn.MaxPool2d`` (exact type) for ``MaxPool2d``, which computes the same (dsdk's CPU pooling
when no gradient is needed); densify swaps it back. ``fold_batchnorm`` (fold.py) folds an
eval model's batch norms into the convs before them, for inference.
"""
import copy
import warnings
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.common_types import _size_2_t
from torch.nn.utils import prune as torch_prune

from . import ops

__all__ = ["MaskedLayer", "MaskedConv2d", "MaskedLinear", "MaxPool2d", "masked_layers",
           "sparsify", "densify", "from_torch_prune", "fold_batchnorm"]

_MASK_DTYPES = (torch.bool, torch.uint8)
# The device types with kernels of the sparse ops, by layer kind: a backend that registers
# them (csrc/torch/ops_<backend>.cpp) is picked up here, with no change to the layers.
_SPARSE_DEVICES = {
    kind: frozenset(device for device in ("cpu", "cuda")
                    if torch._C._dispatch_has_kernel_for_dispatch_key(f"dsdkern::{op}",
                                                                      device.upper()))
    for kind, op in (("conv", "sparse_conv2d"), ("linear", "sparse_linear"))
}
# Hook registries a swapped-in layer shares with the layer it replaces, so that a user's hooks
# keep firing and their handles keep removing them. The *_with_kwargs / *_always_called dicts
# are keyed by the same hook ids as their main dict.
_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
               "_backward_pre_hooks", "_backward_hooks")


def _check_mask(mask, weight: Tensor, what: str) -> None:
    """ValueError (TypeError for a non-tensor) unless `mask` can be this weight's mask."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype not in _MASK_DTYPES:
        raise ValueError(f"{what} must be bool or uint8, got {mask.dtype}")
    if mask.shape != weight.shape:
        raise ValueError(f"{what} has shape {list(mask.shape)} but the weight has shape "
                         f"{list(weight.shape)}")


class MaskedLayer:
    """Mixin of MaskedConv2d and MaskedLinear: the `mask` buffer and what works on it.

    `mask` is a bool tensor of the weight's shape on the weight's device; False marks a pruned
    weight. The forward uses W ⊙ M whatever W holds at pruned entries; `set_mask` zeroes them,
    and as their gradient is zero only optimizer state from before the mask (momentum) can
    move them again, which dsdkern.dsd clears.
    """

    mask: Tensor
    _dense_type: type  # the torch class this layer replaces

    _algo_kind: str  # "conv" or "linear": which names of ops.sparse_algorithms apply

    def _register_mask(self, algo: str = "auto") -> None:
        self.register_buffer("mask", torch.ones(self.weight.shape, dtype=torch.bool,
                                                device=self.weight.device))
        self.algo = algo
        self._sparse_cache = ops.SparseWeight()

    @property
    def algo(self) -> str:
        """The algorithm of the no-grad forward: "auto" or a name of
        dsdkern.ops.sparse_algorithms(kind) for this layer's kind ("conv" / "linear").
        Training (a gradient needed) always runs the masked op and its per-direction choice."""
        return self._algo

    @algo.setter
    def algo(self, value: str) -> None:
        self._check_algo(value)
        self._algo = value

    @classmethod
    def _check_algo(cls, value) -> None:
        names = ops.sparse_algorithms(cls._algo_kind)
        if not isinstance(value, str) or value not in names:
            raise ValueError(f"algo must be one of {', '.join(map(repr, names))} for "
                             f"{cls.__name__}, got {value!r}")

    def clear_sparse_cache(self) -> None:
        """Drop the packed forms of W ⊙ M; the next no-grad forward rebuilds them. Needed only
        after an edit through `weight.data` / `mask.data`, which torch's version counter
        does not see (every other in-place edit and every replacement is detected)."""
        self._sparse_cache = ops.SparseWeight()

    def _runs_sparse(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> bool:
        """Whether the forward takes the sparse ops: no gradient is needed, and the sparse ops
        have kernels for the input's device, or a fixed algo asks for them anyway (elsewhere
        "auto" is the masked op's own dense choice)."""
        if torch.is_grad_enabled() and any(t is not None and t.requires_grad
                                           for t in (input, weight, bias)):
            return False
        return input.device.type in _SPARSE_DEVICES[self._algo_kind] or self._algo != "auto"

    def __setstate__(self, state: dict) -> None:
        # A layer pickled before the sparse path existed has neither attribute.
        state.setdefault("_algo", "auto")
        state.setdefault("_sparse_cache", ops.SparseWeight())
        super().__setstate__(state)

    @property
    def sparsity(self) -> float:
        """Fraction of the weights that are pruned (mask == False), in [0, 1]."""
        numel = self.mask.numel()
        return 1.0 - self.mask.count_nonzero().item() / numel if numel else 0.0

    @torch.no_grad()
    def set_mask(self, mask: Tensor) -> None:
        """Copy `mask` (bool or uint8, nonzero = kept; weight's shape and device) into the
        buffer and zero the pruned weights in place (the weight Parameter stays the same
        object)."""
        _check_mask(mask, self.weight, "mask")
        if mask.device != self.weight.device:
            raise ValueError(f"mask is on {mask.device} but the weight is on "
                             f"{self.weight.device}")
        self.mask.copy_(mask)
        self.weight.mul_(self.mask)

    @classmethod
    def from_dense(cls, module: nn.Module, mask: Tensor | None = None, algo: str | None = None):
        """A new masked layer holding `module`'s very Parameter objects (weight, bias), its
        training mode and its forward/backward hook registries (shared, so hook handles keep
        working on the new layer). `module` is an instance of the torch class this layer
        replaces; `mask` (optional, see `set_mask`) defaults to `module.mask` for a masked
        layer and to all True otherwise. With a mask, the pruned weights are zeroed in place,
        which `module` sees too, as it shares them. `algo` (see `algo`) defaults to
        `module.algo` for a masked layer and to "auto" otherwise."""
        if not isinstance(module, cls._dense_type):
            raise TypeError(f"{cls.__name__}.from_dense: module must be an "
                            f"nn.{cls._dense_type.__name__}, got {type(module).__name__}")
        if _torch_pruning(module):
            raise ValueError(f"{cls.__name__}.from_dense: module is pruned by "
                             "torch.nn.utils.prune; convert it with "
                             "dsdkern.nn.from_torch_prune instead")
        if isinstance(module.weight, nn.parameter.UninitializedParameter):
            raise ValueError(f"{cls.__name__}.from_dense: module's weight is uninitialised "
                             "(a lazy module); run one forward pass first")
        if mask is None and isinstance(module, MaskedLayer):
            mask = module.mask
        if algo is None:
            algo = module.algo if isinstance(module, MaskedLayer) else "auto"
        layer = _rebuild(cls, module, module.weight)  # no side effect on `module`
        layer._register_mask(algo)
        if mask is not None:
            layer.set_mask(mask)
        return layer

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Runs for every load_state_dict; `state_dict` is the loader's own copy. A layer whose
        # entries are bad is left unchanged (torch would copy the entries that fit).
        error = self._adapt_state_dict(state_dict, prefix)
        if error is not None:
            error_msgs.append(error)
            return
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def _adapt_state_dict(self, state_dict: dict, prefix: str) -> str | None:
        """Rewrite this layer's entries into weight / bias / mask, or return why they are bad.

        A plain torch checkpoint has no mask: all weights are kept. A torch.nn.utils.prune
        checkpoint has weight_orig and weight_mask: weight := weight_orig ⊙ weight_mask.
        """
        if prefix + "bias_orig" in state_dict:
            return (f'"{prefix}bias_orig": a bias pruned by torch.nn.utils.prune cannot be '
                    "loaded, the mask covers the weight only")
        keys = {name: prefix + name for name in ("weight", "bias", "mask")}
        from_prune = keys["weight"] not in state_dict and prefix + "weight_orig" in state_dict
        if from_prune:
            keys["weight"], keys["mask"] = prefix + "weight_orig", prefix + "weight_mask"
            if keys["mask"] not in state_dict:
                return f'"{keys["weight"]}" comes without "{keys["mask"]}"'
        own = {"weight": self.weight, "bias": self.bias, "mask": self.mask}
        incoming = {}
        for name, key in keys.items():
            value = state_dict.get(key)
            if value is None or own[name] is None:
                continue  # missing or unexpected: the base loader reports it
            if not isinstance(value, Tensor):
                return f'"{key}" must be a tensor, got {type(value).__name__}'
            if value.shape != own[name].shape:
                return (f'"{key}" has shape {list(value.shape)} but the layer\'s {name} has '
                        f"shape {list(own[name].shape)}")
            incoming[name] = value
        mask = incoming.get("mask")
        if from_prune:
            mask = mask != 0
            del state_dict[keys["weight"]], state_dict[keys["mask"]]
            state_dict[prefix + "weight"] = incoming["weight"] * mask
        elif mask is not None and mask.dtype not in _MASK_DTYPES:
            return f'"{keys["mask"]}" must be bool or uint8, got {mask.dtype}'
        weight = incoming.get("weight")
        if weight is not None:
            state_dict[prefix + "mask"] = (torch.ones(weight.shape, dtype=torch.bool,
                                                      device=weight.device)
                                           if mask is None else mask.bool())
        return None

    def extra_repr(self) -> str:
        algo = "" if self._algo == "auto" else f", algo={self._algo!r}"
        if self.mask.is_meta:  # a model built on the meta device has no mask values yet
            return super().extra_repr() + algo
        return f"{super().extra_repr()}, sparsity={self.sparsity:.4f}{algo}"


class MaskedConv2d(MaskedLayer, nn.Conv2d):
    """nn.Conv2d whose weight is used as W ⊙ mask (torch.ops.dsdkern.masked_conv).

    Same constructor, attributes and input/output shapes as nn.Conv2d: input [N, C, H, W] or
    unbatched [C, H, W]; every padding and padding_mode of nn.Conv2d. The weight gradient is
    masked. CPU: float32/float64; CUDA: also float16/bfloat16. `algo` (keyword): the
    algorithm of the no-grad forward, "auto" or one of dsdkern.ops.sparse_algorithms("conv").
    """

    _dense_type = nn.Conv2d
    _algo_kind = "conv"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        padding: str | _size_2_t = 0,
        dilation: _size_2_t = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: Literal["zeros", "reflect", "replicate", "circular"] = "zeros",
        device=None,
        dtype=None,
        *,
        algo: str = "auto",
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self._register_mask(algo)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        unbatched = input.dim() == 3
        if unbatched:
            input = input.unsqueeze(0)
        if self.padding_mode != "zeros":
            # As nn.Conv2d does: pad in that mode, then convolve without padding.
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = (0, 0)
        elif isinstance(self.padding, str):
            # 'valid' / 'same': nn.Conv2d has split each dimension's padding into
            # (left, right) with left <= right; the op pads symmetrically, so the surplus
            # on the right (even kernels under 'same') is padded here.
            left_w, right_w, left_h, right_h = self._reversed_padding_repeated_twice
            if (left_w, left_h) != (right_w, right_h):
                input = F.pad(input, [0, right_w - left_w, 0, right_h - left_h])
            padding = (left_h, left_w)
        else:
            padding = self.padding
        if self._runs_sparse(input, weight, bias):
            out = ops._layer_sparse_conv2d(input, weight, self.mask, bias, self.stride,
                                           padding, self.dilation, self.groups,
                                           self._algo, self._sparse_cache)
        else:
            out = ops.masked_conv(input, weight, self.mask, bias, self.stride, padding,
                                  self.dilation, self.groups)
        return out.squeeze(0) if unbatched else out


class MaskedLinear(MaskedLayer, nn.Linear):
    """nn.Linear whose weight is used as W ⊙ mask (torch.ops.dsdkern.masked_linear).

    Same constructor, attributes and shapes as nn.Linear: input [..., in_features] →
    [..., out_features]. The weight gradient is masked. `algo` (keyword): the algorithm of the
    no-grad forward, "auto" or one of dsdkern.ops.sparse_algorithms("linear").
    """

    _dense_type = nn.Linear
    _algo_kind = "linear"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        algo: str = "auto",
    ) -> None:
        super().__init__(in_features, out_features, bias, device, dtype)
        self._register_mask(algo)

    def forward(self, input: Tensor) -> Tensor:
        if self._runs_sparse(input, self.weight, self.bias):
            return ops._layer_sparse_linear(input, self.weight, self.mask, self.bias,
                                            self._algo, self._sparse_cache)
        return ops.masked_linear(input, self.weight, self.mask, self.bias)


class MaxPool2d(nn.MaxPool2d):
    """nn.MaxPool2d (same constructor, attributes, state and output) whose forward runs
    dsdkern.ops.max_pool2d, dsdk's CPU kernel, when it can: no gradient needed, a 3-D or 4-D
    float32/float64 input on the CPU, and return_indices False. Otherwise (training, CUDA,
    where cuDNN's pooling is fast, other dtypes, indices) it is nn.MaxPool2d's own forward.
    torch's CPU pooling of an NCHW tensor is slow (about 2.3 ms for the 1x64x112x112 stem of
    ResNet-18 at 2 threads, where channels_last takes 0.14 ms); dsdk's takes about 0.2 ms.
    sparsify swaps it in for nn.MaxPool2d, densify swaps it back.
    """

    def forward(self, input: Tensor):
        if (not self.return_indices and input.device.type == "cpu"
                and input.dtype in (torch.float32, torch.float64) and input.dim() in (3, 4)
                and not (torch.is_grad_enabled() and input.requires_grad)):
            return ops.max_pool2d(input, self.kernel_size, self.stride, self.padding,
                                  self.dilation, self.ceil_mode)
        return super().forward(input)


_MASKED_TYPES = {nn.Conv2d: MaskedConv2d, nn.Linear: MaskedLinear}


def _rebuild(cls: type, module: nn.Module, weight: nn.Parameter) -> nn.Module:
    """A `cls` layer with `module`'s hyper-parameters, `weight`, `module.bias`, training mode
    and hook registries (shared with `module`); a masked `cls` gets a mask on the meta device,
    to be replaced. No weight storage is allocated on the way."""
    if issubclass(cls, nn.Conv2d):
        layer = cls(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                    module.padding, module.dilation, module.groups, module.bias is not None,
                    module.padding_mode, device="meta", dtype=weight.dtype)
    else:
        layer = cls(module.in_features, module.out_features, module.bias is not None,
                    device="meta", dtype=weight.dtype)
    layer.weight = weight
    layer.bias = module.bias
    return _take_over(layer, module)


def _take_over(layer: nn.Module, module: nn.Module) -> nn.Module:
    """`layer` with `module`'s training mode and hook registries (shared with `module`)."""
    layer.train(module.training)
    for name in _HOOK_DICTS + ("_is_full_backward_hook",):
        setattr(layer, name, getattr(module, name))
    return layer


def _pool_as(cls: type, module: nn.MaxPool2d) -> nn.MaxPool2d:
    """A `cls` pooling layer with `module`'s settings, training mode and hooks."""
    return _take_over(cls(module.kernel_size, module.stride, module.padding, module.dilation,
                          module.return_indices, module.ceil_mode), module)


def _replace(model: nn.Module, new: dict[int, nn.Module]) -> nn.Module:
    """Put new[id(old)] in place of every occurrence of old in `model` (a shared module stays
    shared); returns the model, or its replacement when the model itself is replaced."""
    for parent in list(model.modules()):
        for name, child in parent._modules.items():
            if child is not None and id(child) in new:
                parent._modules[name] = new[id(child)]
    return new.get(id(model), model)


def masked_layers(model: nn.Module) -> list[tuple[str, MaskedLayer]]:
    """(qualified name, layer) of every masked layer of `model`, in named_modules() order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, MaskedLayer)]


def _excluded_names(model: nn.Module, exclude) -> set[str]:
    """Qualified names of the modules that `exclude` (names or module types) covers, with
    everything below them."""
    exclude = (exclude,) if isinstance(exclude, (str, type)) else tuple(exclude)
    modules = dict(model.named_modules())
    for item in exclude:
        if not isinstance(item, (str, type)):
            raise TypeError(f"exclude: entries must be module names (str) or module types, "
                            f"got {item!r}")
        if isinstance(item, str) and item not in modules:
            raise ValueError(f"exclude: no module named {item!r} in the model")
    types = tuple(item for item in exclude if isinstance(item, type))
    roots = [name for name, m in modules.items() if name in exclude or isinstance(m, types)]
    return {name for name in modules for root in roots
            if root == "" or name == root or name.startswith(root + ".")}


def _algo_of(algo, kind: str):
    """The algo a `kind` layer gets from sparsify's `algo` argument (None: leave it)."""
    return algo.get(kind) if isinstance(algo, dict) else algo


def sparsify(model: nn.Module, exclude=(), algo=None) -> nn.Module:
    """Swap, in place, every nn.Conv2d / nn.Linear of `model` (exact types) for a masked layer
    with an all-True mask that holds the very same Parameter objects, so an optimizer built
    before keeps working; and every nn.MaxPool2d (exact type) for dsdkern.nn.MaxPool2d, which
    computes the same and is faster on the CPU. Swapped layers keep their hooks.

    exclude: module names as named_modules() gives them, or module types (one or a tuple);
    an excluded module and everything below it stay as they are. A name that matches no
    module is a ValueError. Masked layers are left as they are, so sparsify is idempotent;
    subclasses of Conv2d / Linear are left too, and named in a warning. Returns the model, or
    the new layer when `model` itself is a Conv2d / Linear. ValueError when the result has no
    masked layer at all.

    algo: the `algo` of every masked layer outside `exclude` (the swapped-in ones and those
    already masked): a name for all, or a dict {"conv": name, "linear": name} per kind (a
    kind it leaves out keeps its algo); None (the default) leaves masked layers as they are
    and gives new ones "auto". A name a layer does not accept is a ValueError, and then
    nothing has changed.
    """
    if isinstance(algo, dict) and not set(algo) <= {"conv", "linear"}:
        raise ValueError(f'algo: a dict must be keyed by "conv" and/or "linear", got '
                         f"{sorted(map(str, algo))}")
    skipped = _excluded_names(model, exclude)
    new, pools, others, existing = {}, {}, [], []
    for name, m in model.named_modules():
        if name in skipped:
            continue
        if isinstance(m, MaskedLayer):
            existing.append(m)
        elif type(m) in _MASKED_TYPES:
            cls = _MASKED_TYPES[type(m)]
            new[id(m)] = cls.from_dense(m, algo=_algo_of(algo, cls._algo_kind))
        elif type(m) is nn.MaxPool2d:
            pools[id(m)] = _pool_as(MaxPool2d, m)
        elif isinstance(m, tuple(_MASKED_TYPES)):
            others.append(f"{name or '<model>'} ({type(m).__name__})")
    if not new and not masked_layers(model):
        raise ValueError("sparsify: the model has no nn.Conv2d / nn.Linear to mask"
                         + (" outside `exclude`" if skipped else ""))
    assign = [(m, _algo_of(algo, m._algo_kind)) for m in existing]
    assign = [(m, a) for m, a in assign if a is not None]
    for m, a in assign:  # all checked before any changes
        type(m)._check_algo(a)
    if others:
        warnings.warn("sparsify: left as they are (subclasses of nn.Conv2d / nn.Linear are not "
                      f"swapped): {', '.join(others)}", stacklevel=2)
    for m, a in assign:
        m.algo = a
    return _replace(model, new | pools)


def densify(model: nn.Module) -> nn.Module:
    """A deep copy of `model` in which every masked layer is a plain nn.Conv2d / nn.Linear with
    weight W ⊙ M and every dsdkern.nn.MaxPool2d a plain nn.MaxPool2d (exportable with
    torch.export); `model` is left untouched."""
    model = copy.deepcopy(model)
    new = {}
    for _, m in masked_layers(model):
        weight = nn.Parameter(m.weight.detach() * m.mask, requires_grad=m.weight.requires_grad)
        new[id(m)] = _rebuild(m._dense_type, m, weight)
    for m in model.modules():
        if type(m) is MaxPool2d:
            new[id(m)] = _pool_as(nn.MaxPool2d, m)
    return _replace(model, new)


def _torch_pruning(module: nn.Module) -> dict:
    """The torch.nn.utils.prune hooks on `module`, by hook id."""
    return {key: h for key, h in module._forward_pre_hooks.items()
            if isinstance(h, torch_prune.BasePruningMethod)}


def from_torch_prune(model: nn.Module) -> nn.Module:
    """Turn, in place, every nn.Conv2d / nn.Linear pruned by torch.nn.utils.prune into a masked
    layer with the same outputs: its weight is torch's weight_orig Parameter (the same object,
    so an optimizer holding it keeps working) with the pruned entries zeroed, its mask is
    weight_mask != 0; torch's hook, weight_orig and weight_mask are gone.

    A pruned bias cannot be represented (ValueError, nothing changed); a pruned layer of
    another type is left and named in a warning. Returns the model, or the new layer when
    `model` itself is the pruned layer. ValueError when no layer was pruned by torch.
    """
    pruned, others = [], []
    for name, m in model.named_modules():
        hooks = _torch_pruning(m)
        if not hooks:
            continue
        if type(m) not in _MASKED_TYPES:
            others.append(f"{name or '<model>'} ({type(m).__name__})")
        elif any(h._tensor_name != "weight" for h in hooks.values()):
            raise ValueError(f"from_torch_prune: {name or '<model>'} has a pruned bias; "
                             "masked layers mask the weight only")
        else:
            pruned.append((m, hooks))
    if not pruned:
        raise ValueError("from_torch_prune: no nn.Conv2d / nn.Linear of the model was pruned "
                         "by torch.nn.utils.prune")
    if others:
        warnings.warn("from_torch_prune: left as they are (only nn.Conv2d / nn.Linear are "
                      f"converted): {', '.join(others)}", stacklevel=2)
    new = {}
    for m, hooks in pruned:
        for name in _HOOK_DICTS:  # the old module is dropped: its registries move on
            for key in hooks:
                getattr(m, name).pop(key, None)
        layer = _rebuild(_MASKED_TYPES[type(m)], m, m.weight_orig)
        layer.mask = m.weight_mask != 0
        with torch.no_grad():
            layer.weight.mul_(layer.mask)
        new[id(m)] = layer
    return _replace(model, new)


# At the end: fold.py builds on the layers above.
from .fold import fold_batchnorm  # noqa: E402
