"""IDX files: write → read round trips, and every kind of damage gives a DatasetError that names the file."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from zerograd.datasets import DatasetError, read_idx, write_idx
from zerograd.datasets.idx import idx_bytes, parse_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(DTYPES), compress=st.booleans())
def test_round_trip_over_dtypes_and_shapes(tmp_path_factory, data, dtype, compress):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    array = data.draw(
        hnp.arrays(dtype, shape, elements={"allow_nan": False} if dtype in (np.float32, np.float64) else None)
    )
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.dtype.isnative
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress


def test_mnist_style_header_is_the_published_one():
    # MNIST's image files start 0x00000803, then N, 28, 28 as big-endian uint32.
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    assert idx_bytes(images)[:16] == bytes.fromhex("00000803000000020000001c0000001c")
    assert idx_bytes(np.arange(3, dtype=np.uint8))[:8] == bytes.fromhex("0000080100000003")
    # multi-byte payloads are big-endian
    assert idx_bytes(np.array([1], dtype=np.int32))[8:] == b"\x00\x00\x00\x01"


def test_gz_is_detected_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    path = tmp_path / "no-suffix"
    write_idx(path, array, compress=True)
    np.testing.assert_array_equal(read_idx(path), array)


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path):
    write_idx(tmp_path / "x.gz", np.ones(4, np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["x.gz"]


GOOD = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", ["truncated", "header"]),
        (b"\x00\x00\x08", ["truncated", "header"]),
        (b"\x01\x02" + GOOD[2:], ["magic", "0x0102"]),
        (GOOD[:2] + b"\x07" + GOOD[3:], ["dtype code", "0x07"]),
        (b"\x00\x00\x08\x00", ["0 dimensions"]),
        (GOOD[:10], ["truncated", "3 dimensions"]),
        (GOOD[:-1], ["short", "(2, 3, 4)", "24 bytes", "23"]),
        (GOOD + b"\x00", ["too long", "25"]),
        (GOOD[:3] + b"\x02" + GOOD[4:], ["too long"]),  # wrong number of dims: reads 2 dims, payload is too long
        (GOOD[:4] + struct.pack(">I", 3) + GOOD[8:], ["short", "(3, 3, 4)"]),  # wrong dim value
    ],
)
def test_damaged_files_name_the_file_and_the_problem(tmp_path, data, words):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DatasetError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message
    assert "\nHINT: " in message


def test_bad_gzip_and_truncated_gzip(tmp_path):
    packed = gzip.compress(GOOD)
    for name, data in [("bad.gz", b"\x1f\x8b" + b"\x00" * 30), ("cut.gz", packed[: len(packed) // 2])]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DatasetError, match="not a valid gzip file") as info:
            read_idx(path)
        assert name in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(tmp_path / "nope.gz")


@pytest.mark.parametrize(
    "array, words",
    [
        (np.zeros(3, dtype=np.uint16), "dtype uint16"),
        (np.zeros(3, dtype=np.complex64), "dtype complex64"),
        (np.float64(1.0), "shape ()"),
    ],
)
def test_writer_refuses_what_idx_cannot_hold(tmp_path, array, words):
    with pytest.raises(DatasetError, match=words.replace("(", r"\(").replace(")", r"\)")):
        write_idx(tmp_path / "x.idx", array)
    assert not list(tmp_path.iterdir())


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_only_ever_raise_dataset_error(data):
    try:
        out = parse_idx(data, "fuzz")
    except DatasetError:
        return
    assert isinstance(out, np.ndarray)


@settings(max_examples=200, deadline=None)
@given(
    header=st.tuples(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x42]), st.integers(0, 4)),
    dims=st.lists(st.integers(0, 2**32 - 1), max_size=4),
    tail=st.binary(max_size=64),
)
def test_fuzz_plausible_headers(header, dims, tail):
    # Random bytes rarely get past the magic number; these do, with random (huge) dims and payloads.
    data = bytes([0, 0, *header]) + b"".join(struct.pack(">I", d) for d in dims) + tail
    try:
        parse_idx(data, "fuzz")
    except DatasetError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_gzip_framed_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.gz"
    path.write_bytes(b"\x1f\x8b" + data)
    try:
        read_idx(path)
    except DatasetError:
        pass
