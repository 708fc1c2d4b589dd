"""``zerograd sample-image LABEL``: write one of the real test images shipped with zerograd as a PNG, to give
``zerograd predict`` before drawing anything (``zerograd.datasets.examples``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from .common import CommandError
from .outputs import Outputs


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sample-image",
        help="write a real test digit (or Fashion-MNIST item) shipped with zerograd as a PNG",
        description="Write one of the test images shipped with zerograd (one per class, the datasets' own 28x28 "
        "pixels) as a PNG file, e.g. zerograd sample-image 7 --out seven.png, then zerograd predict "
        "seven.png.",
    )
    p.add_argument("label", metavar="LABEL", help="the class: 0-9, or for fashion-mnist a name such as sneaker or bag")
    p.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"], help="whose test image")
    p.add_argument("--out", default=None, help="PNG file to write (default: digit-LABEL.png, or the item's name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")


def run(args: argparse.Namespace) -> int:
    from ..datasets import DatasetError
    from ..datasets.examples import EXAMPLE_CLASSES, example_label, example_png
    from ..io.fileio import write_bytes
    from . import common

    try:
        label = example_label(args.dataset, args.label)
        data = example_png(args.dataset, label)
    except DatasetError as err:
        raise CommandError(common.one_line(err)) from None
    name = EXAMPLE_CLASSES[args.dataset][label]
    default = f"digit-{label}.png" if args.dataset == "mnist" else f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
    out = Outputs(overwrite=args.overwrite).file(Path(args.out or default))
    try:
        write_bytes(out, data)
    except OSError as err:
        raise common.write_error(err, out) from None
    what = f"digit {label}" if args.dataset == "mnist" else f"item of class {label} ({name})"
    print(f"wrote {out}: a real {args.dataset} test {what}, 28x28")
    return 0
