"""``zerograd predict CKPT IMAGE...``: classify your own pictures with a trained net.

An image of any size is made to look like the training data: grayscale, light-on-dark (inverted when its
background is light), and 28×28. For digit datasets it is also framed like MNIST: the ink cropped, scaled to fit
20×20 and centred by its centre of mass in the 28×28 frame. A 28×28 image is taken as it is (after inversion).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import common
from .common import CommandError

SIDE = 28  # MNIST and Fashion-MNIST images are 28×28
DIGIT_BOX = 20  # MNIST digits were scaled to fit 20×20, then centred by mass in 28×28


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict", help="classify PNG/JPEG images with a checkpoint",
        description="Predict the class of each image (PNG, JPEG, any size) with a trained checkpoint; prints the "
                    "predicted class and the top-3 probabilities.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help="a checkpoint written by zerograd train")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    p.add_argument("--top", type=int, default=3, help="how many classes to list with their probabilities (default: %(default)s)")
    p.add_argument("--no-center", action="store_true",
                   help="only resize to 28×28, without MNIST's crop, 20×20 fit and centring")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..functions import softmax
    common.positive_int(args.top, "--top")
    ckpt = common.load_checkpoint(args.checkpoint)
    net = ckpt.net
    if net.input_size != SIDE * SIDE:
        raise CommandError(f"this net takes {net.input_size} features, not a {SIDE}×{SIDE} image")
    classes = [str(c) for c in (ckpt.metadata.get("classes") or range(net.output_size))]
    dataset = str(ckpt.metadata.get("dataset", ""))
    center = not args.no_center and "fashion" not in dataset  # Fashion-MNIST items fill the frame: no MNIST framing

    x = np.stack([image_to_input(path, center=center) for path in args.images]).astype(net.dtype)
    probs = softmax(net.predict(x))
    for path, p in zip(args.images, probs, strict=True):
        order = np.argsort(p)[::-1][: args.top]
        top = ", ".join(f"{classes[i]} {p[i]:.3f}" for i in order)
        print(f"{path}: {classes[order[0]]}  ({top})")
    return 0


def image_to_input(path: str | Path, center: bool = True) -> Any:
    """A ``(784,)`` float array in [0, 1], light ink on a dark background, from an image file."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            gray = img.convert("L")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as err:
        raise CommandError(f"{path}: cannot read this image ({err.__class__.__name__}); give a PNG or JPEG") from None
    a = np.asarray(gray, dtype=np.float32) / 255.0
    # MNIST is white ink on black: a picture whose border is mostly light is dark ink on paper, so invert it
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if np.median(border) > 0.5:
        a = 1.0 - a
    if a.shape == (SIDE, SIDE):
        return a.reshape(-1)
    if center:
        return _mnist_frame(a).reshape(-1)
    return _resize(a, SIDE, SIDE).reshape(-1)


def _resize(a: Any, height: int, width: int) -> Any:
    import numpy as np
    from PIL import Image

    img = Image.fromarray(np.clip(a * 255, 0, 255).astype(np.uint8))
    return np.asarray(img.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0


def _mnist_frame(a: Any) -> Any:
    """Crop to the ink, fit it in 20×20 keeping its aspect, and centre its mass in a 28×28 frame."""
    import numpy as np

    ink = a > 0.2 * a.max() if a.max() > 0 else np.zeros_like(a, dtype=bool)
    if not ink.any():
        return _resize(a, SIDE, SIDE)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = DIGIT_BOX / max(h, w)
    small = _resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    frame = np.zeros((SIDE, SIDE), dtype=np.float32)
    total = small.sum()
    ys, xs = np.indices(small.shape)
    cy, cx = ((ys * small).sum() / total, (xs * small).sum() / total) if total > 0 else (h / 2, w / 2)
    top = int(np.clip(round(SIDE / 2 - cy), 0, SIDE - small.shape[0]))
    left = int(np.clip(round(SIDE / 2 - cx), 0, SIDE - small.shape[1]))
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(frame, 0.0, 1.0)
