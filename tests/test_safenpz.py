"""zerograd.io.safenpz: each way an .npz can lie about its contents is refused before memory is allocated for it."""

import io
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from zerograd.io.safenpz import NpzFormatError, read_npz


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
    arrays = {
        "a": np.arange(12.0).reshape(3, 4),
        "f": np.asfortranarray(np.ones((2, 3), np.float32)),
        "s": np.array(["x", "yz"]),
        "e": np.zeros((0, 5)),
    }
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
    header = data[10 : 10 + header_len].replace(b"(4,)", b"(1000000, 1000000)")
    path = archive(tmp_path, {"x.npy": data[:10] + header + data[10 + header_len :]})
    tracemalloc.start()
    with pytest.raises(NpzFormatError, match=r"declares .* \(1000000, 1000000\) .* but \d+ bytes follow"):
        read_npz(path)
    assert tracemalloc.get_traced_memory()[1] < 10 * 2**20
    tracemalloc.stop()


@pytest.mark.parametrize(
    "case,message",
    [
        ("object", "cannot be read without pickle"),
        ("encrypted", "is encrypted"),
        ("not npy", "is not an .npy array"),
        ("bzip2", "compression method 12"),
        ("bomb", "more than deflate can produce"),
        ("crc", "damaged"),
        ("truncated npy", "bytes follow the header"),
    ],
)
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


# -- issue 22: NumPy's private header reader, damaged strings, deflate bombs --------------------------------------


def test_version_3_headers_are_read_without_numpy_private_api(tmp_path):
    """np.save writes format 3.0 for UTF-8 headers; NumPy 2.4 removed the private reader safenpz used for it."""
    f = io.BytesIO()
    np.lib.format.write_array(f, np.arange(6.0).reshape(2, 3), version=(3, 0))
    path = archive(tmp_path, {"x.npy": f.getvalue()})
    np.testing.assert_array_equal(read_npz(path)["x"], np.arange(6.0).reshape(2, 3))


def test_no_private_numpy_api_in_the_package():
    import re
    from pathlib import Path

    import zerograd

    # np.lib.format._read_array_header (gone in NumPy 2.4), numpy.core (private since 2.0), np._x
    private = re.compile(r"\b(np|numpy)\.((\w+\.)*_[a-z]\w*|core\b)")
    hits = [
        f"{p.name}:{i}"
        for p in Path(zerograd.__file__).parent.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line)
    ]
    assert not hits, hits


@pytest.mark.parametrize(
    "header,message",
    [
        (b"{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", "needs its comma"),
        (b"{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", "unexpected text"),
        (b"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", "structured"),
        (b"{'descr': '<f8', 'fortran_order': 0, 'shape': (3,), }", "fortran_order"),
        (b"{'descr': '<f8', 'shape': (3,), }", "keys"),
        (b"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", "new key"),
        (b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } x", "unexpected text"),
        (b"{'descr': 'xyz', 'fortran_order': False, 'shape': (3,), }", "unknown dtype"),
        (b"{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", "without pickle"),
        (b"{'descr': '<f8', 'fortran_order': False, 'shape': " + b"(" * 200 + b")" * 200 + b", }", "integers"),
        (b"{'descr': '<f8', 'fortran_order': False, 'shape': (" + b"1, " * 40 + b"), }", "dimensions"),
    ],
)
def test_damaged_npy_headers_are_named(tmp_path, header, message):
    header = header.ljust(118) + b"\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(24)
    with pytest.raises(NpzFormatError, match=message):
        read_npz(archive(tmp_path, {"x.npy": data}))


def test_strings_beyond_unicode_are_refused(tmp_path):
    data = bytearray(npy(np.array(["ab", "cd"])))
    data[-4:] = struct.pack("<I", 0x7FFFFFFF)  # str() of this element is a SystemError
    with pytest.raises(NpzFormatError, match="beyond Unicode's range"):
        read_npz(archive(tmp_path, {"classes.npy": bytes(data)}))


def deflate_bomb(path, name, gib=1.0):
    """A valid .npz whose deflated member holds ``gib`` GiB of zero bytes as a uint8 array, in about 1 MB: made from
    one compressed 16 MiB block repeated (each ends in a full flush, so the blocks are independent)."""
    chunk = 16 << 20
    count = int(gib * (1 << 30)) // chunk
    header = npy(np.zeros(0, np.uint8)).replace(b"(0,)", f"({count * chunk},)".encode())[:-1].ljust(127) + b"\n"
    header = header[:8] + struct.pack("<H", len(header) - 10) + header[10:]
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    crc = zlib.crc32(header)
    zeros = bytes(chunk)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    body = head + block * count + tail
    size = len(header) + count * chunk
    member = f"{name}.npy".encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), size, len(member), 0) + member
    central = (
        struct.pack(
            "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), size, len(member), 0, 0, 0, 0, 0, 0
        )
        + member
    )
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    path.write_bytes(local + body + central + end)
    return path


# NOTE: the peak of this process's own memory (VmHWM), not getrusage's ru_maxrss: on Linux that survives execve, so
# a child of a large pytest process would report the parent's size
PEAK_RSS_SCRIPT = """
import sys
from zerograd.{module} import {function} as load
try:
    load(sys.argv[1])
except Exception as err:
    print(type(err).__name__, str(err).splitlines()[0])
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("peak", int(hwm.split()[1]) * 1024)
"""


@pytest.mark.parametrize(
    "module,function,name,error",
    [("datasets", "load_npz", "x_train", "DatasetError"), ("checkpoint", "load", "header", "CheckpointError")],
)
def test_a_1_gib_deflated_member_in_1_mb_is_refused_before_inflating(tmp_path, module, function, name, error):
    import os
    import subprocess
    import sys

    path = deflate_bomb(tmp_path / "bomb.npz", name)
    assert path.stat().st_size < 1.1e6
    with zipfile.ZipFile(path) as z:  # a valid archive: zipfile itself would inflate all of it
        assert z.infolist()[0].file_size > 2**30
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT.format(module=module, function=function), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[0].startswith(error) and "inflate" in lines[0], done.stdout + done.stderr
    peak = int(lines[-1].split()[1])
    assert peak <= 300 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_inflating_stops_at_the_declared_size(tmp_path):
    """A member whose directory entry declares fewer bytes than its data inflates to is cut at the declared size
    (and then refused: its array would need the rest)."""
    path = deflate_bomb(tmp_path / "bomb.npz", "x", gib=1 / 64)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, at + 24, 4096)  # the central directory's uncompressed size
    struct.pack_into("<I", data, 22, 4096)  # and the local header's
    path.write_bytes(bytes(data))
    tracemalloc.start()
    with pytest.raises(NpzFormatError):
        read_npz(path)
    assert tracemalloc.get_traced_memory()[1] < 4 * 2**20
    tracemalloc.stop()
