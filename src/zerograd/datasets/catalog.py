"""What each dataset is made of: file names, mirrors, checksums, class names and where systems install it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RemoteFile:
    """One published ``.gz`` file and the checksums that identify its bytes.

    A copy verifies when the md5 or sha256 of the ``.gz`` is the published one, or when the sha256 of its
    decompressed payload is: re-compressed copies (Debian's) differ in the ``.gz`` bytes but not in the payload.
    """

    name: str  # e.g. "train-images-idx3-ubyte.gz"
    md5_gz: str  # md5 of the .gz as published
    sha256_gz: str | None = None  # sha256 of the .gz, where a mirror publishes one
    sha256_raw: str | None = None  # sha256 of the decompressed IDX bytes, where known


@dataclass(frozen=True)
class DatasetSpec:
    """A downloadable IDX dataset: four files, mirrors tried in order, and where systems install it."""

    name: str
    title: str
    train_images: RemoteFile
    train_labels: RemoteFile
    test_images: RemoteFile
    test_labels: RemoteFile
    mirrors: tuple[str, ...]
    classes: tuple[str, ...]
    system_dirs: tuple[Path, ...]
    n_train: int
    n_test: int
    hint: str  # how to get the files without this module's help

    @property
    def files(self) -> tuple[RemoteFile, RemoteFile, RemoteFile, RemoteFile]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)

    @property
    def raw_sizes(self) -> tuple[int, int, int, int]:
        """The decompressed size of each of ``files``: an IDX header (16 bytes for images, 8 for labels) and one
        byte per pixel or label. A copy that inflates beyond this is refused before it can fill memory."""
        return (16 + 28 * 28 * self.n_train, 8 + self.n_train, 16 + 28 * 28 * self.n_test, 8 + self.n_test)


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    train_images=RemoteFile(
        "train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    train_labels=RemoteFile(
        "train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    test_images=RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    test_labels=RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
    # NOTE: yann.lecun.com, the book's source, answers 403/404 now and is not tried.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    classes=tuple(str(d) for d in range(10)),
    system_dirs=(),  # no distribution packages MNIST itself
    n_train=60_000,
    n_test=10_000,
    hint="connect to the internet once (the files are cached), or copy the four MNIST .gz files "
    "(train-images-idx3-ubyte.gz, ...) into ~/.cache/zerograd/mnist/ or a directory given as root=/--root",
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    # The decompressed sha256s were computed from Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1),
    # whose .gz files are re-compressed and so carry other md5s than the published ones.
    train_images=RemoteFile(
        "train-images-idx3-ubyte.gz",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        sha256_raw="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    train_labels=RemoteFile(
        "train-labels-idx1-ubyte.gz",
        "25c81989df183df01b3e8a0aad5dffbe",
        sha256_raw="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    test_images=RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        "bef4ecab320f06d8554ea6380940ec79",
        sha256_raw="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    test_labels=RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        "bb300cfdad3c16e7a12a480ee83cd310",
        sha256_raw="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),  # Debian/Ubuntu: apt-get install dataset-fashion-mnist
    n_train=60_000,
    n_test=10_000,
    hint="on Debian/Ubuntu run `sudo apt-get install dataset-fashion-mnist`, or connect to the internet once "
    "(the files are cached in ~/.cache/zerograd/fashion-mnist/)",
)

CATALOG: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}
