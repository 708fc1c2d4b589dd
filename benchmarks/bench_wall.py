"""Worker: one training run as ``zerograd train`` makes it (load, net, Trainer, a checkpoint after every epoch),
timed by the wall clock as well as by the Trainer: prints JSON with the data load time, each epoch's wall time
(training, evaluation, checkpoint, and before the first epoch the thread choice) and each epoch's training time.

It uses only what every zerograd since issue 15 has (``load_dataset``, the nets, ``Trainer``, ``save_checkpoint``),
so ``--baseline-src`` runs it on an older checkout; options a tree's ``TrainConfig`` lacks are dropped there.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import blas_description, parse_args, report


def main() -> None:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--thread-choice", default=None, help="auto, identical, fastest or off (trees that have it)")
    extra.add_argument("--blas", type=int, default=None, help="TrainConfig.blas_threads (default: the tree's rule)")
    known, rest = extra.parse_known_args()
    args = parse_args(rest)

    from zerograd.datasets import load_dataset
    from zerograd.train import TrainConfig, Trainer

    start = time.perf_counter()
    ds = load_dataset(args.dataset, allow_sample_fallback=False, dtype=np.float32)
    load_seconds = time.perf_counter() - start
    x_train, t_train = ds.x_train, ds.t_train
    if args.train_samples:
        x_train, t_train = x_train[: args.train_samples], t_train[: args.train_samples]

    hidden = [int(w) for w in (args.hidden_list or str(args.hidden)).split(",")]
    optimizer = args.optimizer or ("adam" if args.net == "convnet" else "sgd")
    if args.net == "convnet":
        from zerograd.convnets import SimpleConvNet

        net = SimpleConvNet(hidden_size=hidden[0], weight_init_std=0.01, dtype=np.float32, rng=args.seed)
    elif len(hidden) == 1:
        from zerograd.nets import TwoLayerNet

        net = TwoLayerNet(784, hidden[0], 10, weight_init_std=0.01, dtype=np.float32, rng=args.seed)
    else:
        from zerograd.nets import MultiLayerNet

        net = MultiLayerNet(784, hidden, 10, weight_init_std="he", dtype=np.float32, rng=args.seed)
    wanted = dict(
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=optimizer,
        lr=args.lr,
        seed=args.seed,
        thread_choice=known.thread_choice,
        blas_threads=known.blas,
    )
    if known.thread_choice is None:
        del wanted["thread_choice"]
    if known.blas is not None and known.thread_choice is None:
        wanted["thread_choice"] = "off"  # a fixed setting: nothing to choose (dropped on a tree without it)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in wanted.items() if k in names})

    ends: list[float] = []
    with tempfile.TemporaryDirectory() as folder:

        def epoch_end(trainer: Trainer) -> None:
            trainer.save_checkpoint(Path(folder) / "checkpoint.npz")  # as zerograd train does after each epoch
            ends.append(time.perf_counter())

        trainer = Trainer(net, config, x_train, t_train, ds.x_test, ds.t_test, callbacks=[epoch_end])
        started = time.perf_counter()
        history = trainer.fit()
    walls = [b - a for a, b in zip([started, *ends[:-1]], ends, strict=True)]
    choice = getattr(trainer, "thread_choice", None)
    chosen = [str(setting) for _, _, setting in choice.log] if choice is not None else []
    report(
        history.seconds,
        history.test_acc[-1],
        epoch_wall=walls,
        load_seconds=load_seconds,
        thread_choices=chosen,
        train_acc_on=getattr(trainer, "train_acc_on", "all (before issue 24)"),
        blas_at_start=blas_description(),
    )


if __name__ == "__main__":
    main()
