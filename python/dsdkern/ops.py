"""Python side of the dsdkern custom ops: fake kernels (so that torch.compile can trace
them), the entry points `masked_conv`, `masked_linear`, `sparse_conv2d`, `sparse_linear`,
`magnitude_mask`, `threshold_mask` and `max_pool2d`, and the switches of the measured
algorithm choices.
The autograd formulas are C++ (csrc/torch/ops_autograd.cpp), so that a training step pays no
Python per layer call; the sparse ops are inference-only and have none.

The C++ kernels (csrc/torch/ops_*.cpp) check every argument; the fake kernels repeat the
checks that decide the output shape, with the same messages, because under
torch.compile they run instead of the C++ ones.
"""
from collections.abc import Sequence

import torch
from torch import Tensor

from . import _C  # loading the extension registers torch.ops.dsdkern.*

__all__ = ["magnitude_mask", "masked_conv", "masked_linear", "threshold_mask",
           "set_algorithm_choice", "algorithm_choice", "algorithm_choices",
           "clear_algorithm_choices", "sparse_conv2d", "sparse_linear", "sparse_algorithms",
           "sparse_algorithm_choices", "force_sparse_algorithm", "SparseWeight", "max_pool2d"]

_MASK_DTYPES = (torch.bool, torch.uint8)
# Input dtypes each backend's kernels implement (csrc/torch/ops_cpu.cpp, ops_cuda.cpp).
_BACKEND_DTYPES = {
    "cpu": ("CPU", (torch.float32, torch.float64)),
    "cuda": ("CUDA", (torch.float32, torch.float64, torch.float16, torch.bfloat16)),
}


def _pair(value, name: str) -> list[int]:
    # A layer's (int, int) first: the generic checks below cost a microsecond a call.
    if type(value) is tuple and len(value) == 2 and type(value[0]) is type(value[1]) is int:
        return list(value)
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return list(value)
    raise ValueError(f"masked_conv: {name} must be an int or a pair of ints, got {value!r}")


def masked_conv(input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None = None,
                stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """conv2d(input, weight * mask, bias, stride, padding, dilation, groups).

    input: [N, C, H, W] (any strides; channels_last in gives channels_last out);
    weight: [K, C/groups, kH, kW]; mask: bool or uint8 of weight's shape (0 = pruned);
    bias: [K] or None. stride/padding/dilation: int or (height, width).
    Differentiable in input, weight and bias; the weight gradient is masked.
    CPU: float32/float64; CUDA: float32/float64/float16/bfloat16.
    """
    return torch.ops.dsdkern.masked_conv(
        input, weight, mask, bias, _pair(stride, "stride"), _pair(padding, "padding"),
        _pair(dilation, "dilation"), groups)


def set_algorithm_choice(mode: str) -> None:
    """How the ops pick between dsdk's kernels and torch's dense kernels on weight * mask.

    "auto" (the default, or the environment variable DSDKERN_ALGORITHM_CHOICE): the first
    call per problem (op, direction, shapes, strides, dtype, device, thread count) times both
    on the real arguments and caches the faster; "dsdk" / "torch" force one. Process-wide.
    """
    if not isinstance(mode, str):
        raise TypeError(f"set_algorithm_choice: mode must be a str, got {type(mode).__name__}")
    _C.set_algorithm_choice(mode)


def algorithm_choice() -> str:
    """The mode in force: "auto", "dsdk" or "torch"."""
    return _C.algorithm_choice()


def algorithm_choices() -> list[dict]:
    """The cached choices of "auto": dicts of key (str), algorithm ("dsdk" or "torch") and
    the best measured time of each candidate (dsdk_ms, torch_ms), ordered by direction."""
    return _C.algorithm_choices()


def clear_algorithm_choices() -> None:
    """Forgets the cached choices, those of the masked ops and those of the sparse ops'
    "auto" (sparse_algorithm_choices); the next call per problem measures again."""
    _C.clear_algorithm_choices()
    _C.clear_sparse_algorithm_choices()


def _require(ok, message: str) -> None:
    if not ok:
        raise RuntimeError(message)


def _check_backend_dtype(op: str, name: str, t: Tensor) -> None:
    backend, dtypes = _BACKEND_DTYPES.get(t.device.type, (None, ()))
    if backend is not None and t.dtype not in dtypes:
        raise RuntimeError(f"{op}: {name} dtype {t.dtype} is not supported on {backend} "
                           f"(supported: {', '.join(map(str, dtypes))})")


def _check_operand_devices(op: str, input: Tensor, **tensors) -> None:
    for name, t in tensors.items():
        if t is not None and t.device != input.device:
            raise RuntimeError(f"{op}: {name} is on {t.device} but input is on {input.device}; "
                               "all tensors must be on one device")


def _check_operand_dtypes(op: str, input: Tensor, weight: Tensor, mask: Tensor,
                          **others) -> None:
    """The mask and dtype checks of check_operand_dtypes (csrc/torch/common.cpp)."""
    if mask.dtype not in _MASK_DTYPES:
        raise RuntimeError(f"{op}: mask must be bool or uint8, got {mask.dtype}")
    _require(mask.shape == weight.shape,
             f"{op}: mask shape {list(mask.shape)} must equal weight shape {list(weight.shape)}")
    for name, t in (("weight", weight), *others.items()):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{op}: {name} dtype ({t.dtype}) must match input dtype "
                               f"({input.dtype})")
    _check_backend_dtype(op, "input", input)


