"""Worker: the book's own code — chapter 7's SimpleConvNet or chapter 8's DeepConvNet with the book's ``Adam`` —
imported from a checkout of its repository, which is not part of this project:

    git clone https://github.com/oreilly-japan/deep-learning-from-scratch /path/to/dlfs
    python benchmarks/bench_book_own.py --book-repo /path/to/dlfs --net deepconvnet --train-samples 3000

Each step is the book's ``grads = network.gradient(x, t)`` then ``optimizer.update(network.params, grads)``, on
batches of a shuffled pass per epoch, as the other workers run theirs (the book's Trainer also computes the loss
again after each update; left out here, as everywhere). float64, as the book's nets are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from _common import load_data, parse_args, report, time_epochs


def main() -> None:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--book-repo", required=True, help="a checkout of oreilly-japan/deep-learning-from-scratch")
    known, rest = extra.parse_known_args()
    args = parse_args(rest)
    repo = Path(known.book_repo).resolve()
    chapter = {"convnet": "ch07", "deepconvnet": "ch08"}.get(args.net)
    if chapter is None or not (repo / "common" / "optimizer.py").is_file():
        raise SystemExit(f"--net convnet or deepconvnet, and --book-repo a checkout of the book's repository: {repo}")
    sys.path[:0] = [str(repo), str(repo / chapter)]
    from common.optimizer import Adam

    if args.net == "convnet":
        from simple_convnet import SimpleConvNet

        network = SimpleConvNet(hidden_size=args.hidden)
    else:
        from deep_convnet import DeepConvNet

        network = DeepConvNet(hidden_size=args.hidden)
    x_train, t_train, x_test, t_test = load_data(args.dataset, args.train_samples)
    x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
    np.random.seed(args.seed)
    optimizer = Adam(lr=args.lr)
    rng = np.random.default_rng(args.seed)

    def run_epoch(_: int) -> None:
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), args.batch_size):
            idx = order[start : start + args.batch_size]
            grads = network.gradient(x_train[idx], t_train[idx])
            optimizer.update(network.params, grads)

    seconds = time_epochs(run_epoch, args.epochs)
    report(seconds, float(network.accuracy(x_test[:2000], t_test[:2000])), test_images=2000)


if __name__ == "__main__":
    main()
