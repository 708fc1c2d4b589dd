"""The floor of a two-layer net's epoch: only its two big matrix products, as a training step runs them.

For 784-H-10 at batch B a step's arithmetic is almost all in ``x @ W1`` (forward) and ``xᵀ dout`` (``dW1``; the
first layer skips ``dx``). This times those two products alone, on freshly gathered batches of the real data, for
one epoch of 60,000 samples, with BLAS on its own threads (``--blas 2``, what the Trainer gives the wide net) or
with zerograd's row blocks on one BLAS thread each (``--blas 1``). No implementation that computes them with this
BLAS can take less; compare it with PyTorch's whole epoch from ``run.py --config wide``.

    python benchmarks/products_floor.py --hidden 1000 --batch-size 256
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from _common import blas_description, load_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=4, help="epochs to time, the first is warm-up")
    parser.add_argument(
        "--blas",
        type=int,
        choices=[1, 2],
        default=2,
        help="2: BLAS's own threads; 1: zerograd's row blocks, one BLAS thread each",
    )
    parser.add_argument("--dataset", default="fashion-mnist")
    args = parser.parse_args()

    from zerograd.engine import parallel
    from zerograd.engine.threads import blas_threads

    x_train, _, _, _ = load_data(args.dataset)
    rng = np.random.default_rng(0)
    w1 = (0.01 * rng.standard_normal((x_train.shape[1], args.hidden))).astype(np.float32)
    dout = rng.standard_normal((args.batch_size, args.hidden)).astype(np.float32)
    steps = len(x_train) // args.batch_size

    def epoch() -> float:
        order = rng.permutation(len(x_train))
        start = time.perf_counter()
        for i in range(steps):
            x = x_train[order[i * args.batch_size : (i + 1) * args.batch_size]]
            parallel.matmul(x, w1)  # forward; with BLAS on its own threads this is just x @ W1
            parallel.matmul(x.T, dout[: len(x)])  # dW1
        return time.perf_counter() - start

    with blas_threads(1 if args.blas == 1 else None):
        seconds = [epoch() for _ in range(args.epochs)]
    print(
        json.dumps(
            {
                "epoch_seconds": seconds,
                "median_after_first": statistics.median(seconds[1:]),
                "steps": steps,
                "blas": blas_description(),
            }
        )
    )


if __name__ == "__main__":
    main()