def _check_shapes(op: str, input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None,
                  stride, padding, dilation, groups: int,
                  grad_output: Tensor | None = None) -> list:
    """Output shape [N, K, P, Q] of a valid call; RuntimeError naming the argument otherwise."""
    _check_operand_devices(op, input, weight=weight, mask=mask, bias=bias,
                           grad_output=grad_output)
    if input.dim() != 4:
        raise RuntimeError(f"{op}: input must be a 4-D tensor [N, C, H, W], got shape "
                           f"{list(input.shape)}")
    if weight.dim() != 4:
        raise RuntimeError(f"{op}: weight must be a 4-D tensor "
                           f"[out_channels, in_channels/groups, kH, kW], got shape "
                           f"{list(weight.shape)}")
    _check_operand_dtypes(op, input, weight, mask, bias=bias, grad_output=grad_output)
    for name, v, low, rule in (("stride", stride, 1, "positive"),
                               ("padding", padding, 0, "non-negative"),
                               ("dilation", dilation, 1, "positive")):
        if len(v) != 2:
            raise RuntimeError(f"{op}: {name} must have 2 elements (height, width), got {len(v)}")
        if v[0] < low or v[1] < low:
            raise RuntimeError(f"{op}: {name} must be {rule}, got {list(v)}")
    if groups < 1:
        raise RuntimeError(f"{op}: groups must be positive, got {groups}")
    n, c, h, w = input.shape
    k, cg, r, s = weight.shape
    _require(c >= 1 and h >= 1 and w >= 1,
           f"{op}: input must have non-zero channels, height and width, got shape "
           f"{list(input.shape)}")
    _require(k >= 1 and cg >= 1 and r >= 1 and s >= 1,
           f"{op}: weight must have non-zero size in every dimension, got shape "
           f"{list(weight.shape)}")
    _require(c % groups == 0, f"{op}: input channels ({c}) must be divisible by groups ({groups})")
    _require(k % groups == 0,
           f"{op}: weight out_channels ({k}) must be divisible by groups ({groups})")
    _require(cg * groups == c, f"{op}: weight in_channels per group ({cg}) times groups "
                             f"({groups}) must equal input channels ({c})")
    if bias is not None:
        _require(bias.dim() == 1 and bias.shape[0] == k,
               f"{op}: bias must be a 1-D tensor of weight.size(0) = {k} elements, got shape "
               f"{list(bias.shape)}")
    span = [h + 2 * padding[0] - dilation[0] * (r - 1) - 1,
            w + 2 * padding[1] - dilation[1] * (s - 1) - 1]
    _require(span[0] >= 0 and span[1] >= 0,
           f"{op}: output size would be empty: input ({h}x{w}, padding {padding[0]}x{padding[1]})"
           f" is smaller than the dilated weight ({r}x{s}, dilation {dilation[0]}x{dilation[1]})")
    return [n, k, span[0] // stride[0] + 1, span[1] // stride[1] + 1]


def _like_input(input: Tensor, shape) -> Tensor:
    """An empty tensor laid out like the C++ kernels lay out theirs (suggest_memory_format)."""
    return torch.empty(shape, dtype=input.dtype, device=input.device,
                       memory_format=torch._prims_common.suggest_memory_format(input))


@torch.library.register_fake("dsdkern::masked_conv")
def _masked_conv_fake(input, weight, mask, bias, stride, padding, dilation, groups):
    shape = _check_shapes("masked_conv", input, weight, mask, bias, stride, padding, dilation,
                          groups)
    return _like_input(input, shape)


@torch.library.register_fake("dsdkern::masked_conv_backward")
def _masked_conv_backward_fake(grad_output, input, weight, mask, stride, padding, dilation,
                               groups, output_mask):
    op = "masked_conv_backward"
    shape = _check_shapes(op, input, weight, mask, None, stride, padding, dilation, groups,
                          grad_output)
    _require(list(grad_output.shape) == shape,
           f"{op}: grad_output shape {list(grad_output.shape)} must equal the output shape "
           f"{shape}")
    grad_input = _like_input(input, input.shape) if output_mask[0] else None
    grad_weight = weight.new_empty(weight.shape) if output_mask[1] else None
    grad_bias = weight.new_empty(weight.shape[0]) if output_mask[2] else None
    return grad_input, grad_weight, grad_bias


# ---- masked_linear --------------------------------------------------------------------

def masked_linear(input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None = None) -> Tensor:
    """linear(input, weight * mask, bias).

    input: [..., in_features] (any number of leading dimensions, none included; any
    strides); weight: [out_features, in_features]; mask: bool or uint8 of weight's shape
    (0 = pruned); bias: [out_features] or None. Returns [..., out_features], contiguous.
    Differentiable in input, weight and bias; the weight gradient is masked.
    CPU: float32/float64; CUDA: float32/float64/float16/bfloat16.
    """
    return torch.ops.dsdkern.masked_linear(input, weight, mask, bias)


def _check_linear(op: str, input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None,
                  grad_output: Tensor | None = None) -> list:
    """Output shape [..., out_features] of a valid call; RuntimeError naming the argument
    otherwise (the messages of check_masked_linear in csrc/torch/linear.cpp)."""
    _check_operand_devices(op, input, weight=weight, mask=mask, bias=bias,
                           grad_output=grad_output)
    _require(input.dim() >= 1,
             f"{op}: input must have at least 1 dimension [..., in_features], got a 0-D tensor")
    _require(weight.dim() == 2, f"{op}: weight must be a 2-D tensor [out_features, in_features], "
                                f"got shape {list(weight.shape)}")
    _check_operand_dtypes(op, input, weight, mask, bias=bias, grad_output=grad_output)
    out, in_features = weight.shape
    _require(input.shape[-1] == in_features,
             f"{op}: input.size(-1) ({input.shape[-1]}) must equal weight in_features "
             f"(weight.size(1) = {in_features})")
    if bias is not None:
        _require(bias.dim() == 1 and bias.shape[0] == out,
                 f"{op}: bias must be a 1-D tensor of weight.size(0) = {out} elements, got shape "
                 f"{list(bias.shape)}")
    shape = [*input.shape[:-1], out]
    if grad_output is not None:
        _require(list(grad_output.shape) == shape,
                 f"{op}: grad_output shape {list(grad_output.shape)} must equal the output "
                 f"shape {shape}")
    return shape


@torch.library.register_fake("dsdkern::masked_linear")
def _masked_linear_fake(input, weight, mask, bias):
    return input.new_empty(_check_linear("masked_linear", input, weight, mask, bias))


@torch.library.register_fake("dsdkern::masked_linear_backward")
def _masked_linear_backward_fake(grad_output, input, weight, mask, output_mask):
    _check_linear("masked_linear_backward", input, weight, mask, None, grad_output)
    grad_input = input.new_empty(input.shape) if output_mask[0] else None
    grad_weight = weight.new_empty(weight.shape) if output_mask[1] else None
    grad_bias = weight.new_empty(weight.shape[0]) if output_mask[2] else None
    return grad_input, grad_weight, grad_bias


def magnitude_mask(weight: Tensor, keep: int) -> Tensor:
    """Bool mask of weight's shape keeping the `keep` entries of largest |weight|.

    weight: any shape and strides; CPU: float32/float64, CUDA: float32/float64/float16/
    bfloat16. keep: int in [0, weight.numel()]. Exactly `keep` entries are True; among equal
    |weight| the lower flat (row-major) index is kept first, so the mask is the same on
    every run, thread count and device. -0.0 ties with 0.0. A NaN in weight is an error.
    The result is contiguous, on weight's device, and not differentiable.
    """
    return torch.ops.dsdkern.magnitude_mask(weight, keep)


def threshold_mask(weight: Tensor, threshold: float) -> Tensor:
    """Bool mask of weight's shape, True where |weight| >= threshold (>= 0).

    Same weights as magnitude_mask (a NaN is an error); a weight is pruned when
    |weight| < threshold. The comparison is in float64.
    """
    return torch.ops.dsdkern.threshold_mask(weight, threshold)


def _empty_mask(weight: Tensor) -> Tensor:
    return torch.empty(weight.shape, dtype=torch.bool, device=weight.device)


@torch.library.register_fake("dsdkern::magnitude_mask")
def _magnitude_mask_fake(weight, keep):
    _check_backend_dtype("magnitude_mask", "weight", weight)
    _require(0 <= keep <= weight.numel(),
             f"magnitude_mask: keep must be in [0, weight.numel() = {weight.numel()}], "
             f"got {keep}")
    return _empty_mask(weight)


@torch.library.register_fake("dsdkern::threshold_mask")
def _threshold_mask_fake(weight, threshold):
    _check_backend_dtype("threshold_mask", "weight", weight)
    _require(threshold >= 0, f"threshold_mask: threshold must be >= 0, got {threshold}")
    return _empty_mask(weight)


# ---- max pooling -------------------------------------------------------------------------

def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False) -> Tensor:
    """F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode) without indices,
    by dsdk's CPU kernel (dsdkMaxPoolingForward): same output, also for NaN (a window holding
    one gives NaN) and for windows over -inf padding.

    input: [N, C, H, W] or unbatched [C, H, W], any strides, on the CPU, float32/float64; the
    output is contiguous. kernel_size, stride (None or empty: kernel_size), padding,
    dilation: int or (height, width); padding at most half of kernel_size. Not
    differentiable (dsdkern.nn.MaxPool2d runs torch's pooling when a gradient is needed, and
    on CUDA, where cuDNN's pooling is fast).
    """
    if stride is None or (not isinstance(stride, int) and len(stride) == 0):
        stride = kernel_size  # torch's default
    return torch.ops.dsdkern.max_pool2d(input, _int_pair(kernel_size), _int_pair(stride),
                                        _int_pair(padding), _int_pair(dilation),
                                        bool(ceil_mode))


