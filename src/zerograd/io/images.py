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

__all__ = [
    "DIGIT_BOX",
    "MAX_DECODED_BYTES",
    "MAX_PIXELS",
    "SIDE",
    "WORK_SIDE",
    "ImageError",
    "array_to_input",
    "decoded_bytes",
    "image_to_gray",
    "image_to_input",
    "is_blank",
]

SIDE = 28  # MNIST and Fashion-MNIST images are 28×28
DIGIT_BOX = 20  # MNIST digits were scaled to fit 20×20, then centred by mass in 28×28
MAX_PIXELS = 4096 * 4096  # larger pictures are refused before they are decoded (a small file can hold a huge one)
MAX_DECODED_BYTES = 48 * 2**20  # what decoding may hold: a 12-megapixel photo; a 130 KB PNG can declare 128 MiB
WORK_SIDE = 1024  # a larger picture is shrunk (in Pillow, by whole factors) to this before any float arithmetic
# bytes a pixel takes in Pillow's memory, by mode; every other mode takes 4 (RGB is stored as RGBX)
_MEMORY_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


class ImageError(ValueError):
    """The picture cannot be read, or is too large; the message is one line."""


def image_to_input(source: str | os.PathLike[str] | bytes, center: bool = True) -> np.ndarray:
    """A ``(784,)`` float32 array in [0, 1], light ink on a dark background, from an image file or its bytes."""
    return array_to_input(image_to_gray(source), center=center)


def image_to_gray(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """The picture as ``(H, W)`` float32 luminance in [0, 1], whatever its mode.

    16-bit greyscale is scaled from 0..65535 (not clipped at 255); transparency is composited on a background that
    contrasts with the opaque pixels, so dark ink on a transparent sheet lands on white paper and light ink on
    black; colour becomes luminance. More than ``MAX_PIXELS`` pixels or ``MAX_DECODED_BYTES`` bytes once decoded
    (``decoded_bytes``) is refused from the header, before any pixel is decoded; a picture larger than
    ``WORK_SIDE`` is shrunk by a whole factor first (a JPEG while it is decoded), so the float arrays stay small.
    Pillow's own warnings are not printed.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    name = "the image" if isinstance(source, bytes) else str(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's warnings (palette transparency, size) would print raw
            with _open(source) as img:
                _check_size(img, name)  # from the header, before any pixel is decoded
                img.load()
                return _luminance(_shrunk(img))
    except FileNotFoundError:
        raise ImageError(f"{name}: no such image file") from None
    except Image.DecompressionBombError:  # Pillow's own limit, met while reading the header of a giant
        raise ImageError(
            f"{name}: too large an image; zerograd decodes at most {MAX_PIXELS} pixels and "
            f"{MAX_DECODED_BYTES // 2**20} MiB"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as err:
        if isinstance(err, ImageError):
            raise
        raise ImageError(f"{name}: cannot read this image ({err.__class__.__name__}); give a PNG or JPEG") from None


def decoded_bytes(img: Any) -> int:
    """What decoding the opened (not yet loaded) Pillow image ``img`` holds at once, from its header alone.

    NOTE: pixels alone do not bound it: a 16-bit RGBA PNG of 1 × 16,777,216 pixels is within any pixel limit, but
    its one row is 128 MiB in the file's own format (8 bytes a pixel) and 64 MiB again in Pillow's RGBA.
    """
    width, height = img.size
    args = img.tile[0][3] if getattr(img, "tile", None) else ""
    raw_mode = args if isinstance(args, str) else str(args[0]) if isinstance(args, tuple) and args else ""
    raw = len(img.getbands()) * (2 if "16" in raw_mode else 1)  # the file's samples: 8 or 16 bits each
    return width * height * max(_MEMORY_BYTES.get(img.mode, 4), raw)


def _open(source: str | os.PathLike[str] | bytes) -> Any:
    """Pillow's image of ``source``, refusing anything but a regular file (a FIFO or a device would never end)."""
    import stat

    from PIL import Image

    if isinstance(source, bytes):
        return Image.open(io.BytesIO(source))
    mode = os.stat(source).st_mode  # FileNotFoundError for a missing file, as open() would raise
    if not stat.S_ISREG(mode):
        raise ImageError(f"{source}: not a regular file (a folder, pipe or device); give a PNG or JPEG file")
    return Image.open(source)


def _check_size(img: Any, name: str) -> None:
    from PIL import Image

    width, height = img.size
    if img.format == "JPEG":  # NOTE: a JPEG decodes at 1/2, 1/4 or 1/8 scale at no extra cost: ask for that
        img.draft(img.mode, (min(width, WORK_SIDE), min(height, WORK_SIDE)))
    limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
    if width * height > limit:
        raise ImageError(f"{name}: {width}×{height} pixels is too large (zerograd decodes at most {limit} pixels)")
    needed = decoded_bytes(img)
    if needed > MAX_DECODED_BYTES:
        raise ImageError(
            f"{name}: {width}×{height} pixels of mode {img.mode} take {needed / 2**20:.0f} MiB "
            f"decoded; zerograd decodes at most {MAX_DECODED_BYTES // 2**20} MiB"
        )


def _shrunk(img: Any) -> Any:
    """``img`` shrunk by a whole factor (the mean of each f×f block) so its longer side is at most ``WORK_SIDE``."""
    factor = -(-max(img.size) // WORK_SIDE)
    if factor <= 1:
        return img
    if img.mode in ("1", "P"):
        img = img.convert("RGBA" if "transparency" in img.info else "L")
    elif img.mode.startswith("I;16"):
        img = img.convert("I")
    elif img.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        img = img.convert("RGB")
    return img.reduce(factor)


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
