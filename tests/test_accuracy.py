"""Real data, full scale, offline: the accuracies the README reports.

Fashion-MNIST comes from the Debian package (dataset-fashion-mnist, which CI installs); the MNIST sample is bundled.
Without the data these tests skip with the reason (in CI, with ZEROGRAD_TEST_REQUIRE_ALL set, a skip fails).
Each run stops as soon as it reaches its target, within its epoch budget.
"""

import re
import subprocess
import sys
import time

import numpy as np
import pytest

from zerograd.nets import MultiLayerNet, TwoLayerNet
from zerograd.train import TrainConfig, Trainer


def load_or_skip(name):
    from zerograd.datasets import DatasetError, load_dataset

    try:
        return load_dataset(name, download=False, dtype=np.float32)
    except DatasetError as err:
        pytest.skip(f"{name} is not installed here: {err}")


def train_until(net, ds, target, max_epochs, **config):
    """Train until the test accuracy reaches ``target`` or ``max_epochs`` pass; returns the history."""

    def stop_at_target(trainer):
        if trainer.history.test_acc[-1] >= target:
            raise StopIteration

    trainer = Trainer(
        net,
        TrainConfig(epochs=max_epochs, **config),
        ds.x_train,
        ds.t_train,
        ds.x_test,
        ds.t_test,
        callbacks=[stop_at_target],
    )
    started = time.perf_counter()
    history = trainer.fit()
    print(
        f"\n{net!r}: test accuracy {history.test_acc[-1]:.4f} after {len(history.test_acc)} epochs, "
        f"{time.perf_counter() - started:.1f} s (training {sum(history.seconds):.1f} s)"
    )
    return history


def test_two_layer_net_with_the_books_hyperparameters_on_fashion_mnist():
    ds = load_or_skip("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    # the book's TwoLayerNet(784, 50, 10): weights N(0, 0.01²), SGD with lr 0.1, batches of 100
    net = TwoLayerNet(784, 50, 10, weight_init_std=0.01, dtype=np.float32, rng=0)
    history = train_until(net, ds, 0.85, max_epochs=10, optimizer="sgd", lr=0.1, batch_size=100, seed=0)
    assert history.test_acc[-1] >= 0.85, history.test_acc


def test_multi_layer_net_with_adam_on_fashion_mnist():
    ds = load_or_skip("fashion-mnist")
    net = MultiLayerNet(784, [256, 128], 10, weight_init_std="he", dtype=np.float32, rng=0)
    history = train_until(net, ds, 0.88, max_epochs=10, optimizer="adam", lr=0.001, batch_size=100, seed=0)
    assert history.test_acc[-1] >= 0.88, history.test_acc


def test_two_layer_net_on_the_bundled_mnist_sample():
    ds = load_or_skip("mnist-sample")
    overlap = len(set(map(bytes, ds.x_test[:200])) & set(map(bytes, ds.x_train)))
    assert overlap == 0, "the held-out split shares images with the training split"
    net = TwoLayerNet(784, 50, 10, weight_init_std=0.01, dtype=np.float32, rng=0)
    history = train_until(net, ds, 0.90, max_epochs=20, optimizer="sgd", lr=0.1, batch_size=100, seed=0)
    assert history.test_acc[-1] >= 0.90, history.test_acc


# -- chapter 7: SimpleConvNet (conv 30x5x5, ReLU, max-pool 2x2, Affine 100, ReLU, Affine 10), float32, Adam ----
# He initialisation: with the book's std 0.01 the same net gets there too, a few epochs later (measured here: the
# sample at 0.97 after 12 epochs instead of 4; Fashion-MNIST 0.895 after 5 epochs).


def test_simple_convnet_on_the_bundled_mnist_sample():
    from zerograd.convnets import SimpleConvNet

    ds = load_or_skip("mnist-sample")
    net = SimpleConvNet(weight_init_std="he", dtype=np.float32, rng=0)
    history = train_until(
        net, ds, 0.97, max_epochs=8, optimizer="adam", lr=0.001, batch_size=100, seed=0, eval_train_samples=1000
    )
    assert history.test_acc[-1] >= 0.97, history.test_acc


def test_the_readme_convnet_command_as_printed_reaches_0_90_on_fashion_mnist(tmp_path):
    # the command exactly as the README prints it, and the accuracy exactly as it prints it: the CLI's SimpleConvNet
    # starts from He (the book's std 0.01 gives 0.8917 here after 5 epochs)
    load_or_skip("fashion-mnist")
    command = ["zerograd", "train", "--net", "convnet", "--dataset", "fashion-mnist", "--epochs", "5"]
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=tmp_path, capture_output=True, text=True, timeout=3600
    )
    assert result.returncode == 0, result.stderr
    printed = re.search(r"^final test accuracy (\d\.\d+) after 5 epochs", result.stdout, re.M)
    assert printed, result.stdout
    print(f"\n{' '.join(command)}: {printed.group(0)}")
    assert float(printed.group(1)) >= 0.90, result.stdout
