"""Large pictures one at a time, small ones at once: what keeps one client's uploads from starving the others.

``zerograd.io.images`` bounds what one decode may hold (``MAX_DECODED_BYTES``); this bounds how many such decodes run
together. ``ImageGate.lane(data)`` reads only the picture's header: a picture that decodes to at most
``SMALL_IMAGE_BYTES`` (a drawing from the page is 280×280 RGBA, 0.3 MiB) goes straight through; a larger one waits
for a free slot among ``LARGE_SLOTS``. Twelve clients posting large pictures thus hold at most ``LARGE_SLOTS``
decodes (and their memory) at a time and queue for the rest, while a drawing is answered at once. The wait is in
the event loop, not in a worker thread, so waiting uploads do not fill the thread pool the small ones need.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator

from ..io.images import ImageError, decoded_bytes

__all__ = ["LARGE_SLOTS", "SMALL_IMAGE_BYTES", "ImageGate"]

SMALL_IMAGE_BYTES = 4 * 2**20  # decoded: 1024×1024 RGBA
LARGE_SLOTS = 1  # large decodes at a time (each may hold zerograd.io.images.MAX_DECODED_BYTES)


class ImageGate:
    """One per application: the slots its large decodes share."""

    def __init__(self, slots: int = LARGE_SLOTS) -> None:
        self.slots = asyncio.Semaphore(slots)

    @contextlib.asynccontextmanager
    async def lane(self, data: bytes) -> AsyncIterator[None]:
        """Wait (if ``data`` is a large picture) for a slot, hold it for the body of the ``async with``."""
        if header_bytes(data) <= SMALL_IMAGE_BYTES:
            yield
            return
        async with self.slots:
            yield


def header_bytes(data: bytes) -> int:
    """The decoded size ``data``'s header declares (0 when it is not a picture Pillow can open: the decoder, run
    next, then says why in one line)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                return decoded_bytes(img)
    except (ImageError, Image.DecompressionBombError):
        return 2**63  # too large: the decoder refuses it from the header, in the large lane
    except Exception:  # noqa: BLE001 - unreadable: the decoder's own one-line error follows
        return 0
