"""``zerograd predict CKPT IMAGE...``: classify your own pictures with a trained net.

An image of any size is made to look like the training data (``zerograd.images``): grayscale, light-on-dark
(inverted when its background is light), and 28×28. For digit datasets it is also framed like MNIST: the ink
cropped, scaled to fit 20×20 and centred by its centre of mass in the 28×28 frame. A 28×28 image is taken as it is
(after inversion).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..images import SIDE
from . import common
from .common import CommandError


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict", help="classify PNG/JPEG images with a checkpoint",
        description="Predict the class of each image (PNG, JPEG, any size) with a trained checkpoint; prints the "
                    "predicted class and the top-3 probabilities.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by zerograd train")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    p.add_argument("--top", type=int, default=3,
                   help="how many classes to list with their probabilities (default: %(default)s)")
    p.add_argument("--no-center", action="store_true",
                   help="only resize to 28×28, without MNIST's crop, 20×20 fit and centring")
    p.add_argument("--runtime", default="zerograd",
                   help="zerograd (NumPy; the default), or onnx: export the net and run it in ONNX Runtime "
                        "('zerograd[onnx]')")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..functions import softmax
    common.positive_int(args.top, "--top")
    if args.runtime not in ("zerograd", "onnx"):
        raise CommandError(f"--runtime must be zerograd or onnx, got {args.runtime!r}")
    ckpt = common.load_checkpoint(args.checkpoint)
    net = ckpt.net
    input_size, n_classes = common.net_sizes(net)
    if input_size != SIDE * SIDE:
        raise CommandError(f"this net takes {input_size} features, not a {SIDE}×{SIDE} image")
    classes = common.class_names(ckpt.metadata, n_classes)
    dataset = str(ckpt.metadata.get("dataset", ""))
    center = not args.no_center and "fashion" not in dataset  # Fashion-MNIST items fill the frame: no MNIST framing

    x = np.stack([image_to_input(path, center=center) for path in args.images]).astype(net.dtype)
    probs = softmax(net.predict(x) if args.runtime == "zerograd" else onnx_logits(net, x))
    for path, p in zip(args.images, probs, strict=True):
        order = np.argsort(p)[::-1][: args.top]
        top = ", ".join(f"{classes[i]} {p[i]:.3f}" for i in order)
        print(f"{path}: {classes[order[0]]}  ({top})")
    return 0


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
    (``zerograd.images``, with its errors as one-line ``CommandError``s and a warning for a blank picture)."""
    from ..images import ImageError, array_to_input, image_to_gray, is_blank

    try:
        gray = image_to_gray(path)
    except ImageError as err:
        raise CommandError(str(err)) from None
    if is_blank(gray):
        print(f"zerograd predict: warning: {path} is blank (one uniform shade after conversion to greyscale); "
              "its prediction means nothing", file=sys.stderr)
    return array_to_input(gray, center=center)
