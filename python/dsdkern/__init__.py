"""dsdkern: masked sparse convolution and parallel kernel SVM kernels for PyTorch."""
import torch  # noqa: F401  (loads libtorch before the extension that links it)

from . import _C  # noqa: F401

__version__ = "0.1.0"
