"""Worker: zerograd's public API as a user calls it — a TwoLayerNet (SGD), a SimpleConvNet (Adam, --net convnet) or
a DeepConvNet (Adam, --net deepconvnet) trained by the Trainer."""

from __future__ import annotations

import argparse

import numpy as np

from zerograd.nets import TwoLayerNet
from zerograd.train import TrainConfig, Trainer

from _common import load_data, parse_args, report


def main() -> None:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--dtype", default="float32", help="the net's dtype (float32, the trainer's default)")
    known, rest = extra.parse_known_args()
    args = parse_args(rest)
    x_train, t_train, x_test, t_test = load_data(args.dataset, args.train_samples)
    dtype = np.dtype(known.dtype)
    if args.net in ("convnet", "deepconvnet"):
        from zerograd.convnets import DeepConvNet, SimpleConvNet

        # the flat (N, 784) images are taken as (N, 1, 28, 28): a view, not a copy
        make = SimpleConvNet if args.net == "convnet" else DeepConvNet
        net = make(hidden_size=args.hidden, dtype=dtype, rng=args.seed)
        config = TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, optimizer="adam", lr=args.lr, seed=args.seed
        )
    else:
        net = TwoLayerNet(784, args.hidden, 10, dtype=dtype, rng=args.seed)
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    trainer = Trainer(net, config, x_train.astype(dtype, copy=False), t_train, x_test.astype(dtype, copy=False), t_test)
    history = trainer.fit()
    report(history.seconds, history.test_acc[-1])


if __name__ == "__main__":
    main()
