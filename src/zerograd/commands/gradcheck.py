"""``zerograd gradcheck``: the chapter's gradient check — backprop against numerical gradients on 3 samples."""

from __future__ import annotations

import argparse
import math
from typing import Any

from . import common
from .common import CommandError

# Element-by-element differences past this many multiply-adds are refused (about half an hour at 10 GFLOP/s)
MAX_DIFFERENCE_FLOPS = 2e13


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "gradcheck",
        help="compare backprop with numerical gradients (the chapter's gradient check)",
        description="Compare the gradients of backpropagation with central differences, as the chapter's "
        "gradient_check.py does: per parameter the mean |difference| (the book's number), the largest "
        "relative error, and PASS/FAIL. Runs in float64. Exit status 1 on a FAIL.",
    )
    p.add_argument(
        "--dataset",
        default="mnist-sample",
        help="where the samples come from: mnist-sample (bundled), mnist, fashion-mnist or a PATH.npz "
        "(default: %(default)s)",
    )
    p.add_argument("--root", default=None, help="directory of the dataset files (default: the datasets' own)")
    p.add_argument(
        "--samples", type=int, default=3, help="training samples in the batch (default: %(default)s, as the book)"
    )
    p.add_argument(
        "--hidden",
        default="50",
        help="hidden widths: 50 (TwoLayerNet) or 100,100 (MultiLayerNet) (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the net's initial weights (default: %(default)s)")
    p.add_argument("--layers", action="store_true", help="also check every built-in layer on random inputs")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of a PASS (default: %(default)s)")
    p.add_argument(
        "--mode",
        choices=["exhaustive", "loop", "fast"],
        default="exhaustive",
        help="exhaustive: every element, many per forward pass; loop: the book's element loop; "
        "fast: one random direction per parameter (default: %(default)s)",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="on a FAIL, say what is wrong: a factor such as the batch size, the transpose, a bias not "
        "summed, dout ignored or written into, inputs on a kink, ... and where in the net it starts",
    )
    p.add_argument(
        "--layer",
        metavar="FILE.py:CLASS",
        default=None,
        help="check your own layer class instead of the net: the class CLASS of the Python file "
        "FILE.py (run as Python; only the file you name), on small random inputs "
        "(default: none, the net)",
    )


def _check_difference_cost(widths: list[int], args: argparse.Namespace) -> None:
    """Refuse a check whose element-by-element differences would run for hours: each of a layer's parameters
    costs two passes of ``--samples`` rows through the layers above it (through all of them in the loop mode)."""
    products = [a * b for a, b in zip(widths, widths[1:], strict=False)]
    flops = 0.0
    for i, params in enumerate(products):
        through = sum(products) if args.mode == "loop" else sum(products[i + 1 :]) + widths[-1]
        flops += (params + widths[i + 1]) * 2 * 2 * args.samples * through
    if flops > MAX_DIFFERENCE_FLOPS:
        total = sum(products) + sum(widths[1:])
        raise CommandError(
            f"--hidden {args.hidden}: differencing its {total:,} parameters one by one ({args.mode}) "
            f"takes about {flops:.1e} multiply-adds, hours here; use --mode fast (one random "
            f"direction per parameter), fewer --samples or smaller layers"
        )


def run(args: argparse.Namespace) -> int:
    from ..gradcheck import check_net
    from ..run import RunSpec, number_of_classes

    common.positive_int(args.samples, "--samples")
    common.positive_float(args.rtol, "--rtol")
    common.seed(args.seed)
    if args.layer is not None:
        return _check_user_layer(args)
    sizes = common.parse_hidden(args.hidden)
    ds = common.load_data(args.dataset, args.root, "float64")
    if args.samples > len(ds.x_train):
        raise CommandError(f"--samples {args.samples} but {args.dataset} has {len(ds.x_train)} training samples")
    x, t = ds.x_train[: args.samples], ds.t_train[: args.samples]
    features, classes = math.prod(x.shape[1:]), number_of_classes(ds)
    common.check_net_fits(
        dict(input_size=features, hidden=sizes, classes=classes, batch_size=args.samples),
        dict(hidden="--hidden", batch_size="--samples"),
        "float64",
    )
    if args.mode != "fast":
        _check_difference_cost([features, *sizes, classes], args)
    net = RunSpec(hidden=tuple(sizes), dtype="float64", seed=args.seed).build_net(x.shape[1:], classes)
    report = check_net(net, x, t, rtol=args.rtol, mode=args.mode, explain=args.explain)
    print(f"{net!r}, {args.samples} samples of {getattr(ds, 'name', args.dataset)}")
    for c in report:
        # the book prints "W1:<mean |diff|>"; the rest of the line is what makes the number readable
        print(f"{c.name}:{c.mean_abs_diff:.6e}  max rel error {c.max_rel_error:.2e}  {'PASS' if c.passed else 'FAIL'}")
    passed = report.passed
    print(f"net: {'PASS' if passed else 'FAIL'} (rtol {report.rtol:g}, atol {report.atol:g})")
    _print_explanation(report, args.explain)
    if args.layers:
        print("\nbuilt-in layers (random float64 inputs):")
        for name, layer_report in check_layers(args.seed).items():
            print(
                f"{name:<29} max rel error {layer_report.max_rel_error:.2e}  "
                f"{'PASS' if layer_report.passed else 'FAIL'}"
            )
            for problem in layer_report.problems:
                print(f"    problem: {problem}")
            passed = passed and layer_report.passed
    return 0 if passed else 1


