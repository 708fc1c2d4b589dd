"""Write the example images shipped in ``src/zerograd/datasets/data/examples/``: the first test image of each class
of the bundled MNIST sample and, when Debian's ``dataset-fashion-mnist`` is installed, of Fashion-MNIST's test set.

Run from the repository root: ``python scripts/make_example_images.py``. Each image is the dataset's own 28×28 uint8
pixels, unchanged, saved as a greyscale PNG (light ink on a dark background, as the datasets store them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from zerograd.datasets import load_dataset, load_mnist_sample

OUT = Path("src/zerograd/datasets/data/examples")


def first_of_each_class(x: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
    return [x[int(np.flatnonzero(t == label)[0])] for label in range(10)]


def save(images: list[np.ndarray], prefix: str) -> None:
    for label, image in enumerate(images):
        pixels = np.rint(np.asarray(image, dtype=np.float64).reshape(28, 28) * 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(OUT / f"{prefix}-{label}.png", optimize=True)
        print(f"wrote {OUT / f'{prefix}-{label}.png'}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    mnist = load_mnist_sample(dtype=np.float64)
    save(first_of_each_class(mnist.x_test, mnist.t_test), "mnist")
    try:
        fashion = load_dataset("fashion-mnist", download=False, dtype=np.float64)
    except Exception as err:  # noqa: BLE001 - a script: say why and go on with the digits
        print(f"no Fashion-MNIST here ({err}); shipping digits only", file=sys.stderr)
        return 0
    save(first_of_each_class(fashion.x_test, fashion.t_test), "fashion-mnist")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
