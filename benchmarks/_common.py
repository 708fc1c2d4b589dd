"""What every benchmark worker shares: arguments, the data, timing per epoch and the JSON it prints."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable

import numpy as np


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="one benchmark worker: train, time each epoch, print JSON")
    parser.add_argument(
        "--net",
        choices=["mlp", "convnet", "deepconvnet"],
        default="mlp",
        help="mlp: the chapter-5 784-hidden-10 net; convnet: chapter 7's SimpleConvNet (Adam); deepconvnet: "
        "chapter 8's DeepConvNet (Adam; bench_zerograd.py, bench_torch.py, bench_book_own.py)",
    )
    parser.add_argument("--hidden", type=int, default=50, help="hidden units of the two-layer net (or of the convnet)")
    parser.add_argument(
        "--hidden-list",
        default=None,
        metavar="W1,W2,...",
        help="hidden widths of a deeper mlp (replaces --hidden; bench_torch.py, bench_wall.py)",
    )
    parser.add_argument(
        "--optimizer",
        choices=["sgd", "adam"],
        default=None,
        help="update rule (default: sgd for mlp, adam for convnet; bench_torch.py, bench_wall.py)",
    )
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch size")
    parser.add_argument("--epochs", type=int, default=3, help="epochs to time")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (SGD for mlp, Adam for convnet)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order")
    parser.add_argument("--dataset", default="fashion-mnist", help="zerograd dataset name")
    parser.add_argument(
        "--train-samples",
        type=positive_int,
        default=None,
        metavar="N",
        help="train on the first N training samples only [default: all] "
        "(honoured by bench_zerograd.py, bench_torch.py and bench_book_own.py)",
    )
    return parser.parse_args(argv)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def load_data(name: str, train_samples: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """float32 images in [0, 1] (N, 784) and uint8 labels (N,), train then test.

    train_samples: keep only the first N training samples (the test set stays whole); None keeps all.
    """
    from zerograd.datasets import load_dataset

    ds = load_dataset(name, normalize=True, flatten=True, dtype=np.float32, allow_sample_fallback=False)
    if train_samples is None:
        return ds.x_train, ds.t_train, ds.x_test, ds.t_test
    # fewer samples than asked for would make a caller's per-sample scaling silently wrong
    if train_samples > len(ds.x_train):
        raise SystemExit(f"--train-samples {train_samples}: {name} has only {len(ds.x_train)} training samples")
    return ds.x_train[:train_samples], ds.t_train[:train_samples], ds.x_test, ds.t_test


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    infos = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} x{i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "; ".join(infos) or "none found"


def report(epoch_seconds: list[float], test_accuracy: float, **extra: object) -> None:
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    print(
        json.dumps(
            {
                "epoch_seconds": epoch_seconds,
                "test_accuracy": test_accuracy,
                "peak_rss_mib": peak_kib / 1024,
                "blas": blas_description(),
                **extra,
            }
        )
    )
    sys.stdout.flush()


def time_epochs(run_epoch: Callable[[int], None], epochs: int) -> list[float]:
    seconds = []
    for epoch in range(epochs):
        start = time.perf_counter()
        run_epoch(epoch)
        seconds.append(time.perf_counter() - start)
    return seconds
