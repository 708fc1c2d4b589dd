"""Where a small net's step goes beyond its two big products (issue 24 item 4), in one process.

Epoch rows, alternating within each round, medians: the floor (``x @ W1`` and ``xᵀ dout`` on freshly gathered
batches), a loop over ``net.gradient`` alone, a user's loop (``gradient`` + ``update``) and the Trainer's epoch;
the Trainer's ratio to the floor is the issue's "epoch ≤ 1.5x its own two products". Part rows: each piece of one
step alone (the minimum of 7 repeats of 300 calls, which load on the machine can only raise).

    python benchmarks/step_overhead.py                       # 784-50-10, batch 100
    python benchmarks/step_overhead.py --hidden 1000 --batch-size 256
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import timeit

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    from zerograd.engine.threads import blas_threads, blas_threads_for
    from zerograd.nets import TwoLayerNet
    from zerograd.optim import SGD
    from zerograd.train import TrainConfig, Trainer

    rng = np.random.default_rng(0)
    n, b = 60000, args.batch_size
    x = rng.random((n, 784), dtype=np.float32)
    t = rng.integers(0, 10, n).astype(np.uint8)
    net = TwoLayerNet(784, args.hidden, 10, dtype=np.float32, rng=0)
    trainer = Trainer(net, TrainConfig(epochs=1, batch_size=b, thread_choice="off"), x, t)
    w1, dout, optimizer = net.params["W1"], rng.random((b, args.hidden), dtype=np.float32), SGD(0.1)
    steps = n // b

    def epoch(kind: str) -> float:
        if kind == "trainer":
            trainer.config.epochs = trainer.epoch + 1
            trainer.fit()
            return trainer.history.seconds[-1]
        order = rng.permutation(n)
        start = time.perf_counter()
        for i in range(steps):
            idx = order[i * b : (i + 1) * b]
            xb, tb = x[idx], t[idx]
            if kind == "floor":
                xb @ w1
                xb.T @ dout
            elif kind == "gradient":
                net.gradient(xb, tb)
            else:
                optimizer.update(net.params, net.gradient(xb, tb))
        return time.perf_counter() - start

    kinds = ["floor", "gradient", "user loop", "trainer"]
    seconds: dict[str, list[float]] = {k: [] for k in kinds}
    with blas_threads(blas_threads_for(net.params.values(), b)):  # the rule's setting, for every row
        for _ in range(args.rounds):
            for kind in kinds:
                seconds[kind].append(epoch(kind))
        xb, tb = x[:b], t[:b]
        net.gradient(xb, tb)
        layers = net.layers
        h = layers["Affine1"].forward(xb)
        w2, dout2 = net.params["W2"], rng.random((b, 10), dtype=np.float32)
        parts = {
            "gather x[idx], t[idx]": "x[idx]; t[idx]",
            "the two products": "xb @ w1; xb.T @ dout",
            "all five products of a step": "xb @ w1; h @ w2; h.T @ dout2; dout2 @ w2.T; xb.T @ dout",
            "net.gradient": "net.gradient(xb, tb)",
            "Relu forward": "layers['Relu1'].forward(h)",
            "SoftmaxWithLoss forward": "net.last_layer.forward(layers['Affine2'].forward(h), tb)",
            "optimizer.update": "optimizer.update(net.params, grads)",
            "running accuracy": "np.count_nonzero(np.argmax(net.last_layer.y, axis=1) == tb)",
        }
        scope = {**globals(), **locals(), "idx": rng.permutation(n)[:b], "grads": net.gradient(xb, tb)}
        micro = {
            name: min(timeit.repeat(stmt, number=300, repeat=7, globals=scope)) / 300 for name, stmt in parts.items()
        }
    floor = statistics.median(seconds["floor"])
    print(
        f"784-{args.hidden}-10, batch {b}, {steps} steps an epoch, {args.rounds} rounds; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    print("| row | s/epoch (median) | x floor | µs/step |")
    print("|---|---|---|---|")
    for kind in kinds:
        median = statistics.median(seconds[kind])
        print(f"| {kind} | {median:.4f} | {median / floor:.2f} | {median / steps * 1e6:.0f} |")
    print("\n| part of a step | µs (min of 7) |")
    print("|---|---|")
    for name, value in micro.items():
        print(f"| {name} | {value * 1e6:.1f} |")


if __name__ == "__main__":
    main()
