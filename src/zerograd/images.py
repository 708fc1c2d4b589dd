"""Pictures made to look like MNIST: what ``zerograd predict`` and the draw-a-digit page feed a net.

An image of any size becomes a ``(784,)`` float array in [0, 1]: grayscale, light ink on a dark background
(inverted when its border is mostly light), 28×28. For digit datasets it is also framed as MNIST's digits were:
the ink cropped, scaled to fit 20×20 and centred by its centre of mass in the 28×28 frame. A 28×28 image is
taken as it is (after inversion).
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

__all__ = ["DIGIT_BOX", "MAX_PIXELS", "SIDE", "ImageError", "array_to_input", "image_to_gray", "image_to_input",
           "is_blank"]

SIDE = 28  # MNIST and Fashion-MNIST images are 28×28
DIGIT_BOX = 20  # MNIST digits were scaled to fit 20×20, then centred by mass in 28×28
MAX_PIXELS = 4096 * 4096  # larger pictures are refused before they are decoded (a small file can hold a huge one)


class ImageError(ValueError):
    """The picture cannot be read, or is too large; the message is one line."""


def image_to_input(source: str | os.PathLike[str] | bytes, center: bool = True) -> np.ndarray:
    """A ``(784,)`` float32 array in [0, 1], light ink on a dark background, from an image file or its bytes."""
    return array_to_input(image_to_gray(source), center=center)


def image_to_gray(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """The picture as ``(H, W)`` float32 luminance in [0, 1], whatever its mode.

    16-bit greyscale is scaled from 0..65535 (not clipped at 255); transparency is composited on a background that
    contrasts with the opaque pixels, so dark ink on a transparent sheet lands on white paper and light ink on
    black; colour becomes luminance. Larger than ``MAX_PIXELS`` (or Pillow's ``Image.MAX_IMAGE_PIXELS``) is refused
    from the header, before any pixel is decoded; Pillow's own warnings are not printed.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    name = "the image" if isinstance(source, bytes) else str(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's warnings (palette transparency, size) would print raw
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
                width, height = img.size
                limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
                if width * height > limit:  # checked from the header, before any pixel is decoded
                    raise ImageError(f"{name}: {width}×{height} pixels is too large (at most {limit} pixels)")
                img.load()
                return _luminance(img)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such image file") from None
    except Image.DecompressionBombError as err:
        raise ImageError(f"{name}: too large an image ({str(err).split(',')[0]})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as err:
        if isinstance(err, ImageError):
            raise
        raise ImageError(f"{name}: cannot read this image ({err.__class__.__name__}); give a PNG or JPEG") from None


def is_blank(gray: np.ndarray) -> bool:
    """One uniform shade (within one 8-bit step): nothing a net could recognise."""
    return bool(gray.size == 0 or float(gray.max() - gray.min()) < 1 / 255)


def _luminance(img: Any) -> np.ndarray:
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # NOTE: 16-bit greyscale: convert("L") would clip every value above 255 to white
        a = np.asarray(img, dtype=np.float64)
        return (np.clip(a, 0, 65535) / 65535.0).astype(np.float32)
    if img.mode == "F":
        a = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.clip(a / (255.0 if a.max(initial=0) > 1 else 1.0), 0, 1).astype(np.float32)
    if "A" in img.mode or "a" in img.mode or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as convert("L")
        # the transparent part stands for paper: a background that contrasts with the drawn ink
        covered = alpha.sum()
        ink = float((gray * alpha).sum() / covered) if covered > 0 else 0.0
        background = 1.0 if ink < 0.5 else 0.0
        return (gray * alpha + background * (1.0 - alpha)).astype(np.float32)
    if img.mode not in ("1", "L", "P", "RGB"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV: through RGB, as Pillow converts them
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def array_to_input(a: Any, center: bool = True) -> np.ndarray:
    """``image_to_input`` for a grayscale array ``(H, W)`` of floats in [0, 1]."""
    a = np.asarray(a, dtype=np.float32)
    # MNIST is white ink on black: a picture whose border is mostly light is dark ink on paper, so invert it
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if np.median(border) > 0.5:
        a = 1.0 - a
    if a.shape == (SIDE, SIDE):
        return a.reshape(-1)
    if center:
        return _mnist_frame(a).reshape(-1)
    return _resize(a, SIDE, SIDE).reshape(-1)


def _resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(np.clip(a * 255, 0, 255).astype(np.uint8))
    return np.asarray(img.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0


def _mnist_frame(a: np.ndarray) -> np.ndarray:
    """Crop to the ink, fit it in 20×20 keeping its aspect, and centre its mass in a 28×28 frame."""
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
