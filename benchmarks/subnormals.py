"""Adam's state in the subnormal range: epochs with and without zerograd.optim's flush, in separate processes.

Where a weight's gradient stays 0 (a pixel that is 0 in every image of many batches), Adam's first moment shrinks
by 0.9 a step, reaches float32's subnormals (below 1.2e-38) after some 700 steps and sticks there; x86 computes
with subnormals about 100 times slower. ``Optimizer`` sets them to 0 every ``FLUSH_EVERY`` steps, which changes no
weight. This times the 784-256-128-10 Adam net (the README's Fashion-MNIST run) epoch by epoch, flushing and not
(``FLUSH_EVERY`` set beyond the run), alternating processes over rounds, and checks the weights are the same bits.

    python benchmarks/subnormals.py --rounds 3 --epochs 4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(flush_every: int, epochs: int) -> None:
    import numpy as np

    from zerograd import optim
    from zerograd.datasets import load_dataset
    from zerograd.nets import MultiLayerNet
    from zerograd.train import TrainConfig, Trainer

    optim.FLUSH_EVERY = flush_every
    ds = load_dataset("fashion-mnist", dtype=np.float32, allow_sample_fallback=False)
    net = MultiLayerNet(784, [256, 128], 10, weight_init_std="he", dtype=np.float32, rng=0)
    config = TrainConfig(epochs=epochs, batch_size=100, optimizer="adam", lr=0.001, thread_choice="off")
    history = Trainer(net, config, ds.x_train, ds.t_train).fit()
    digest = hashlib.sha256(b"".join(net.params[k].tobytes() for k in sorted(net.params))).hexdigest()
    print(json.dumps({"seconds": history.seconds, "weights_sha256": digest}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per process (the first has no subnormals yet)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.epochs)
        return
    from zerograd.optim import FLUSH_EVERY

    kinds = {f"flush every {FLUSH_EVERY}": FLUSH_EVERY, "no flush": 10**9}
    runs: dict[str, list[dict]] = {name: [] for name in kinds}
    for round_ in range(args.rounds):
        for name, every in kinds.items():
            out = subprocess.run(
                [sys.executable, __file__, f"--worker={every}", f"--epochs={args.epochs}"],
                capture_output=True,
                text=True,
                check=True,
                cwd=HERE,
            )
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  round {round_ + 1} {name:<16} " + " ".join(f"{s:.3f}" for s in runs[name][-1]["seconds"]))
    print(f"\n784-256-128-10, Adam, batch 100, full Fashion-MNIST, {args.rounds} rounds x {args.epochs} epochs")
    print("| state | epoch 1 s (median) | epochs 2.. s (median) |")
    print("|---|---|---|")
    for name, results in runs.items():
        first = statistics.median(r["seconds"][0] for r in results)
        rest = statistics.median(s for r in results for s in r["seconds"][1:])
        print(f"| {name} | {first:.3f} | {rest:.3f} |")
    digests = {r["weights_sha256"] for results in runs.values() for r in results}
    print(f"weights: {'the same bits in every run' if len(digests) == 1 else f'{len(digests)} different results'}")


if __name__ == "__main__":
    main()
