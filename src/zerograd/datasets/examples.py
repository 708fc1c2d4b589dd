"""Example images shipped with the package: one real test image per class of MNIST and of Fashion-MNIST, as
28×28 greyscale PNGs (light on dark, the datasets' own pixels). Something to give ``zerograd predict`` before
drawing anything; ``data/examples/NOTICE.txt`` says where each comes from.

    >>> example_label("fashion-mnist", "sneaker")
    7
    >>> example_png("mnist", 7)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
"""

from __future__ import annotations

from importlib import resources

from .catalog import FASHION_MNIST, MNIST
from .errors import DatasetError

EXAMPLE_CLASSES = {"mnist": MNIST.classes, "fashion-mnist": FASHION_MNIST.classes}

__all__ = ["EXAMPLE_CLASSES", "example_label", "example_png"]


def example_label(dataset: str, label: str | int) -> int:
    """The class index ``label`` names in ``dataset``: its number (``7``) or its name, any case (``sneaker``)."""
    classes = _classes(dataset)
    text = str(label).strip().lower()
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    names = [c.lower() for c in classes]
    if text in names:
        return names.index(text)
    raise DatasetError(
        f"{dataset} has no class {label!r}; its classes are 0..{len(classes) - 1}"
        + ("" if dataset == "mnist" else f" ({', '.join(classes)})")
    )


def example_png(dataset: str, label: int) -> bytes:
    """The shipped PNG of class ``label`` (an index) of ``dataset``."""
    _classes(dataset)
    name = f"{dataset}-{label}.png"
    try:
        return resources.files("zerograd.datasets").joinpath("data").joinpath("examples").joinpath(name).read_bytes()
    except OSError as err:
        raise DatasetError(
            f"the example image {name} is missing ({err})", hint="the installed zerograd is damaged; reinstall it"
        ) from None


def _classes(dataset: str) -> tuple[str, ...]:
    key = dataset.lower().replace("_", "-")
    if key not in EXAMPLE_CLASSES:
        raise DatasetError(f"example images are shipped for {' and '.join(EXAMPLE_CLASSES)}, not {dataset!r}")
    return EXAMPLE_CLASSES[key]