def _int_pair(value) -> list[int]:
    """An int as (value, value); a sequence as a list (the op checks its length)."""
    return [value, value] if isinstance(value, int) else list(value)


def _pool_extent(size: int, kernel: int, pad: int, stride: int, dilation: int,
                 ceil_mode: bool) -> int:
    """torch's pooling output size, as dsdkGetPooling2dForwardOutputDim computes it."""
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)) \
        // stride + 1
    return out - 1 if ceil_mode and (out - 1) * stride >= size + pad else out


@torch.library.register_fake("dsdkern::max_pool2d")
def _max_pool2d_fake(input, kernel_size, stride, padding, dilation, ceil_mode):
    op = "max_pool2d"
    _require(input.dim() in (3, 4), f"{op}: input must be a 3-D [C, H, W] or 4-D [N, C, H, W] "
                                    f"tensor, got shape {list(input.shape)}")
    _check_backend_dtype(op, "input", input)
    for name, v, low, rule in (("kernel_size", kernel_size, 1, "positive"),
                               ("stride", stride, 1, "positive"),
                               ("padding", padding, 0, "non-negative"),
                               ("dilation", dilation, 1, "positive")):
        _require(len(v) == 2, f"{op}: {name} must have 2 elements (height, width), got {len(v)}")
        _require(v[0] >= low and v[1] >= low, f"{op}: {name} must be {rule}, got {list(v)}")
    c, h, w = input.shape[-3:]
    _require(c >= 1 and h >= 1 and w >= 1, f"{op}: input must have non-zero channels, height "
                                           f"and width, got shape {list(input.shape)}")
    _require(padding[0] <= kernel_size[0] // 2 and padding[1] <= kernel_size[1] // 2,
             f"{op}: padding {list(padding)} must be at most half of the window "
             f"{list(kernel_size)}")
    out = [_pool_extent(size, *args, ceil_mode)
           for size, args in zip((h, w), zip(kernel_size, padding, stride, dilation))]
    _require(out[0] >= 1 and out[1] >= 1,
             f"{op}: the output of the {h} x {w} plane would be empty ({out[0]} x {out[1]})")
    return input.new_empty([*input.shape[:-2], *out])