def _check_user_layer(args: argparse.Namespace) -> int:
    """``--layer FILE.py:CLASS``: the user's class on small random inputs, explained on a FAIL with --explain."""
    import numpy as np

    from ..gradcheck import check_layer
    from .user_layer import build_user_layer, load_user_class

    cls = load_user_class(args.layer)
    layer, inputs, kwargs = build_user_layer(cls, args.seed)
    shapes = ", ".join(str(np.shape(v)) for v in inputs)
    try:
        report = check_layer(
            layer,
            *inputs,
            rtol=args.rtol,
            mode="fast" if args.mode == "fast" else "exhaustive",
            seed=args.seed,
            explain=args.explain,
            **kwargs,
        )
    except Exception as err:  # noqa: BLE001 (the user's forward/backward: one line, not a traceback)
        raise CommandError(
            f"--layer: checking {cls.__name__} on inputs {shapes} raised {type(err).__name__}: {err}", exit_code=1
        ) from None
    print(f"{cls.__name__} from {args.layer.rpartition(':')[0]}, inputs {shapes}")
    print(report)
    _print_explanation(report, args.explain, printed=True)
    return 0 if report.passed else 1


def _print_explanation(report: Any, explain: bool, printed: bool = False) -> None:
    """The diagnoses of a failing check (``printed``: the report's own text showed them already), or a hint."""
    if report.passed:
        return
    if not explain:
        print("add --explain to hear what is wrong")
    elif not printed:
        for diagnosis in report.diagnoses:
            print(diagnosis)


def check_layers(seed: int = 0) -> dict[str, Any]:
    """Check every built-in layer of ``zerograd.layers`` with ``check_layer`` on small random inputs."""
    import numpy as np

    from ..gradcheck import check_layer
    from ..layers import AddLayer, Affine, BatchNormalization, Dropout, MulLayer, Relu, Sigmoid, SoftmaxWithLoss

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5))
    # keep Relu's inputs away from its kink at 0, where the numerical derivative is not defined
    x_relu = np.where(np.abs(x) < 0.1, 0.5, x)
    return {
        "MulLayer": check_layer(MulLayer(), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))),
        "AddLayer": check_layer(AddLayer(), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))),
        "Relu": check_layer(Relu(), x_relu),
        "Sigmoid": check_layer(Sigmoid(), x),
        "Affine": check_layer(Affine(rng.standard_normal((5, 3)), rng.standard_normal(3)), x),
        "Affine (N,1,2,3)": check_layer(
            Affine(rng.standard_normal((6, 3)), rng.standard_normal(3)), rng.standard_normal((4, 1, 2, 3))
        ),
        "SoftmaxWithLoss": check_layer(SoftmaxWithLoss(), x, rng.integers(0, 5, size=4)),
        "SoftmaxWithLoss 1-hot": check_layer(SoftmaxWithLoss(), x, np.eye(5)[rng.integers(0, 5, size=4)]),
        # NOTE: a fresh x: check_layer's random dout is drawn with this same seed, and a dout equal to the input is
        # an affine function of it, which training-mode batch norm's backward projects out (dx ≈ 0, no test at all)
        "BatchNormalization train": check_layer(
            _batchnorm(BatchNormalization, rng, 5), rng.standard_normal((4, 5)), train_flg=True
        ),
        "BatchNormalization test": check_layer(_batchnorm(BatchNormalization, rng, 5), x, train_flg=False),
        "BatchNormalization (N,2,1,3)": check_layer(
            _batchnorm(BatchNormalization, rng, 6), rng.standard_normal((4, 2, 1, 3)), train_flg=True
        ),
        "Dropout train": check_layer(Dropout(0.5, rng=seed), x, train_flg=True),
        "Dropout test": check_layer(Dropout(0.5, rng=seed), x, train_flg=False),
        **_conv_layers(rng),
    }


def _batchnorm(cls: Any, rng: Any, features: int) -> Any:
    """A batch-norm layer with non-trivial parameters and running statistics."""
    return cls(
        rng.uniform(0.5, 1.5, features),
        rng.standard_normal(features),
        running_mean=rng.standard_normal(features),
        running_var=rng.uniform(0.5, 2.0, features),
    )


def _conv_layers(rng: Any) -> dict[str, Any]:
    """Chapter 7's layers on small non-square images (distinct values: no pooling maximum is within h of a tie)."""
    from ..convolution import Convolution, Pooling
    from ..gradcheck import check_layer

    images = rng.standard_normal((2, 2, 6, 5))
    return {
        "Convolution s1 p1": check_layer(
            Convolution(rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3), stride=1, pad=1), images
        ),
        "Convolution s2 p0": check_layer(
            Convolution(rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3), stride=2), images
        ),
        "Pooling 2x2 s2": check_layer(Pooling(2, 2, stride=2, pad=1), images[:, :, :, :4]),
        "Pooling 3x3 s1": check_layer(Pooling(3, 3, stride=1, pad=1), images),
    }
