"""``zerograd predict CKPT IMAGE...``: classify your own pictures with a trained net.

An image of any size is made to look like the training data: grayscale, light-on-dark (inverted when its
background is light), and 28×28. For digit datasets it is also framed like MNIST: the ink cropped, scaled to fit
20×20 and centred by its centre of mass in the 28×28 frame. A 28×28 image is taken as it is (after inversion).
"""

from __future__ import annotations

import argparse
import sys
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
    p.add_argument("--top", type=int, default=3,
                   help="how many classes to list with their probabilities (default: %(default)s)")
    p.add_argument("--no-center", action="store_true",
                   help="only resize to 28×28, without MNIST's crop, 20×20 fit and centring")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..functions import softmax
    common.positive_int(args.top, "--top")
    ckpt = common.load_checkpoint(args.checkpoint)
    net = ckpt.net
    input_size, n_classes = common.net_sizes(net)
    if input_size != SIDE * SIDE:
        raise CommandError(f"this net takes {input_size} features, not a {SIDE}×{SIDE} image")
    classes = common.class_names(ckpt.metadata, n_classes)
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
    """A ``(784,)`` float array in [0, 1], light ink on a dark background, from an image file.

    Any mode Pillow reads: 16-bit greyscale is scaled from 0..65535, transparency is composited on a background
    that contrasts with the opaque pixels (dark ink on a transparent sheet lands on white paper, light ink on
    black), colour is converted to luminance. A blank result is warned about on stderr; an image over Pillow's
    ``Image.MAX_IMAGE_PIXELS`` is refused.
    """
    import numpy as np

    a = _read_gray(path)
    if float(a.max() - a.min()) < 1 / 255:
        print(f"zerograd predict: warning: {path} is blank (one uniform shade after conversion to greyscale); "
              "its prediction means nothing", file=sys.stderr)
    # MNIST is white ink on black: a picture whose border is mostly light is dark ink on paper, so invert it
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if np.median(border) > 0.5:
        a = 1.0 - a
    if a.shape == (SIDE, SIDE):
        return a.reshape(-1)
    if center:
        return _mnist_frame(a).reshape(-1)
    return _resize(a, SIDE, SIDE).reshape(-1)


def _read_gray(path: str | Path) -> Any:
    """The image at ``path`` as ``(H, W)`` float32 luminance in [0, 1]."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow's own warnings (a large image, palette transparency) would print raw; we say it in one line
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                if img.width * img.height > Image.MAX_IMAGE_PIXELS:
                    raise CommandError(f"{path}: {img.width}×{img.height} pixels is more than the "
                                       f"{Image.MAX_IMAGE_PIXELS} this command reads; shrink it first")
                img.load()
                return _luminance(img)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such image file") from None
    except Image.DecompressionBombError as err:
        raise CommandError(f"{path}: far too large an image ({str(err).split(',')[0]}); shrink it first") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as err:
        raise CommandError(f"{path}: cannot read this image ({err.__class__.__name__}); give a PNG or JPEG") from None


def _luminance(img: Any) -> Any:
    import numpy as np

    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # NOTE: 16-bit greyscale: convert("L") would clip every value above 255 to white
        a = np.asarray(img, dtype=np.float64)
        return (np.clip(a, 0, 65535) / 65535.0).astype(np.float32)
    if img.mode == "F":
        a = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.clip(a / (255.0 if a.max() > 1 else 1.0), 0, 1).astype(np.float32)
    if "A" in img.mode or "a" in img.mode or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as convert("L")
        # the background is what the transparent part stands for: paper that contrasts with the drawn ink
        covered = alpha.sum()
        ink = float((gray * alpha).sum() / covered) if covered > 0 else 0.0
        background = 1.0 if ink < 0.5 else 0.0
        return (gray * alpha + background * (1.0 - alpha)).astype(np.float32)
    if img.mode not in ("1", "L", "P", "RGB"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV: through RGB, as Pillow converts them
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


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
