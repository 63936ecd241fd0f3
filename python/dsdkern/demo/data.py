"""The training demo's data, made offline: scikit-learn's digits (8×8 images) and MNIST-1D
(the mnist1d package's generator with its published settings: 4000 training and 1000 test
signals of 40 samples), as float32 tensors shaped [n, 1, H, W], and a batch iterator."""
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: torch.Tensor  # [n_train, 1, H, W] float32
    y_train: torch.Tensor  # [n_train] int64 class labels
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int

    @property
    def features(self) -> int:
        """Inputs per example (1·H·W), the width of an MLP's first layer."""
        return self.x_train[0].numel()


class Batches:
    """Mini-batches of (x, y); every pass over it is a fresh shuffle drawn from a generator
    seeded once, so a run is reproducible and two runs with one seed see the same order.
    Slicing whole tensors (not DataLoader's per-example collation) keeps the tiny nets'
    epochs bound by their arithmetic."""

    def __init__(self, x, y, batch_size, seed=None):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        n = len(self.y)
        order = (torch.arange(n) if self.generator is None
                 else torch.randperm(n, generator=self.generator))
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.x[idx], self.y[idx]


def _tensors(name, x_train, x_test, y_train, y_test, image_shape):
    def images(x):
        return torch.as_tensor(x, dtype=torch.float32).reshape(len(x), 1, *image_shape)

    def labels(y):
        return torch.as_tensor(y, dtype=torch.int64)

    return Dataset(name, images(x_train), labels(y_train), images(x_test), labels(y_test),
                   classes=int(labels(y_train).max()) + 1)


def digits() -> Dataset:
    """sklearn's 1797 8×8 digits, pixels scaled to [0, 1], the 75/25 split of the SVM demo."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=0.25,
                                                        random_state=0)
    return _tensors("digits", x_train, x_test, y_train, y_test, (8, 8))


def mnist1d() -> Dataset:
    """MNIST-1D generated from its templates (no download): 1×40 'images', zero mean and
    unit variance as the generator leaves them. The generator reseeds numpy's global RNG."""
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())
    return _tensors("MNIST-1D", d["x"], d["x_test"], d["y"], d["y_test"], (1, d["x"].shape[1]))