# ---- sparse execution (inference) -------------------------------------------------------

def SparseWeight():  # noqa: N802  (it stands for the class)
    """A new, empty cache of a pruned weight's prepared forms (torch.classes.dsdkern.SparseWeight):
    the packed CSR of W ⊙ M and the dense W ⊙ M. The sparse ops rebuild a form when the weight
    or mask passed with it is not the tensor it was built from (version counter, storage,
    device, dtype, shape, strides): any in-place edit through the tensor or a view of it, and any
    replacement. An edit through `tensor.data` escapes this: torch gives `.data` a version
    counter of its own, and comparing elements per call would cost what the cache saves; after
    one, call the layer's clear_sparse_cache(). Pickling and deepcopy give a new, empty cache.
    `cache.builds()` counts the forms built."""
    return torch.classes.dsdkern.SparseWeight()


def sparse_algorithms(kind: str) -> tuple[str, ...]:
    """The algo names of the sparse ops: kind "conv" (sparse_conv2d, MaskedConv2d.algo) or
    "linear" (sparse_linear, MaskedLinear.algo). "auto" first, then "dense_torch", then dsdk's."""
    if kind == "conv":
        return tuple(_C.sparse_conv_algorithms())
    if kind == "linear":
        return tuple(_C.sparse_linear_algorithms())
    raise ValueError(f'sparse_algorithms: kind must be "conv" or "linear", got {kind!r}')


