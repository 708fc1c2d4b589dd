"""The decoded-array cache: written after the first load, read instead of the .gz after that, and trusted only
while it matches the verified copies it was made from (datasets/cache.py)."""

import json
import os

import numpy as np
import pytest
from test_datasets_loaders import put, tiny_spec

from zerograd.datasets import ChecksumError, cache, loaders
from zerograd.datasets.loaders import _load


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ZEROGRAD_DATA", raising=False)
    monkeypatch.setenv("ZEROGRAD_OFFLINE", "1")


def load(spec, root):
    return _load(
        spec,
        root,
        normalize=True,
        flatten=True,
        one_hot_label=False,
        dtype=np.float32,
        download=False,
        mirrors=None,
        timeout=1.0,
        progress=False,
    )


def no_decoding(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("decoded the .gz files although the cache should have served them")

    monkeypatch.setattr(loaders, "load_idx_files", refuse)


def test_second_load_reads_the_cache_not_the_gz(tmp_path, monkeypatch):
    spec, files = tiny_spec(7)
    root = put(tmp_path / "data", files)
    first = load(spec, root)
    folder = cache.cache_dir(spec, root)
    assert folder == root / "tiny" / "decoded"
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "t10k-images-idx3-ubyte.npy",
        "t10k-labels-idx1-ubyte.npy",
        "train-images-idx3-ubyte.npy",
        "train-labels-idx1-ubyte.npy",
    ]
    no_decoding(monkeypatch)
    second = load(spec, root)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[0].dtype == b[0].dtype
    assert second.source == first.source == str(root)
    second.x_train[0, 0] = 5.0  # writable, and the cache file is untouched (copy-on-write)
    assert np.load(folder / "train-images-idx3-ubyte.npy")[0, 0, 0] == 7


def test_default_place_is_beside_the_download_cache(tmp_path):
    spec, files = tiny_spec(3)
    put(tmp_path / "xdg" / "zerograd" / "tiny", files)
    load(spec, None)
    assert (tmp_path / "xdg" / "zerograd" / "tiny" / "decoded" / "manifest.json").is_file()


def test_a_changed_source_is_verified_again_not_served_from_the_cache(tmp_path):
    spec, files = tiny_spec(7)
    root = put(tmp_path / "data", files)
    load(spec, root)
    damaged = bytearray(files["train-images-idx3-ubyte.gz"])
    damaged[-12] ^= 0xFF
    (root / "train-images-idx3-ubyte.gz").write_bytes(bytes(damaged))
    with pytest.raises(ChecksumError):
        load(spec, root)


def test_a_copy_in_another_place_is_decoded_again(tmp_path, monkeypatch):
    spec, files = tiny_spec(7)
    root = put(tmp_path / "data", files)
    load(spec, root)
    os.utime(root / "t10k-labels-idx1-ubyte.gz", ns=(1, 1))  # another copy (or the same, touched): decode again
    calls = []
    original = loaders.load_idx_files
    monkeypatch.setattr(loaders, "load_idx_files", lambda *a, **k: calls.append(1) or original(*a, **k))
    load(spec, root)
    assert calls == [1]
    load(spec, root)  # ...and cached again, for that copy
    assert calls == [1]


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "manifest garbage", "manifest huge", "wrong shape"])
def test_a_damaged_cache_is_never_trusted(tmp_path, damage):
    spec, files = tiny_spec(7)
    root = put(tmp_path / "data", files)
    expected = load(spec, root)
    folder = cache.cache_dir(spec, root)
    npy, manifest = folder / "train-images-idx3-ubyte.npy", folder / "manifest.json"
    if damage == "flip a byte":
        data = bytearray(npy.read_bytes())
        data[-1] ^= 0x01  # same size, same header: only the CRC-32 can tell
        npy.write_bytes(bytes(data))
    elif damage == "truncate":
        npy.write_bytes(npy.read_bytes()[:-100])
    elif damage == "manifest garbage":
        manifest.write_text("{not json")
    elif damage == "manifest huge":
        manifest.write_text(json.dumps({"pad": "x" * 100_000}))
    else:  # a valid .npy of another shape, its manifest entry made to agree in size and CRC
        other = np.full((6, 784), 7, np.uint8)
        np.save(npy, other)
        entries = json.loads(manifest.read_text())
        import zlib

        entries["files"]["train-images-idx3-ubyte.gz"].update(npy_bytes=npy.stat().st_size, crc32=zlib.crc32(other))
        manifest.write_text(json.dumps(entries))
    assert cache.read(spec, loaders._sources(spec, root), root) is None
    again = load(spec, root)  # decoded from the .gz, and the cache rewritten
    assert np.array_equal(again.x_train, expected.x_train)
    assert cache.read(spec, loaders._sources(spec, root), root) is not None


def test_a_cache_folder_that_cannot_be_written_is_skipped(tmp_path):
    spec, files = tiny_spec(7)
    root = put(tmp_path / "data", files)
    (root / "tiny").mkdir()
    (root / "tiny" / "decoded").write_text("a file where the folder would go")
    ds = load(spec, root)
    assert ds.x_train.shape == (6, 784)
    assert not cache.write(spec, loaders._sources(spec, root), [np.zeros(1)] * 4, root)
