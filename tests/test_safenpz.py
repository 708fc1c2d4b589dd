"""zerograd.safenpz: each way an .npz can lie about its contents is refused before memory is allocated for it."""

import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from zerograd.safenpz import NpzFormatError, read_npz


def npy(array):
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def archive(tmp_path, members, compression=zipfile.ZIP_STORED):
    path = tmp_path / "a.npz"
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_reads_what_np_savez_writes_in_both_orders_and_compressions(tmp_path):
    arrays = {"a": np.arange(12.0).reshape(3, 4), "f": np.asfortranarray(np.ones((2, 3), np.float32)),
              "s": np.array(["x", "yz"]), "e": np.zeros((0, 5))}
    for save in (np.savez, np.savez_compressed):
        save(tmp_path / "ok.npz", **arrays)
        got = read_npz(tmp_path / "ok.npz")
        assert set(got) == set(arrays)
        for key, value in arrays.items():
            np.testing.assert_array_equal(got[key], value)
            assert got[key].dtype == value.dtype


def test_a_header_declaring_terabytes_is_refused_before_allocating(tmp_path):
    data = npy(np.zeros(4))
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10: 10 + header_len].replace(b"(4,)", b"(1000000, 1000000)")
    path = archive(tmp_path, {"x.npy": data[:10] + header + data[10 + header_len:]})
    tracemalloc.start()
    with pytest.raises(NpzFormatError, match=r"declares .* \(1000000, 1000000\) .* but \d+ bytes follow"):
        read_npz(path)
    assert tracemalloc.get_traced_memory()[1] < 10 * 2**20
    tracemalloc.stop()


@pytest.mark.parametrize("case,message", [
    ("object", "cannot be read without pickle"),
    ("encrypted", "is encrypted"),
    ("not npy", "is not an .npy array"),
    ("bzip2", "compression method 12"),
    ("bomb", "more than deflate can produce"),
    ("crc", "damaged"),
    ("truncated npy", "bytes follow the header"),
])
def test_hostile_archives(tmp_path, case, message):
    good = npy(np.arange(100.0))
    if case == "object":
        f = io.BytesIO()
        np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        path = archive(tmp_path, {"x.npy": f.getvalue()})
    elif case == "encrypted":
        data = bytearray(archive(tmp_path, {"x.npy": good}).read_bytes())
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.find(signature)
            data[at + offset] |= 1
        path = tmp_path / "a.npz"
        path.write_bytes(bytes(data))
    elif case == "not npy":
        path = archive(tmp_path, {"x.txt": b"hello"})
    elif case == "bzip2":
        path = archive(tmp_path, {"x.npy": good}, zipfile.ZIP_BZIP2)
    elif case == "bomb":  # a directory entry claiming far more than its compressed bytes can hold
        data = bytearray(archive(tmp_path, {"x.npy": good}, zipfile.ZIP_DEFLATED).read_bytes())
        at = data.find(b"PK\x01\x02")
        struct.pack_into("<I", data, at + 24, 2**31)  # uncompressed size in the central directory
        path = tmp_path / "a.npz"
        path.write_bytes(bytes(data))
    elif case == "crc":
        data = bytearray(archive(tmp_path, {"x.npy": good}).read_bytes())
        data[200] ^= 0xFF  # a payload byte: the zip's CRC no longer matches
        path = tmp_path / "a.npz"
        path.write_bytes(bytes(data))
    else:
        path = archive(tmp_path, {"x.npy": good[:-8]})
    with pytest.raises(NpzFormatError, match=message):
        read_npz(path)