def sparse_conv2d(input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None, stride,
                  padding, dilation, groups: int, algo: str, cache) -> Tensor:
    """conv2d(input, weight * mask, bias, ...) as masked_conv computes it (same arguments,
    shapes, layouts and checks), run by `algo` (one of sparse_algorithms("conv")) with the
    prepared forms of W ⊙ M kept in `cache` (a SparseWeight, one per layer). "auto" runs the
    candidate measured fastest for the problem (shape, strides, geometry, sparsity in 5 % steps,
    dtype, device, threads), measured on its first call and cached process-wide. Not
    differentiable. CPU: float32/float64.
    """
    return torch.ops.dsdkern.sparse_conv2d(
        input, weight, mask, bias, _pair(stride, "stride"), _pair(padding, "padding"),
        _pair(dilation, "dilation"), groups, algo, cache)


def _layer_entry(cache, tensors: tuple) -> bool:
    """Whether a masked layer, whose arguments are well typed by construction (tensors, pairs
    of ints, an algo name its setter checked), may call its sparse op through
    _C.sparse_*_dispatch: the same op without torch.ops' Python-side argument scan, wherever
    that scan would find nothing. That is a real cache (not torch.compile's fake one), no
    tensor subclass or mode with a __torch_function__, and no Dynamo, which must see the
    torch.ops call."""
    return (type(cache) is torch.ScriptObject and not torch.compiler.is_compiling()
            and not torch.overrides.has_torch_function(tensors))


