"""dsdkern: masked sparse convolution and parallel kernel SVM kernels for PyTorch.

Importing the package loads the compiled extension, which registers torch.ops.dsdkern.*,
and their autograd/fake kernels. Benchmarks and the command line live in submodules
that are imported only when used.
"""
import torch  # noqa: F401  (loads libtorch, which _C links against)

from . import _C  # noqa: F401
from . import nn, ops
from .ops import masked_conv, masked_linear

__all__ = ["masked_conv", "masked_linear", "nn", "ops"]
__version__ = "0.1.0"
