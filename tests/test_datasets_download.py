"""Mirrors, checksums and caching, against an HTTP server on 127.0.0.1 started here (no other network, ever)."""

import dataclasses
import gzip
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from zerograd.datasets import MNIST, DatasetError, RemoteFile
from zerograd.datasets.download import NetworkUnavailableError, fetch
from zerograd.datasets.idx import idx_bytes
from zerograd.datasets.loaders import DatasetNotFoundError, load_idx_files, load_mnist

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
LABELS = RNG.integers(0, 10, size=20, dtype=np.uint8)
T_IMAGES = RNG.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
T_LABELS = RNG.integers(0, 10, size=10, dtype=np.uint8)


def gz(array):
    return gzip.compress(idx_bytes(array), mtime=0)


def remote_for(name, data, **kw):
    return RemoteFile(name, hashlib.md5(data).hexdigest(), **kw)


# A tiny MNIST-shaped dataset with its own checksums: the real catalog entry, files and counts swapped.
FILES = {
    "train-images-idx3-ubyte.gz": gz(IMAGES),
    "train-labels-idx1-ubyte.gz": gz(LABELS),
    "t10k-images-idx3-ubyte.gz": gz(T_IMAGES),
    "t10k-labels-idx1-ubyte.gz": gz(T_LABELS),
}
TINY = dataclasses.replace(
    MNIST,
    name="tiny",
    n_train=20,
    n_test=10,
    mirrors=(),
    train_images=remote_for("train-images-idx3-ubyte.gz", FILES["train-images-idx3-ubyte.gz"]),
    train_labels=remote_for("train-labels-idx1-ubyte.gz", FILES["train-labels-idx1-ubyte.gz"]),
    test_images=remote_for("t10k-images-idx3-ubyte.gz", FILES["t10k-images-idx3-ubyte.gz"]),
    test_labels=remote_for("t10k-labels-idx1-ubyte.gz", FILES["t10k-labels-idx1-ubyte.gz"]),
)


class Server:
    """Serves ``routes[path] = (status, body)``; ``"cut"`` as status announces the body and sends half of it."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                outer.requests.append(self.path)
                status, body = outer.routes.get(self.path, (404, b"not here"))
                if status == "cut":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ZEROGRAD_DATA", raising=False)
    monkeypatch.delenv("ZEROGRAD_OFFLINE", raising=False)


def dead_url():
    """A loopback URL nobody listens on: connecting is refused at once, like a machine with no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


NAME = "train-labels-idx1-ubyte.gz"
DATA = FILES[NAME]
REMOTE = TINY.train_labels