def _layer_sparse_conv2d(input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None,
                         stride: tuple, padding: tuple, dilation: tuple, groups: int, algo: str,
                         cache) -> Tensor:
    """sparse_conv2d for MaskedConv2d (see _layer_entry)."""
    if _layer_entry(cache, (input, weight, mask, bias)):
        return _C.sparse_conv2d_dispatch(input, weight, mask, bias, stride, padding, dilation,
                                         groups, algo, cache)
    return sparse_conv2d(input, weight, mask, bias, stride, padding, dilation, groups, algo,
                         cache)


def _layer_sparse_linear(input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None,
                         algo: str, cache) -> Tensor:
    """sparse_linear for MaskedLinear (see _layer_entry)."""
    if _layer_entry(cache, (input, weight, mask, bias)):
        return _C.sparse_linear_dispatch(input, weight, mask, bias, algo, cache)
    return sparse_linear(input, weight, mask, bias, algo, cache)


def sparse_linear(input: Tensor, weight: Tensor, mask: Tensor, bias: Tensor | None, algo: str,
                  cache) -> Tensor:
    """linear(input, weight * mask, bias) as masked_linear computes it, run by `algo` (one of
    sparse_algorithms("linear")) with the prepared forms kept in `cache`; see sparse_conv2d."""
    return torch.ops.dsdkern.sparse_linear(input, weight, mask, bias, algo, cache)


def sparse_algorithm_choices() -> list[dict]:
    """The cached winners of the sparse ops' "auto": dicts of key (str), algorithm (the
    winner's name) and times_ms (each candidate's best measured milliseconds), ordered by key.
    clear_algorithm_choices() forgets them."""
    return _C.sparse_algorithm_choices()


def force_sparse_algorithm(name: str | None) -> None:
    """Make "auto" run the candidate `name` wherever it can run, without measuring or caching
    (for tests and benchmarks); None measures again. Process-wide. A problem that `name`
    cannot run is a ValueError naming the candidates that can."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"force_sparse_algorithm: name must be a str or None, got "
                        f"{type(name).__name__}")
    _C.force_sparse_algorithm(name or "")


def _check_algo(op: str, algo: str, names) -> None:
    if algo not in names:
        listed = ", ".join(f'"{n}"' for n in names)
        raise ValueError(f'{op}: algo must be one of {listed}, got "{algo}"')


@torch._library.register_fake_class("dsdkern::SparseWeight")
class _FakeSparseWeight:
    """What torch.compile traces in place of a SparseWeight: the fake kernels never read it."""

    def __init__(self, kind: str):
        self.kind = kind

    @classmethod
    def __obj_unflatten__(cls, flat):
        return cls(**dict(flat))

    def builds(self) -> int:
        return 0


@torch.library.register_fake("dsdkern::sparse_conv2d")
def _sparse_conv2d_fake(input, weight, mask, bias, stride, padding, dilation, groups, algo,
                        cache):
    shape = _check_shapes("sparse_conv2d", input, weight, mask, bias, stride, padding, dilation,
                          groups)
    _check_algo("sparse_conv2d", algo, _C.sparse_conv_algorithms())
    return _like_input(input, shape)


@torch.library.register_fake("dsdkern::sparse_linear")
def _sparse_linear_fake(input, weight, mask, bias, algo, cache):
    shape = _check_linear("sparse_linear", input, weight, mask, bias)
    _check_algo("sparse_linear", algo, _C.sparse_linear_algorithms())
    return input.new_empty(shape)
