"""Seeded, structure-aware fuzzing of every file format zerograd reads from disk (issue 10).

Each mutation is either raw (flipped, inserted, deleted bytes; truncation) or made through the format — an .npy
header with another shape or dtype, a zip member renamed, flagged encrypted or recompressed, a JSON header field
given another type or value — and re-zipped so the CRCs are valid and the damage reaches the parser behind them.
The only exceptions allowed out are the documented ones: ``DatasetError``, ``CheckpointError`` and ``ImageError``.

Each surface runs a default number of cases that keeps ``pytest -q`` short; ``ZEROGRAD_FUZZ_CASES=5000`` (what CI
sets) runs that many on every surface instead. The seed is fixed, so a failure reproduces with the same count.
"""

import gzip
import io
import os
import struct
import zipfile

import numpy as np
import pytest

from zerograd.datasets import DatasetError, load_npz, read_idx
from zerograd.nets import TwoLayerNet

SEED = 20261129


def cases(default: int) -> int:
    """How many mutations a surface runs: ``ZEROGRAD_FUZZ_CASES`` when set (CI: 5000), else ``default``."""
    value = os.environ.get("ZEROGRAD_FUZZ_CASES", "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise pytest.UsageError(f"ZEROGRAD_FUZZ_CASES must be a positive integer, got {value!r}")
    return int(value)


@pytest.fixture
def scratch(tmp_path):
    """A folder for the mutated files: in memory (/dev/shm) where there is one, as thousands are written."""
    import shutil
    import tempfile
    from pathlib import Path

    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="zerograd-fuzz-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def raw_mutation(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    kind = rng.integers(5)
    if kind == 0 or not b:  # truncate
        return bytes(b[: rng.integers(len(b) + 1)])
    if kind == 1:  # flip a few bytes
        for _ in range(rng.integers(1, 9)):
            b[rng.integers(len(b))] = rng.integers(256)
        return bytes(b)
    if kind == 2:  # insert junk
        at = rng.integers(len(b) + 1)
        return bytes(b[:at] + rng.bytes(int(rng.integers(1, 64))) + b[at:])
    if kind == 3:  # delete a range
        at = rng.integers(len(b))
        return bytes(b[:at] + b[at + rng.integers(1, 64) :])
    at = rng.integers(len(b))  # overwrite with an interesting integer
    value = rng.choice([0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
    b[at : at + 4] = struct.pack("<I", int(value))
    return bytes(b[: len(data)])


# -- .npy / .npz -------------------------------------------------------------------------------------------------

HEADER_FIELDS = [
    (
        "'descr': '<f8'",
        [
            "'descr': '<f4'",
            "'descr': '|O'",
            "'descr': '<U5'",
            "'descr': '|V8'",
            "'descr': '<i8'",
            "'descr': [('a', '<f8')]",
            "'descr': 'xyz'",
            "'descr': '<f8', 'descr': '<f4'",
            "'descr': 3",
        ],
    ),
    ("'fortran_order': False", ["'fortran_order': True", "'fortran_order': 1", "'fortran_order': None"]),
]
SHAPES = [
    "()",
    "(0,)",
    "(-1,)",
    "(1e3,)",
    "(2**62, 2**62)",
    "(4294967296, 4294967296, 100)",
    "('a',)",
    "(1, 2, 3, 4, 5)",
    "[3]",
    "(" * 50 + ")" * 50,
    "(3",
    "None",
]


def npy_bytes(array: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def mutate_npy(data: bytes, rng: np.random.Generator) -> bytes:
    """An .npy whose header (dict text, lengths, magic, format version) or payload is changed."""
    kind = rng.integers(5)
    if kind == 0:
        return raw_mutation(data, rng)
    header_len = struct.unpack("<H", data[8:10])[0]
    header, payload = data[10 : 10 + header_len].decode("latin1"), data[10 + header_len :]
    if kind == 1:
        old, choices = HEADER_FIELDS[rng.integers(len(HEADER_FIELDS))]
        key = old.split(":")[0]
        start = header.index(key)
        end = header.index(",", start)
        header = header[:start] + str(rng.choice(choices)) + header[end:]
    elif kind == 2:
        start = header.index("'shape': ") + len("'shape': ")
        end = header.index("), ", start) + 1 if "), " in header[start:] else header.index(")", start) + 1
        header = header[:start] + str(rng.choice(SHAPES)) + header[end:]
    elif kind == 3:
        payload = payload[: rng.integers(len(payload) + 1)] if rng.random() < 0.5 else payload + rng.bytes(8)
    elif len(payload) >= 4:  # one aligned 32-bit word of the data: a string array's character beyond Unicode
        at = 4 * int(rng.integers(len(payload) // 4))
        word = int(rng.choice([0x110000, 0xD800, 0xFFFFFFFF, 0x7FFFFFFF, 0]))
        payload = payload[:at] + struct.pack("<I", word) + payload[at + 4 :]
    encoded = header.encode("latin1")
    version = rng.random()
    if version < 0.1:
        return data[:6] + b"\x02\x00" + struct.pack("<I", len(encoded) + int(rng.integers(-5, 5))) + encoded + payload
    if version < 0.2:  # format 3.0: NumPy 2.4 has no public or private reader of it any more
        return data[:6] + b"\x03\x00" + struct.pack("<I", len(encoded)) + encoded + payload
    return data[:6] + b"\x01\x00" + struct.pack("<H", len(encoded)) + encoded + payload


def zip_members(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return f.getvalue()


def set_flag_bits(data: bytes, bits: int) -> bytes:
    """Set general-purpose flag bits in every local and central header (the "encrypted" flag is bit 0)."""
    b = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = b.find(signature)
        while at != -1:
            flags = struct.unpack_from("<H", b, at + offset)[0]
            struct.pack_into("<H", b, at + offset, flags | bits)
            at = b.find(signature, at + 4)
    return bytes(b)


def mutate_npz(members: dict[str, bytes], rng: np.random.Generator) -> bytes:
    members = dict(members)
    kind = rng.integers(7)
    names = list(members)
    if kind <= 2:  # an .npy inside, re-zipped: the CRC is right, the damage is in the array
        name = names[rng.integers(len(names))]
        members[name] = mutate_npy(members[name], rng)
        return zip_members(members, zipfile.ZIP_DEFLATED if rng.random() < 0.3 else zipfile.ZIP_STORED)
    if kind == 3:  # member names: missing, renamed, not .npy, duplicated
        name = names[rng.integers(len(names))]
        data = members.pop(name)
        choice = rng.integers(3)
        if choice == 0:
            members[name.replace(".npy", "")] = data
        elif choice == 1:
            members["extra.txt"] = data
            members[name] = data
        f = io.BytesIO()
        with zipfile.ZipFile(f, "w") as z:
            for n, d in members.items():
                z.writestr(n, d)
            if choice == 2:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "Duplicate name": that is the point
                    z.writestr(names[0], b"")
                    z.writestr(names[0], members[names[0]] if names[0] in members else data)
        return f.getvalue()
    if kind == 4:
        return set_flag_bits(zip_members(members), int(rng.choice([1, 8, 64, 1 << 13])))
    if kind == 5:  # other compression methods
        method = int(rng.choice([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
        return zip_members(members, method)
    return raw_mutation(zip_members(members, zipfile.ZIP_DEFLATED if rng.random() < 0.5 else zipfile.ZIP_STORED), rng)


def dataset_members(rng: np.random.Generator) -> dict[str, bytes]:
    arrays = {
        "x_train": rng.integers(0, 256, (12, 4, 4)).astype(np.uint8),
        "t_train": rng.integers(0, 3, 12),
        "x_test": rng.random((5, 4, 4)),
        "t_test": np.eye(3)[rng.integers(0, 3, 5)],
        "classes": np.array(["a", "b", "c"]),
    }
    return {f"{k}.npy": npy_bytes(v) for k, v in arrays.items()}


def test_fuzz_dataset_npz(scratch, tmp_path):
    rng = np.random.default_rng(SEED)
    members = dataset_members(rng)
    path = scratch / "d.npz"
    path.write_bytes(zip_members(members))
    assert load_npz(path).x_train.shape == (12, 16)
    outcomes = {"loaded": 0, "refused": 0}
    n = cases(1500)
    for i in range(n):
        data = mutate_npz(members, rng)
        path.write_bytes(data)
        try:
            ds = load_npz(path, flatten=bool(i % 2))
        except DatasetError as err:
            assert str(path) in str(err), err
            outcomes["refused"] += 1
            continue
        except Exception as err:  # noqa: BLE001 - the point of the test
            (tmp_path / f"escaped{i}.npz").write_bytes(data)
            pytest.fail(f"mutation {i} escaped as {type(err).__name__}: {err} (kept as escaped{i}.npz)")
        outcomes["loaded"] += 1
        assert np.all(np.isfinite(ds.x_train)) and np.all(np.isfinite(ds.x_test)) and ds.x_train.dtype == np.float32
        assert len(ds.classes) <= 1000 and ds.t_train.max() < len(ds.classes)
        # what loads, trains: one gradient step and an accuracy, as zerograd train would do first
        net = TwoLayerNet(int(np.prod(ds.x_train.shape[1:])), 3, len(ds.classes), rng=0)
        grads = net.gradient(ds.x_train[:3], ds.t_train[:3])
        assert all(np.all(np.isfinite(g)) for g in grads.values())
        assert 0 <= net.accuracy(ds.x_test, ds.t_test) <= 1
    assert outcomes["refused"] > 0.4 * n and outcomes["loaded"] > 0.005 * n, outcomes


# -- IDX -------------------------------------------------------------------------------------------------------


def mutate_idx(raw: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(raw)
    kind = rng.integers(4)
    if kind == 0:  # header fields: dtype code, ndim, a dimension
        field = rng.integers(3)
        if field == 0:
            b[2] = int(rng.choice([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]))
        elif field == 1:
            b[3] = int(rng.choice([0, 1, 2, 3, 4, 255]))
        else:
            d = int(rng.integers(min(b[3], 3))) if b[3] else 0
            b[4 + 4 * d : 8 + 4 * d] = int(rng.choice([0, 1, 27, 29, 2**31, 2**32 - 1])).to_bytes(4, "big")
        out = bytes(b)
    else:
        out = raw_mutation(raw, rng)
    if rng.random() < 0.5:  # inside a valid gzip stream (its CRC right), or the gzip damaged itself
        out = gzip.compress(out, mtime=0)
        if rng.random() < 0.3:
            out = raw_mutation(out, rng)
    return out


def test_fuzz_idx(scratch):
    from zerograd.datasets.idx import idx_bytes

    rng = np.random.default_rng(SEED + 1)
    raws = [
        idx_bytes(rng.integers(0, 256, (6, 28, 28)).astype(np.uint8)),
        idx_bytes(np.arange(6, dtype=np.uint8)),
        idx_bytes(rng.random((3, 5)).astype(np.float32)),
    ]
    path = scratch / "f-idx.gz"
    refused = 0
    n = cases(2000)
    for i in range(n):
        data = mutate_idx(raws[i % 3], rng)
        path.write_bytes(data)
        try:
            array = read_idx(path, max_bytes=1 << 20)
        except DatasetError as err:
            assert str(path) in str(err), err
            refused += 1
            continue
        except Exception as err:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutation {i} escaped as {type(err).__name__}: {err}")
        assert array.nbytes <= 1 << 20
    assert refused > 0.4 * n


# -- checkpoints ---------------------------------------------------------------------------------------------

JSON_VALUES = [
    None,
    True,
    False,
    -1,
    0,
    1,
    3,
    2**31,
    2**64,
    10**30,
    -(10**9),
    1e308,
    -0.0,
    0.5,
    float("nan"),
    float("inf"),
    "",
    "x",
    "relu",
    "Adam",
    "float16",
    [],
    [1, 2],
    [[3]],
    {},
    {"a": 1},
    {"type": "Relu"},
]


def json_paths(value, path=()):
    """Every (path, value) in a JSON tree, the root excluded."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), item
            yield from json_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*path, i), item
            yield from json_paths(item, (*path, i))


def mutate_header(header: dict, rng: np.random.Generator) -> dict:
    import copy

    header = copy.deepcopy(header)
    paths = list(json_paths(header))
    for _ in range(int(rng.integers(1, 3))):
        path, _value = paths[rng.integers(len(paths))]
        parent = header
        try:
            for key in path[:-1]:
                parent = parent[key]
            kind = rng.integers(4)
            if kind == 0 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif kind == 1 and isinstance(parent, (dict, list)):
                old = parent[path[-1]]
                if isinstance(old, bool) or not isinstance(old, (int, float)):
                    parent[path[-1]] = JSON_VALUES[rng.integers(len(JSON_VALUES))]
                else:  # a nearby or extreme number of the same kind
                    parent[path[-1]] = type(old)(rng.choice([old + 1, old - 1, old * 2, -old, 0, old * 10**6]))
            else:
                parent[path[-1]] = JSON_VALUES[rng.integers(len(JSON_VALUES))]
        except (KeyError, IndexError, TypeError, OverflowError):
            continue
    return header


_MEMBERS: dict[int, tuple[np.ndarray, bytes]] = {}


def checkpoint_members(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    """The archive members of ``arrays``; the encoded arrays are reused across mutations of one base."""
    members = {}
    for k, v in arrays.items():
        key = id(v)
        if key not in _MEMBERS:
            _MEMBERS[key] = (v, npy_bytes(v))  # holding v keeps its id from being reused
        members[f"{k}.npy"] = _MEMBERS[key][1]
    return members


def mutate_checkpoint(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> bytes:
    import json

    kind = rng.integers(10)
    if kind <= 4:  # the JSON header, re-encoded and re-zipped: valid CRCs, hostile values
        header = mutate_header(json.loads(arrays["header"].tobytes()), rng)
        changed = dict(arrays, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
        return zip_members(checkpoint_members(changed))
    if kind <= 6:  # an array of another shape or dtype, the header's table updated to agree (or not)
        header = json.loads(arrays["header"].tobytes())
        names = [n for n in arrays if n != "header"]
        name = names[rng.integers(len(names))]
        a = arrays[name]
        choice = rng.integers(4)
        if choice == 0:
            new = np.zeros(tuple(n + 1 for n in a.shape) or (1,), dtype=a.dtype)
        elif choice == 1:
            new = a.astype(rng.choice([np.float16, np.int64, np.uint8, np.complex64, np.bool_]))
        elif choice == 2:
            new = np.full_like(a, rng.choice([np.nan, np.inf, -1e30]))
        else:
            new = a.reshape(-1)[: max(a.size - 1, 0)]
        if rng.random() < 0.8:
            header["arrays"][name] = {"shape": list(new.shape), "dtype": new.dtype.str}
        changed = dict(arrays, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **{name: new})
        return zip_members(checkpoint_members(changed))
    if kind <= 8:
        return mutate_npz(checkpoint_members(arrays), rng)
    return raw_mutation(zip_members(checkpoint_members(arrays)), rng)


def test_fuzz_checkpoints(scratch, tmp_path, monkeypatch, capsys):
    """Mutated checkpoints load or raise CheckpointError; those that load predict, and (a sample of them) go
    through ``zerograd evaluate`` and ``zerograd train --resume`` with no exception escaping the CLI."""
    from zerograd import checkpoint
    from zerograd.checkpoint import CheckpointError
    from zerograd.cli import main

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(SEED + 2)
    data = tmp_path / "tiny.npz"
    np.savez(
        data, x_train=rng.random((30, 6)), t_train=np.arange(30) % 3, x_test=rng.random((9, 6)), t_test=np.arange(9) % 3
    )
    bases = []
    for i, extra in enumerate(
        (
            ["--hidden", "5", "--optimizer", "adam"],
            [
                "--hidden",
                "4,3",
                "--optimizer",
                "momentum",
                "--activation",
                "sigmoid",
                "--weight-decay",
                "0.01",
                "--sampling",
                "book",
            ],
            ["--hidden", "5,4", "--batchnorm", "--dropout", "0.2", "--optimizer", "rmsprop"],
        )
    ):
        assert (
            main(
                [
                    "train",
                    "--dataset",
                    str(data),
                    "--epochs",
                    "2",
                    "--out",
                    f"run{i}",
                    "--no-plot",
                    "--batch-size",
                    "8",
                    *extra,
                ]
            )
            == 0
        )
        with np.load(tmp_path / f"run{i}" / "checkpoint.npz") as z:
            bases.append({name: z[name] for name in z.files})
    from zerograd.layers import Affine, BatchNorm, Dropout, Relu
    from zerograd.nets import Sequential

    sequential = Sequential(Affine.new(6, 5, rng=0), BatchNorm(5), Relu(), Dropout(0.2, rng=0), Affine.new(5, 3))
    for name, net in (("net", TwoLayerNet(6, 4, 3, rng=0)), ("seq", sequential)):
        checkpoint.save(tmp_path / f"{name}.npz", net, metadata={"classes": ["a", "b", "c"]})
        with np.load(tmp_path / f"{name}.npz") as z:
            bases.append({name: z[name] for name in z.files})
    capsys.readouterr()

    path = scratch / "checkpoint.npz"
    counts = {"loaded": 0, "refused": 0, "cli": 0}
    n = cases(2000)
    for i in range(n):
        blob = mutate_checkpoint(bases[i % len(bases)], rng)
        path.write_bytes(blob)
        try:
            ckpt = checkpoint.load(path)
        except CheckpointError as err:
            assert str(path) in str(err), err
            counts["refused"] += 1
            continue
        except Exception as err:  # noqa: BLE001 - the point of the test
            (tmp_path / f"escaped{i}.npz").write_bytes(blob)
            pytest.fail(
                f"mutation {i} escaped checkpoint.load as {type(err).__name__}: {err} "
                f"(kept as {tmp_path}/escaped{i}.npz)"
            )
        counts["loaded"] += 1
        try:
            from zerograd.commands.common import net_sizes

            features, _ = net_sizes(ckpt.net)
            ckpt.net.predict(rng.random((2, features)).astype(ckpt.net.dtype))
            if counts["cli"] < 25:  # the CLI path for a sample: each run costs tens of milliseconds
                counts["cli"] += 1
                plot = [] if counts["cli"] <= 3 else ["--no-plot"]  # matplotlib costs more than the rest
                for argv in (
                    ["evaluate", str(path), "--out", str(scratch), *plot],
                    [
                        "train",
                        "--resume",
                        str(path),
                        "--epochs",
                        str(ckpt.epoch + 1),
                        "--out",
                        str(scratch / "resumed"),
                        "--overwrite",
                        "--no-plot",
                    ],
                ):
                    code = main(argv)
                    err = capsys.readouterr().err
                    assert code in (0, 1, 2) and "Traceback" not in err, (argv, code, err)
        except Exception as err:  # noqa: BLE001 - the point of the test
            (tmp_path / f"escaped{i}.npz").write_bytes(blob)
            pytest.fail(f"mutation {i} loaded, then {type(err).__name__}: {err} (kept as {tmp_path}/escaped{i}.npz)")
    assert counts["refused"] > 0.4 * n and counts["loaded"] > 0.025 * n, counts


# -- images (zerograd predict, the draw-a-digit page) ----------------------------------------------------------


def png_chunks_fixed(data: bytes) -> bytes:
    """The PNG with every chunk's CRC recomputed, so damage inside a chunk reaches the decoder behind the CRC."""
    import zlib

    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out, at = bytearray(data[:8]), 8
    while at + 12 <= len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        body = data[at + 4 : at + 8 + length]
        if len(body) != 4 + length:
            break
        out += data[at : at + 4] + body + struct.pack(">I", zlib.crc32(body))
        at += 12 + length
    return bytes(out + data[at:])


def mutate_image(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    kind = rng.integers(3)
    if kind == 0 and data.startswith(b"\x89PNG"):  # IHDR: width, height, bit depth, colour type, interlace
        field = int(rng.integers(5))
        offsets = (16, 20, 24, 25, 28)
        if field < 2:
            value = int(rng.choice([0, 1, 27, 29, 1000, 2**31 - 1, 2**32 - 1]))
            b[offsets[field] : offsets[field] + 4] = value.to_bytes(4, "big")
        else:
            b[offsets[field]] = int(rng.choice([0, 1, 2, 3, 4, 6, 8, 16, 255]))
        return png_chunks_fixed(bytes(b))
    out = raw_mutation(data, rng)
    return png_chunks_fixed(out) if kind == 1 else out


def test_fuzz_images(scratch):
    from PIL import Image

    from zerograd.io.images import ImageError, image_to_input

    rng = np.random.default_rng(SEED + 3)
    bases = []
    for mode, size, fmt in (
        ("L", (28, 28), "PNG"),
        ("RGB", (40, 30), "PNG"),
        ("RGBA", (20, 24), "PNG"),
        ("I;16", (28, 28), "PNG"),
        ("P", (16, 16), "PNG"),
        ("L", (28, 28), "JPEG"),
        ("RGB", (32, 32), "JPEG"),
        ("L", (12, 12), "BMP"),
    ):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        img = Image.fromarray(pixels).convert(mode)
        f = io.BytesIO()
        img.save(f, fmt)
        bases.append(f.getvalue())
    path = scratch / "digit.png"
    counts = {"read": 0, "refused": 0}
    n = cases(1000)
    for i in range(n):
        data = mutate_image(bases[i % len(bases)], rng)
        source = data if i % 2 else path  # the bytes a browser posts, or a file predict is given
        if not i % 2:
            path.write_bytes(data)
        try:
            x = image_to_input(source)
        except ImageError as err:
            assert "\n" not in str(err)
            counts["refused"] += 1
            continue
        except Exception as err:  # noqa: BLE001 - the point of the test
            (scratch.parent / f"escaped{i}.img").write_bytes(data)
            pytest.fail(f"mutation {i} escaped as {type(err).__name__}: {err}")
        counts["read"] += 1
        assert x.shape == (784,) and x.dtype == np.float32 and np.all((x >= 0) & (x <= 1)), (x.shape, x.dtype)
    assert counts["refused"] > 0.2 * n and counts["read"] > 0.1 * n, counts