@pytest.mark.parametrize("status", [404, 403])
def test_failing_first_mirror_falls_through_to_the_second(server, tmp_path, status):
    server.routes = {f"/a/{NAME}": (status, b"nope"), f"/b/{NAME}": (200, DATA)}
    payload = fetch(REMOTE, [f"{server.url}/a/", f"{server.url}/b"], tmp_path, progress=False)
    assert server.requests == [f"/a/{NAME}", f"/b/{NAME}"]
    assert (tmp_path / NAME).read_bytes() == DATA
    assert payload == idx_bytes(LABELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


def test_checksum_mismatch_is_rejected_and_not_cached(server, tmp_path):
    wrong = gz(LABELS[::-1].copy())
    server.routes = {f"/a/{NAME}": (200, wrong)}
    with pytest.raises(DatasetError) as info:
        fetch(REMOTE, [f"{server.url}/a/"], tmp_path, progress=False)
    message = str(info.value)
    assert "checksum mismatch" in message and NAME in message
    assert REMOTE.md5_gz in message and hashlib.md5(wrong).hexdigest() in message  # both hashes named
    assert not isinstance(info.value, NetworkUnavailableError)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temp file


def test_checksum_mismatch_on_first_mirror_uses_the_second(server, tmp_path):
    server.routes = {f"/a/{NAME}": (200, gz(LABELS[::-1].copy())), f"/b/{NAME}": (200, DATA)}
    fetch(REMOTE, [f"{server.url}/a/", f"{server.url}/b/"], tmp_path, progress=False)
    assert (tmp_path / NAME).read_bytes() == DATA


def test_interrupted_transfer_leaves_no_partial_file(server, tmp_path):
    server.routes = {f"/a/{NAME}": ("cut", DATA)}
    with pytest.raises(DatasetError, match="interrupted|closed early"):
        fetch(REMOTE, [f"{server.url}/a/"], tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_recompressed_copy_verifies_by_decompressed_sha256(server, tmp_path):
    payload = idx_bytes(LABELS)
    remote = dataclasses.replace(REMOTE, sha256_raw=hashlib.sha256(payload).hexdigest())
    recompressed = gzip.compress(payload, compresslevel=1, mtime=12345)
    assert hashlib.md5(recompressed).hexdigest() != remote.md5_gz
    server.routes = {f"/a/{NAME}": (200, recompressed)}
    assert fetch(remote, [f"{server.url}/a/"], tmp_path, progress=False) == payload
    # without the decompressed sha256 the same bytes are refused
    with pytest.raises(DatasetError, match="checksum mismatch"):
        fetch(REMOTE, [f"{server.url}/a/"], tmp_path / "other", progress=False)


def test_gz_sha256_alone_verifies(server, tmp_path):
    remote = dataclasses.replace(REMOTE, md5_gz="0" * 32, sha256_gz=hashlib.sha256(DATA).hexdigest())
    server.routes = {f"/a/{NAME}": (200, DATA)}
    fetch(remote, [f"{server.url}/a/"], tmp_path, progress=False)
    assert (tmp_path / NAME).exists()


def test_unreachable_mirrors_mean_offline(tmp_path):
    with pytest.raises(NetworkUnavailableError, match="could not download") as info:
        fetch(REMOTE, [dead_url(), dead_url()], tmp_path / "dl", timeout=5, progress=False)
    assert info.value.message.count("http://127.0.0.1:") == 2  # every mirror listed with its failure
    assert not (tmp_path / "dl").exists()  # an offline attempt creates nothing


def test_unwritable_download_dir_is_named(server, tmp_path):
    (tmp_path / "file").write_text("not a directory")
    server.routes = {f"/a/{NAME}": (200, DATA)}
    with pytest.raises(DatasetError, match="cannot write into the download directory") as info:
        fetch(REMOTE, [f"{server.url}/a/"], tmp_path / "file" / "sub", progress=False)
    assert "ZEROGRAD_DATA" in info.value.hint


def test_whole_dataset_downloads_then_cache_hit_makes_no_request(server, tmp_path):
    server.routes = {f"/m/{name}": (200, data) for name, data in FILES.items()}
    arrays, source = load_idx_files(TINY, mirrors=[f"{server.url}/m/"], progress=False)
    assert len(server.requests) == 4
    cache = tmp_path / "cache" / "zerograd" / "tiny"
    assert source == str(cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)
    for got, want in zip(arrays, (IMAGES, LABELS, T_IMAGES, T_LABELS), strict=True):
        np.testing.assert_array_equal(got, want)
    again, source = load_idx_files(TINY, mirrors=[f"{server.url}/m/"], progress=False)
    assert len(server.requests) == 4  # second load: no request at all
    np.testing.assert_array_equal(again[0], IMAGES)


def test_download_goes_into_explicit_root_when_given(server, tmp_path):
    server.routes = {f"/m/{name}": (200, data) for name, data in FILES.items()}
    load_idx_files(TINY, tmp_path / "data", mirrors=[f"{server.url}/m/"], progress=False)
    assert sorted(p.name for p in (tmp_path / "data" / "tiny").iterdir()) == sorted(FILES)
    assert not (tmp_path / "cache").exists()


def test_offline_stops_after_the_first_file(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_idx_files(TINY, mirrors=[dead_url()], progress=False, timeout=5)
    assert len(info.value.tried) == 4
    assert sum("download not attempted" in line for line in info.value.tried) == 3
    assert "offline" in info.value.reason


def test_mnist_falls_back_to_the_sample_with_one_stderr_line(capsys):
    ds = load_mnist(mirrors=[dead_url()], progress=False, timeout=5)
    assert ds.name == "mnist-sample" and "offline fallback" in ds.source
    assert ds.x_train.shape == (8000, 784) and ds.x_test.shape == (2000, 784)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bundled MNIST sample" in err and "70,000" in err and "offline" in err


def test_mnist_without_fallback_lists_what_was_tried(capsys):
    with pytest.raises(DatasetError) as info:
        load_mnist(mirrors=[dead_url()], allow_sample_fallback=False, progress=False, timeout=5)
    message = str(info.value)
    for remote in MNIST.files:
        assert remote.name in message
    assert "zerograd" in message and "\nHINT: " in message  # the searched cache dir and how to get the files
    assert capsys.readouterr().err == ""


def test_partial_downloads_mix_with_local_copies(server, tmp_path):
    # Two files already in the cache, two on the mirror: only the missing two are requested.
    cache = tmp_path / "cache" / "zerograd" / "tiny"
    cache.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (cache / name).write_bytes(FILES[name])
    server.routes = {f"/m/{name}": (200, data) for name, data in FILES.items()}
    load_idx_files(TINY, mirrors=[f"{server.url}/m/"], progress=False)
    assert sorted(server.requests) == ["/m/t10k-images-idx3-ubyte.gz", "/m/t10k-labels-idx1-ubyte.gz"]


def test_a_full_disk_is_not_taken_for_being_offline(server, tmp_path, monkeypatch):
    import errno

    from zerograd.io import fileio

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    server.routes = {f"/a/{NAME}": (200, DATA)}
    with pytest.raises(DatasetError, match="No space left") as info:
        fetch(REMOTE, [f"{server.url}/a/"], tmp_path, progress=False)
    assert not isinstance(info.value, NetworkUnavailableError)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind
