"""Lookup order, the bundled sample, the real Fashion-MNIST, load options, load_dataset and the book's load_mnist."""

import dataclasses
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from zerograd.datasets import (
    FASHION_MNIST,
    MNIST,
    Dataset,
    DatasetError,
    RemoteFile,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_mnist_sample,
)
from zerograd.datasets.idx import idx_bytes
from zerograd.datasets.loaders import DatasetNotFoundError, load_idx_files
from zerograd.datasets.locate import search_dirs, user_cache_dir
from zerograd.datasets.sample import SAMPLE_SHA256, SAMPLE_TEST_COUNTS, SAMPLE_TRAIN_COUNTS

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "src" / "zerograd" / "datasets" / "data" / "mnist_sample.npz"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    # No test here may reach the network: downloads are off unless a test passes its own loopback mirrors.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ZEROGRAD_DATA", raising=False)
    monkeypatch.setenv("ZEROGRAD_OFFLINE", "1")


def tiny_spec(tag: int, system_dirs=()):
    """A 6/4-sample MNIST-shaped dataset whose pixels all equal ``tag``, with matching checksums, and its files."""
    arrays = [
        np.full((6, 28, 28), tag, np.uint8),
        np.arange(6, dtype=np.uint8),
        np.full((4, 28, 28), tag, np.uint8),
        np.arange(4, dtype=np.uint8),
    ]
    files = {r.name: gzip.compress(idx_bytes(a), mtime=0) for r, a in zip(MNIST.files, arrays, strict=True)}
    remotes = [RemoteFile(r.name, hashlib.md5(files[r.name]).hexdigest()) for r in MNIST.files]
    spec = dataclasses.replace(
        MNIST,
        name="tiny",
        n_train=6,
        n_test=4,
        mirrors=(),
        system_dirs=tuple(system_dirs),
        train_images=remotes[0],
        train_labels=remotes[1],
        test_images=remotes[2],
        test_labels=remotes[3],
    )
    return spec, files


