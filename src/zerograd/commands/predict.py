"""``zerograd predict [RUN] IMAGE...`` or ``zerograd predict [RUN] --sample N``: classify your own pictures (or
the run's own test images) with a trained net. Without RUN, the latest run's.

An image of any size is made to look like the training data (``zerograd.io.images``): grayscale, light-on-dark
(inverted when its background is light), and 28×28. For digit datasets it is also framed like MNIST: the ink
cropped, scaled to fit 20×20 and centred by its centre of mass in the 28×28 frame. A 28×28 image is taken as it is
(after inversion).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..io.images import SIDE
from . import common
from .common import CommandError
from .run_args import checkpoint_path


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict",
        help="classify PNG/JPEG images (or a test image, --sample N) with a run",
        description="Predict the class of each image (PNG, JPEG, any size, dark on light or light on dark) with a "
        "trained run; prints the predicted class and the top-3 probabilities. With --sample N, the N-th "
        "test image of the run's dataset instead: nothing to draw. zerograd sample-image writes a real "
        "test digit as a PNG to try.",
    )
    p.add_argument(
        "paths",
        metavar="[RUN] IMAGE",
        nargs="*",
        help="a run folder or checkpoint (default: the latest run), then image files",
    )
    p.add_argument(
        "--sample",
        metavar="N",
        type=int,
        action="append",
        default=None,
        help="also predict the N-th test image of the run's dataset (repeatable) (default: none)",
    )
    p.add_argument(
        "--top", type=int, default=3, help="how many classes to list with their probabilities (default: %(default)s)"
    )
    p.add_argument(
        "--no-center", action="store_true", help="only resize to 28×28, without MNIST's crop, 20×20 fit and centring"
    )
    p.add_argument(
        "--runtime",
        default="zerograd",
        choices=["zerograd", "onnx"],
        help="zerograd: NumPy; onnx: export the net and run it in ONNX Runtime ('zerograd[onnx]')",
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..functions import softmax

    common.positive_int(args.top, "--top")
    run_arg, images = split_run(args.paths)
    if not images and not args.sample:
        raise CommandError(
            "give IMAGE files to classify, or --sample N for the N-th test image of the run's "
            "dataset (zerograd sample-image 7 writes a digit to try)"
        )
    ckpt = common.load_checkpoint(checkpoint_path(run_arg, "predict"))
    net = ckpt.net
    input_size, n_classes = common.net_sizes(net)
    if input_size != SIDE * SIDE:
        raise CommandError(f"this net takes {input_size} features, not a {SIDE}×{SIDE} image")
    classes = common.class_names(ckpt.metadata, n_classes)
    dataset = str(ckpt.metadata.get("dataset", ""))
    center = not args.no_center and "fashion" not in dataset  # Fashion-MNIST items fill the frame: no MNIST framing

    def show(names: list[str], x: Any) -> None:
        probs = softmax(net.predict(x) if args.runtime == "zerograd" else onnx_logits(net, x))
        for name, p in zip(names, probs, strict=True):
            order = np.argsort(p)[::-1][: args.top]
            top = ", ".join(f"{classes[i]} {p[i]:.3f}" for i in order)
            print(f"{name}: {classes[order[0]]}  ({top})")

    if args.sample:
        names, x = test_images(ckpt, args.sample, classes)
        show(names, x.astype(net.dtype))
    if images:
        show(images, np.stack([image_to_input(path, center=center) for path in images]).astype(net.dtype))
    return 0


def split_run(paths: list[str]) -> tuple[str | None, list[str]]:
    """``[RUN] IMAGE...`` → (the run, or None for the latest; the images). The first path is the run when it is
    a folder or an ``.npz`` checkpoint; a picture is neither."""
    if paths and (Path(paths[0]).is_dir() or paths[0].lower().endswith(".npz")):
        return paths[0], paths[1:]
    return None, list(paths)


def test_images(ckpt: Any, indices: list[int], classes: list[str]) -> tuple[list[str], Any]:
    """The test images ``indices`` of the dataset ``ckpt`` was trained on, named with their true labels."""
    import numpy as np

    spec = ckpt.metadata.get("dataset_spec") or "mnist"
    ds = common.load_data(
        spec, ckpt.metadata.get("root"), ckpt.net.dtype.name, max_classes=max(common.net_sizes(ckpt.net)[1], 1)
    )
    count, name = len(ds.x_test), getattr(ds, "name", spec)
    for n in indices:
        if not 0 <= n < count:
            raise CommandError(f"--sample {n}: {name} has {count} test images, so N must be in 0..{count - 1}")
    labels = np.asarray(ds.t_test)
    if labels.ndim == 2:
        labels = np.argmax(labels, axis=1)
    names = [
        f"{name} test image {n} (label {classes[int(labels[n])] if int(labels[n]) < len(classes) else labels[n]})"
        for n in indices
    ]
    return names, ds.x_test[np.asarray(indices)]


def onnx_logits(net: Any, x: Any) -> Any:
    """The net's logits for x, computed by ONNX Runtime on the net's ONNX export (``zerograd.interop.onnx``)."""
    from ..interop import InteropError
    from ..interop.onnx import onnx_session, run_onnx, to_onnx

    try:
        return run_onnx(onnx_session(to_onnx(net)), x)
    except InteropError as err:
        raise CommandError(str(err)) from None


def image_to_input(path: str | Path, center: bool = True) -> Any:
    """A ``(784,)`` float array in [0, 1], light ink on a dark background, from an image file
    (``zerograd.io.images``, with its errors as one-line ``CommandError``s and a warning for a blank picture)."""
    from ..io.images import ImageError, array_to_input, image_to_gray, is_blank

    try:
        gray = image_to_gray(path)
    except ImageError as err:
        raise CommandError(str(err)) from None
    if is_blank(gray):
        print(
            f"zerograd predict: warning: {path} is blank (one uniform shade after conversion to greyscale); "
            "its prediction means nothing",
            file=sys.stderr,
        )
    return array_to_input(gray, center=center)
