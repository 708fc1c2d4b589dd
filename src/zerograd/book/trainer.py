"""The book's ``common/trainer.py``: ``Trainer`` as chapter 6's scripts call it.

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                      optimizer="SGD", optimizer_param={"lr": 0.01}, evaluate_sample_num_per_epoch=None,
                      verbose=True)
    trainer.train()
    trainer.train_acc_list, trainer.test_acc_list, trainer.train_loss_list

Batches are drawn as the book draws them, ``np.random.choice`` with replacement from the global generator, for
``int(epochs * max(N / mini_batch_size, 1))`` iterations. ``zerograd.train.Trainer`` is the library's own loop
(a permutation per epoch, checkpoints, seeds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import optimizer as book_optimizer

__all__ = ["np", "Trainer"]

OPTIMIZERS = {
    "sgd": book_optimizer.SGD,
    "momentum": book_optimizer.Momentum,
    "nesterov": book_optimizer.Nesterov,
    "adagrad": book_optimizer.AdaGrad,
    "rmsprop": book_optimizer.RMSprop,
    "adam": book_optimizer.Adam,
    "rmsprpo": book_optimizer.RMSprop,  # the book's dict spells it so; accept that spelling as well
}


class Trainer:
    """Train ``network`` (``params``, ``gradient``, ``loss``, ``accuracy``) with an optimizer named by string."""

    def __init__(
        self,
        network: Any,
        x_train: Any,
        t_train: Any,
        x_test: Any,
        t_test: Any,
        epochs: int = 20,
        mini_batch_size: int = 100,
        optimizer: str = "SGD",
        optimizer_param: dict[str, float] | None = None,
        evaluate_sample_num_per_epoch: int | None = None,
        verbose: bool = True,
    ) -> None:
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(
                f"Trainer: unknown optimizer {optimizer!r}; choose one of "
                f"SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam"
            )
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.optimizer = OPTIMIZERS[key](**(optimizer_param if optimizer_param is not None else {"lr": 0.01}))

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list: list[float] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []

    def train_step(self) -> None:
        """One mini-batch update; at each epoch boundary, record and print train/test accuracy."""
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]

        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)

        loss = self.network.loss(x_batch, t_batch)  # after the update, as the book records it
        self.train_loss_list.append(loss)
        if self.verbose:
            print(f"train loss:{loss}")

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            n = self.evaluate_sample_num_per_epoch
            if n is not None:
                x_train_sample, t_train_sample = self.x_train[:n], self.t_train[:n]
                x_test_sample, t_test_sample = self.x_test[:n], self.t_test[:n]
            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self) -> None:
        """``max_iter`` steps, then the final test accuracy on the whole test set.

        BLAS threads as ``zerograd.train.Trainer`` chooses them (one for small and convolutional nets).
        """
        from ..engine.threads import blas_threads, blas_threads_for

        with blas_threads(blas_threads_for(self.network.params.values(), self.batch_size)):
            for _ in range(self.max_iter):
                self.train_step()
            test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print(f"test acc:{test_acc}")