def put(directory: Path, files: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


# -- lookup order ------------------------------------------------------------------------------------------------


def test_search_order_root_then_cache_then_system(tmp_path, monkeypatch):
    system = tmp_path / "usr-share"
    assert search_dirs("tiny", tmp_path / "r", [system]) == [
        tmp_path / "r" / "tiny",
        tmp_path / "r",
        tmp_path / "cache" / "zerograd" / "tiny",
        system,
    ]
    monkeypatch.setenv("ZEROGRAD_DATA", str(tmp_path / "env"))
    assert search_dirs("tiny", None, [system])[:2] == [tmp_path / "env" / "tiny", tmp_path / "env"]
    assert search_dirs("tiny", tmp_path / "r")[0] == tmp_path / "r" / "tiny"  # root= beats the variable


def test_xdg_cache_home_and_its_default(monkeypatch, tmp_path):
    assert user_cache_dir() == tmp_path / "cache" / "zerograd"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec says: ignore a relative value
    assert user_cache_dir() == Path.home() / ".cache" / "zerograd"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir() == Path.home() / ".cache" / "zerograd"


@pytest.mark.parametrize("winner", ["root", "root-flat", "cache", "system"])
def test_first_location_in_order_wins(tmp_path, winner):
    locations = {
        "root": tmp_path / "r" / "tiny",
        "root-flat": tmp_path / "r",
        "cache": tmp_path / "cache" / "zerograd" / "tiny",
        "system": tmp_path / "sys",
    }
    order = list(locations)
    spec, files = tiny_spec(10, system_dirs=[locations["system"]])
    put(locations[winner], files)
    # Every later location holds other pixels (which would also fail this spec's checksums if read).
    _, other = tiny_spec(99)
    for where in order[order.index(winner) + 1 :]:
        put(locations[where], other)
    arrays, source = load_idx_files(spec, tmp_path / "r", download=False)
    assert source == str(locations[winner])
    assert arrays[0].max() == 10 and arrays[0].shape == (6, 28, 28)


def test_corrupted_copy_is_an_error_not_skipped(tmp_path):
    spec, files = tiny_spec(1)
    cache = put(tmp_path / "cache" / "zerograd" / "tiny", files)
    (cache / "train-labels-idx1-ubyte.gz").write_bytes(files["train-labels-idx1-ubyte.gz"][:-5])
    with pytest.raises(DatasetError, match="checksum mismatch") as info:
        load_idx_files(spec, download=False)
    assert str(cache / "train-labels-idx1-ubyte.gz") in str(info.value)
    assert "delete it" in info.value.hint


def test_missing_files_are_listed_with_the_places_searched(tmp_path):
    spec, files = tiny_spec(1)
    put(tmp_path / "cache" / "zerograd" / "tiny", {k: v for k, v in files.items() if "t10k" not in k})
    with pytest.raises(DatasetNotFoundError) as info:
        load_idx_files(spec, download=False)
    assert [line.split(":")[0] for line in info.value.tried] == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert "downloads are off" in str(info.value) and str(tmp_path / "cache") in str(info.value)


def test_zerograd_offline_env_and_download_false_never_download(capsys, monkeypatch):
    ds = load_mnist()  # ZEROGRAD_OFFLINE=1 from the fixture, and no copy in the empty cache
    assert ds.name == "mnist-sample"
    assert "downloads are off" in capsys.readouterr().err
    monkeypatch.delenv("ZEROGRAD_OFFLINE")
    with pytest.raises(DatasetError, match="downloads are off"):
        load_mnist(download=False, allow_sample_fallback=False)


# -- the bundled sample ------------------------------------------------------------------------------------------


def test_shipped_sample_file_checksum_shape_and_labels():
    data = SAMPLE_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SAMPLE_SHA256
    with np.load(SAMPLE_PATH, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["t_test", "t_train", "x_test", "x_train"]
        assert npz["x_train"].shape == (8000, 28, 28) and npz["x_test"].shape == (2000, 28, 28)
        assert all(npz[k].dtype == np.uint8 for k in npz.files)
        assert tuple(np.bincount(npz["t_train"], minlength=10)) == SAMPLE_TRAIN_COUNTS
        assert tuple(np.bincount(npz["t_test"], minlength=10)) == SAMPLE_TEST_COUNTS
        train = {bytes(x) for x in npz["x_train"].reshape(8000, -1)}
        assert not any(bytes(x) in train for x in npz["x_test"].reshape(2000, -1))  # no digit in both splits
        # real digits: a dark background with bright strokes, the centre brighter than the corners
        assert npz["x_train"].max() == 255 and npz["x_train"][:, :3, :3].max() == 0
        assert npz["x_train"][:, 10:18, 10:18].mean() > 60


def test_sample_loads_and_its_checksum_is_enforced(monkeypatch):
    ds = load_mnist_sample()
    assert ds.name == "mnist-sample" and ds.classes == tuple("0123456789")
    import zerograd.datasets.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_SHA256", "0" * 64)
    with pytest.raises(DatasetError, match="sha256.*expected 0000") as info:
        load_mnist_sample()
    assert "reinstall" in info.value.hint


# -- load options ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "normalize, flatten, one_hot, dtype",
    [
        (True, True, False, np.float32),
        (False, True, False, np.float32),
        (True, False, True, np.float64),
        (False, False, True, np.float32),
    ],
)
def test_options_shapes_dtypes_and_ranges(normalize, flatten, one_hot, dtype):
    raw = load_mnist_sample(normalize=False)
    ds = load_dataset("mnist-sample", normalize=normalize, flatten=flatten, one_hot_label=one_hot, dtype=dtype)
    assert ds.x_train.shape == ((8000, 784) if flatten else (8000, 1, 28, 28))
    assert ds.x_test.shape == ((2000, 784) if flatten else (2000, 1, 28, 28))
    if normalize:
        assert ds.x_train.dtype == dtype and 0 <= ds.x_train.min() and ds.x_train.max() == 1
        np.testing.assert_array_equal(ds.x_train.reshape(8000, 784) * 255, raw.x_train)
    else:
        assert ds.x_train.dtype == np.uint8 and ds.x_train.max() == 255
    if one_hot:
        assert ds.t_train.shape == (8000, 10) and ds.t_train.dtype == dtype
        np.testing.assert_array_equal(ds.t_train.argmax(axis=1), raw.t_train)
        assert np.all(ds.t_train.sum(axis=1) == 1)
    else:
        assert ds.t_train.shape == (8000,) and ds.t_train.dtype == np.uint8
    (x_train, t_train), (x_test, t_test) = ds
    assert x_train is ds.x_train and t_test is ds.t_test


def test_bad_dtype_and_unknown_name():
    with pytest.raises(DatasetError, match="floating type"):
        load_dataset("mnist-sample", dtype=np.int32)
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'") as info:
        load_dataset("cifar")
    assert "mnist, fashion-mnist, mnist-sample" in str(info.value)


def test_dataset_repr_is_short():
    text = repr(load_mnist_sample())
    assert text.startswith("Dataset('mnist-sample', train=(8000, 784) float32") and len(text) < 200
    assert isinstance(load_dataset("MNIST_SAMPLE"), Dataset)


# -- the book's load_mnist ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "normalize, flatten, one_hot",
    [(True, True, False), (False, True, False), (True, False, True), (False, False, True)],
)
def test_book_load_mnist_shapes_and_dtypes(normalize, flatten, one_hot, tmp_path, monkeypatch):
    from zerograd.book.mnist import load_mnist as book_load_mnist

    monkeypatch.chdir(tmp_path)
    (x_train, t_train), (x_test, t_test) = book_load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot)
    n, m = len(x_train), len(x_test)
    assert x_train.shape == ((n, 784) if flatten else (n, 1, 28, 28)) and len(x_test) == m
    assert x_train.dtype == (np.float32 if normalize else np.uint8)
    assert (x_train.max() == 1.0) if normalize else (x_train.max() == 255)
    if one_hot:
        assert t_train.shape == (n, 10) and t_train.dtype == np.float64 and t_test.shape == (m, 10)
    else:
        assert t_train.shape == (n,) and t_train.dtype == np.uint8
    assert list(tmp_path.iterdir()) == []  # nothing (no pickle) written where the script runs


