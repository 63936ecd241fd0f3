"""Data-parallel SVC(solver="spsvm") over torch.distributed, as a user would run it:

    torchrun --nproc_per_node=2 examples/svm_distributed.py

Each process loads only its own shard of the training rows (here: a contiguous
slice of digits), fits, and ends with the same model as every other process;
rank 0 then reports the test accuracy, which any rank could compute alone.
"""
import pickle

import torch.distributed as dist
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from dsdkern.svm import SVC


def main():
    dist.init_process_group("gloo")  # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR/PORT
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                            random_state=0)
        rows = slice(rank * len(X_train) // world, (rank + 1) * len(X_train) // world)
        model = SVC(solver="spsvm", random_state=0).fit(X_train[rows], y_train[rows])
        models = [None] * world
        dist.all_gather_object(models, pickle.dumps(model))
        if rank == 0:
            print(f"{world} ranks, {len(X_train)} training rows ({rows.stop - rows.start} here): "
                  f"test accuracy {model.score(X_test, y_test):.4f}, "
                  f"{len(model.support_)} basis vectors, "
                  f"same model on every rank: {len(set(models)) == 1}")
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
