"""Worker: a user's own book-style loop over zerograd's public layers — no Trainer, no optimizer object.

    grads = net.gradient(x_batch, t_batch)
    for key in net.params:
        net.params[key] -= lr * grads[key]

float32 like the Trainer, batches from one shuffled permutation per epoch (as the Trainer and the PyTorch worker),
so the difference to the "zerograd" row is what the Trainer adds or saves.
"""

from __future__ import annotations

import numpy as np

from zerograd.nets import TwoLayerNet

from _common import load_data, parse_args, report, time_epochs


def main() -> None:
    args = parse_args()
    x_train, t_train, x_test, t_test = load_data(args.dataset)
    net = TwoLayerNet(784, args.hidden, 10, dtype=np.float32, rng=args.seed)
    params = net.params
    rng = np.random.default_rng(args.seed)
    batch = args.batch_size

    def run_epoch(_: int) -> None:
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            grads = net.gradient(x_train[idx], t_train[idx])
            for key in params:
                params[key] -= args.lr * grads[key]

    seconds = time_epochs(run_epoch, args.epochs)
    report(seconds, net.accuracy(x_test, t_test, batch_size=1000))


if __name__ == "__main__":
    main()
