"""Worker: the chapter's gradient check of TwoLayerNet(784, 50, 10) on 3 real images, one mode, timed."""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from zerograd.gradcheck import check_net
from zerograd.nets import TwoLayerNet

from _common import load_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["loop", "exhaustive", "fast"], required=True, help="check_net mode")
    parser.add_argument("--dataset", default="fashion-mnist", help="zerograd dataset name")
    args = parser.parse_args()
    x_train, t_train, _, _ = load_data(args.dataset)
    net = TwoLayerNet(784, 50, 10, rng=0)
    x, t = x_train[:3].astype(np.float64), t_train[:3]
    start = time.perf_counter()
    report = check_net(net, x, t, h=1e-4, mode=args.mode)  # h = 1e-4: the book's step
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {"seconds": seconds, "passed": report.passed, "mean_abs_diff": {c.name: c.mean_abs_diff for c in report}}
        )
    )


if __name__ == "__main__":
    main()
