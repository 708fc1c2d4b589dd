"""What ``explain=True`` costs: check_layer / check_net with and without it, failing and passing (median of 5).

Runs the planted-mistake catalogue of tests/test_diagnose.py (tiny layers, 12-60 elements: the worst case, where
the probes' fixed cost weighs most), the same kind of slips at a chapter's sizes, correct layers (passing) and
TwoLayerNet with a broken ReLU (check_net). Prints one line per case and the ratios.

    PYTHONPATH=src python benchmarks/bench_explain.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import test_diagnose as catalogue  # noqa: E402 (the planted layers live with their tests)

from zerograd.gradcheck import check_layer, check_net  # noqa: E402
from zerograd.layers import Relu, Sigmoid  # noqa: E402
from zerograd.nets import TwoLayerNet  # noqa: E402


def timed(run, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def layer_ratio(case, options) -> tuple[float, float] | None:
    def run(explain):
        layer, inputs, kwargs = case()
        return lambda: check_layer(layer, *inputs, explain=explain, **kwargs, **options)

    try:
        plain = timed(run(False))
    except ValueError:  # a gradient of the wrong shape: without explain the check raises
        return None
    return plain, timed(run(True))


def chapter_sized() -> dict[str, tuple]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 50))
    x_off = np.where(np.abs(x) < 0.1, 0.5, x)
    on_kinks = x_off.copy()
    on_kinks[::4, ::5] = 0.0
    images = rng.standard_normal((4, 3, 10, 10))
    return {
        "Affine 50→20, N=32, dW / N": (
            catalogue.AffineDWOverN(rng.standard_normal((50, 20)), rng.standard_normal(20)),
            (x,),
            {},
        ),
        "Affine 50→20, N=32, db = dout[0]": (
            catalogue.AffineBiasFirstRow(rng.standard_normal((50, 20)), rng.standard_normal(20)),
            (x,),
            {},
        ),
        "Sigmoid (32, 50), y(1-y) from x": (catalogue.SigmoidFromX(), (x,), {}),
        "Relu (32, 50), mask from dout": (catalogue.ReluMaskFromDout(), (x_off,), {}),
        "Relu (32, 50), 80 inputs at 0": (Relu(), (on_kinks,), {}),
        "Sigmoid (32, 50) in float32": (catalogue.SigmoidFloat32(), (x,), {}),
        "SoftmaxWithLoss (32, 10), no / N": (catalogue.SoftmaxNoDivide(), (x[:, :10], rng.integers(0, 10, 32)), {}),
        "Conv 3→4 3x3, (4,3,10,10), dW / N": (
            catalogue.ConvDWOverN(rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4), pad=1),
            (images,),
            {},
        ),
        "Sigmoid (32, 50), correct": (Sigmoid(), (x,), {}),
    }


def main() -> None:
    ratios = []
    print("catalogue (tiny layers):")
    for case, name, kind, options in catalogue.CATALOGUE:
        measured = layer_ratio(case, options)
        if measured is not None:
            plain, explained = measured
            ratios.append(explained / plain)
            print(
                f"  {kind:<22} {name:<6} plain {plain * 1e3:7.2f} ms  explain {explained * 1e3:7.2f} ms  "
                f"x{explained / plain:.2f}"
            )
    print(f"  total time with explain / without: median x{np.median(ratios):.2f}, max x{max(ratios):.2f}")
    print("chapter-sized layers:")
    for label, (layer, inputs, kwargs) in chapter_sized().items():
        plain, explained = layer_ratio(lambda layer=layer, inputs=inputs, kwargs=kwargs: (layer, inputs, kwargs), {})
        print(f"  {label:<36} plain {plain * 1e3:8.2f} ms  explain {explained * 1e3:8.2f} ms  x{explained / plain:.2f}")
    print("passing correct layers (float64):")
    for label, (layer, inputs, kwargs) in catalogue.correct_cases(np.float64).items():
        plain, explained = layer_ratio(lambda layer=layer, inputs=inputs, kwargs=kwargs: (layer, inputs, kwargs), {})
        print(f"  {label:<26} plain {plain * 1e3:7.2f} ms  explain {explained * 1e3:7.2f} ms  x{explained / plain:.2f}")
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((8, 30)), rng.integers(0, 5, 8)
    for label, broken in (
        ("TwoLayerNet(30, 20, 5), Relu1 mask from dout", True),
        ("TwoLayerNet(30, 20, 5), correct", False),
    ):
        net = TwoLayerNet(30, 20, 5, weight_init_std=0.5, rng=0)
        if broken:
            net.layers["Relu1"] = catalogue.ReluMaskFromDout()
        plain = timed(lambda net=net: check_net(net, x, t))
        explained = timed(lambda net=net: check_net(net, x, t, explain=True))
        print(
            f"check_net {label:<44} plain {plain * 1e3:7.2f} ms  explain {explained * 1e3:7.2f} ms  "
            f"x{explained / plain:.2f}"
        )


if __name__ == "__main__":
    main()
