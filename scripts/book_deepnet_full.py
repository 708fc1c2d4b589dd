"""Chapter 8's full DeepConvNet run, as the book's ``ch08/train_deepnet.py`` makes it, on Fashion-MNIST.

    python scripts/book_deepnet_full.py --out deepnet-run          # about an hour on 2 cores

The book's settings, through ``zerograd.book`` (the book's API, float64, the global ``np.random``):
``DeepConvNet()``, the book's ``Trainer`` with 20 epochs, batches of 100, ``Adam(lr=0.001)``, accuracy on the first
1,000 training and test images after each epoch, and the final accuracy on the whole test set; then
``save_params``. Real MNIST needs a download, which this project's machines cannot make, so the images are Debian's
Fashion-MNIST (``dataset-fashion-mnist``), loaded as the book's ``load_mnist(flatten=False)`` returns MNIST:
float32 in [0, 1], ``(N, 1, 28, 28)``, uint8 labels. The book's run is unseeded; this one seeds ``np.random`` so it
can be repeated. ``--epochs`` and ``--train-samples`` scale it down (the tests run it so).

Writes to ``--out``: ``train.log`` (the Trainer's lines), ``deep_convnet_params.pkl`` and ``result.json`` (test
accuracy, time, versions).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import zerograd
from zerograd.book.deep_convnet import DeepConvNet
from zerograd.book.trainer import Trainer
from zerograd.datasets import DatasetError, load_dataset
from zerograd.io.fileio import write_text
from zerograd.validators import OptionError, positive_int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="new folder for train.log, the parameters and result.json")
    parser.add_argument("--epochs", type=int, default=20, help="(default: 20, the book's)")
    parser.add_argument(
        "--train-samples", type=int, default=None, help="use the first N training images (default: all)"
    )
    parser.add_argument("--root", default=None, help="folder of the Fashion-MNIST files (default: the datasets' own)")
    parser.add_argument("--seed", type=int, default=0, help="seed of np.random (default: 0)")
    args = parser.parse_args(argv)
    try:  # the project's one validator of counts, before anything is made
        positive_int(args.epochs, "--epochs")
        if args.train_samples is not None:
            positive_int(args.train_samples, "--train-samples")
    except OptionError as err:
        parser.error(str(err))

    out = Path(args.out)
    try:
        out.mkdir(parents=True)
    except FileExistsError:
        print(f"error: {out} exists; give a new folder, nothing was overwritten", file=sys.stderr)
        return 2
    try:
        ds = load_dataset("fashion-mnist", args.root, flatten=False, download=False, progress=False)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    x_train, t_train, x_test, t_test = ds.x_train, ds.t_train, ds.x_test, ds.t_test
    if args.train_samples is not None:
        x_train, t_train = x_train[: args.train_samples], t_train[: args.train_samples]

    np.random.seed(args.seed)
    network = DeepConvNet()
    trainer = Trainer(
        network,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs=args.epochs,
        mini_batch_size=100,
        optimizer="Adam",
        optimizer_param={"lr": 0.001},
        evaluate_sample_num_per_epoch=1000,
    )
    start = time.perf_counter()
    with open(out / "train.log", "w") as log, contextlib.redirect_stdout(log):
        trainer.train()
    seconds = time.perf_counter() - start
    network.save_params(str(out / "deep_convnet_params.pkl"))

    test_acc = float(network.accuracy(x_test, t_test))
    result = {
        "dataset": "fashion-mnist",
        "train_images": len(x_train),
        "test_images": len(x_test),
        "epochs": args.epochs,
        "iterations": trainer.max_iter,
        "seed": args.seed,
        "test_acc": test_acc,
        "epoch_test_acc_first_1000": [float(a) for a in trainer.test_acc_list],
        "loss_first_100": float(np.mean(trainer.train_loss_list[:100])),
        "loss_last_100": float(np.mean(trainer.train_loss_list[-100:])),
        "seconds": round(seconds, 1),
        "zerograd": zerograd.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    write_text(out / "result.json", json.dumps(result, indent=2) + "\n")
    print(
        f"test acc {test_acc:.4f} on {len(x_test):,} Fashion-MNIST test images after {trainer.max_iter:,} "
        f"iterations, {seconds / 60:.1f} min → {out / 'result.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
