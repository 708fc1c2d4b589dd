"""The net behind the draw-a-digit page: a checkpoint of yours, or a quick one trained on the bundled sample.

``DigitModel.predict_image(png_bytes)`` and ``predict_pixels(28×28 list)`` return the predicted class, all the
probabilities and the 28×28 input the net actually saw (after ``zerograd.io.images``' MNIST framing), so the page can
show it. Inputs are checked here; every problem is a ``PredictInputError`` with a one-line message.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..functions import softmax
from ..io.images import SIDE, ImageError, array_to_input, image_to_input

__all__ = ["QUICK_EPOCHS", "DigitModel", "PredictInputError", "load_digit_model", "quick_model"]

QUICK_EPOCHS = 8  # the bundled sample's 8,000 digits: about 0.93 test accuracy, in a second or two


class PredictInputError(ValueError):
    """The picture or pixel array cannot be classified (unreadable, wrong shape, NaN, out of range)."""


@dataclass
class DigitModel:
    """A trained net with 784 inputs, its class names, and where it came from (shown on the page)."""

    net: Any
    classes: list[str]
    source: str
    center: bool = True  # frame drawings like MNIST digits (not for Fashion-MNIST, whose items fill the frame)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def predict_image(self, data: bytes) -> dict[str, Any]:
        """Classify a PNG/JPEG given as bytes."""
        try:
            x = image_to_input(data, center=self.center)
        except ImageError as err:
            raise PredictInputError(str(err)) from None
        return self._predict(x)

    def predict_pixels(self, pixels: Any) -> dict[str, Any]:
        """Classify a 28×28 nested list of numbers in [0, 1] (light ink on dark), taken as it is."""
        if (
            not isinstance(pixels, list)
            or len(pixels) != SIDE
            or not all(isinstance(row, list) and len(row) == SIDE for row in pixels)
        ):
            raise PredictInputError(f"pixels must be a {SIDE}×{SIDE} array (a list of {SIDE} rows of {SIDE} numbers)")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for row in pixels for v in row):
            raise PredictInputError("pixels must hold numbers only")
        a = np.asarray(pixels, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise PredictInputError("pixels must be finite numbers (no NaN or infinity)")
        if a.min() < 0 or a.max() > 1:
            raise PredictInputError(f"pixels must lie in [0, 1], got values from {a.min():g} to {a.max():g}")
        return self._predict(array_to_input(a, center=False))

    def _predict(self, x: np.ndarray) -> dict[str, Any]:
        started = time.perf_counter()
        dtype = getattr(self.net, "dtype", np.float64)
        with self.lock:  # a net's layers keep per-call state: one prediction at a time
            probs = softmax(self.net.predict(x.reshape(1, -1).astype(dtype)))[0]
        k = int(np.argmax(probs))
        return {
            "class": self.classes[k],
            "index": k,
            "classes": self.classes,
            "probabilities": [float(p) for p in probs],
            "input": np.round(x.reshape(SIDE, SIDE), 3).tolist(),
            "ms": round(1000 * (time.perf_counter() - started), 3),
        }


def load_digit_model(checkpoint: str | None) -> DigitModel:
    """The net of ``checkpoint`` (any net zerograd trains, with 784 inputs), or ``quick_model()`` when None.

    Raises ``CheckpointError`` for a bad file and ``ValueError`` for a net that does not take 28×28 images.
    """
    if checkpoint is None:
        return quick_model()
    from ..checkpoint import load

    ckpt = load(checkpoint)
    net = ckpt.net
    try:
        out = np.asarray(net.predict(np.zeros((1, SIDE * SIDE), dtype=getattr(net, "dtype", np.float64))))
    except Exception as err:  # noqa: BLE001 - any failure here means "not a 784-input net"
        raise ValueError(f"{checkpoint}: this net does not take {SIDE}×{SIDE} images ({err})") from None
    n_classes = out.shape[-1]
    classes = [str(c) for c in (ckpt.metadata.get("classes") or range(n_classes))]
    if len(classes) != n_classes:
        classes = [str(c) for c in range(n_classes)]
    dataset = str(ckpt.metadata.get("dataset", ""))
    return DigitModel(net, classes, f"checkpoint {checkpoint}", center="fashion" not in dataset)


def quick_model(epochs: int = QUICK_EPOCHS, seed: int = 0) -> DigitModel:
    """``TwoLayerNet(784, 50, 10)`` trained with the chapter's SGD on the bundled sample's 8,000 digits."""
    from ..run import RunSpec

    spec = RunSpec(dataset="mnist-sample", net="twolayer", epochs=epochs, seed=seed, init_seed=(seed,))
    trainer = spec.run()
    net, accuracy = trainer.net, trainer.history.test_acc[-1]
    assert math.isfinite(accuracy)
    return DigitModel(
        net,
        [str(d) for d in range(10)],
        f"TwoLayerNet(784, 50, 10) trained for {epochs} epochs on the bundled MNIST sample "
        f"(test accuracy {accuracy:.3f}); give --checkpoint to use your own",
    )