def test_book_normalized_values_equal_the_books_arithmetic():
    from zerograd.book.mnist import load_mnist as book_load_mnist

    (x, _), _ = book_load_mnist(normalize=True)
    (raw, _), _ = book_load_mnist(normalize=False)
    expected = raw.astype(np.float32)
    expected /= 255.0  # the book's exact two lines
    np.testing.assert_array_equal(x, expected)


# -- the real Fashion-MNIST (Debian's dataset-fashion-mnist) ----------------------------------------------------


@pytest.fixture(scope="module")
def fashion_dir():
    if not FASHION_DIR.is_dir():
        message = f"{FASHION_DIR} is absent (apt-get install dataset-fashion-mnist)"
        pytest.skip(message)
    return FASHION_DIR


def test_fashion_mnist_from_the_debian_package(fashion_dir, monkeypatch):
    ds = load_fashion_mnist(normalize=False)
    assert ds.source == str(fashion_dir)
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.x_train.dtype == np.uint8 and ds.t_train.dtype == np.uint8
    # Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class
    assert np.bincount(ds.t_train).tolist() == [6000] * 10 and np.bincount(ds.t_test).tolist() == [1000] * 10
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"


def test_fashion_mnist_debian_files_verify_by_decompressed_sha256(fashion_dir):
    from zerograd.datasets.verify import verified_payload

    for remote in FASHION_MNIST.files:
        data = (fashion_dir / remote.name).read_bytes()
        # Debian re-compressed the files: the published .gz md5 does not match, the payload's sha256 does.
        assert hashlib.md5(data).hexdigest() != remote.md5_gz
        payload = verified_payload(data, remote, remote.name)
        assert hashlib.sha256(payload).hexdigest() == remote.sha256_raw
    # and one flipped byte in the payload is caught
    remote = FASHION_MNIST.test_labels
    payload = bytearray(gzip.decompress((fashion_dir / remote.name).read_bytes()))
    payload[100] ^= 1
    with pytest.raises(DatasetError, match="checksum mismatch"):
        verified_payload(gzip.compress(bytes(payload)), remote, "flipped")


def test_fashion_mnist_unavailable_names_the_debian_package(tmp_path):
    spec = dataclasses.replace(FASHION_MNIST, system_dirs=(tmp_path / "nowhere",))
    with pytest.raises(DatasetError) as info:
        load_idx_files(spec, download=False)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)
