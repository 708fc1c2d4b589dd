"""Pictures are bounded by what they decode to, not by pixels alone, and large ones queue so small ones are answered
at once (issue 22 item 7; ``zerograd predict`` shares the decoder). Peak memory is read from /proc (Linux)."""

import io
import os
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from zerograd.io.images import ImageError, image_to_gray


def png_rgba16(width, height, rows=None):
    """A PNG of width × height RGBA pixels with 16 bits a sample, all zero: 130 KB for 1 × 16,777,216.
    rows: how many rows the data really holds (a header that declares more than the file has)."""
    row = b"\0" + bytes(width * 8)
    raw = zlib.compress(row * (height if rows is None else rows), 9)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


HOSTILE = png_rgba16(16_777_216, 1)  # one row of 16,777,216 pixels


def stroke_png(width, height, mode="L"):
    """A large, valid drawing of a "1": a vertical bar, light ink on black; compresses to a few KB."""
    a = np.zeros((height, width), dtype=np.uint8)
    a[height // 8 : height * 7 // 8, width // 2 - width // 30 : width // 2 + width // 30] = 255
    buffer = io.BytesIO()
    Image.fromarray(a).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_the_hostile_png_is_refused_from_its_header_quoting_zerograds_limit():
    assert len(HOSTILE) < 200_000
    with pytest.raises(ImageError) as err:
        image_to_gray(HOSTILE)
    message = str(err.value)
    assert "zerograd decodes at most 48 MiB" in message and "\n" not in message
    assert "128 MiB" in message  # 16,777,216 pixels of 8 bytes in the file's own format


def test_a_giant_declared_size_quotes_zerograds_limit_not_pillows():
    with pytest.raises(ImageError) as err:
        image_to_gray(png_rgba16(100_000, 100_000, rows=1))  # the header alone: 10^10 pixels
    assert "zerograd decodes at most" in str(err.value) and "PIL" not in str(err.value)


def test_a_large_valid_picture_is_shrunk_before_the_float_work_and_still_read():
    small = image_to_gray(stroke_png(280, 280))
    large = image_to_gray(stroke_png(4000, 4000))
    assert large.shape == (1000, 1000)  # reduced by 4 in Pillow, not 4000×4000 float32 (64 MB)
    assert small.max() == pytest.approx(1.0) and large.max() == pytest.approx(1.0)


def test_zerograd_predict_refuses_the_hostile_png_in_one_line_within_300_mb(tmp_path):
    from zerograd.checkpoint import save
    from zerograd.nets import TwoLayerNet

    ckpt = tmp_path / "net.npz"
    save(ckpt, TwoLayerNet(784, 10, 10, rng=0))
    picture = tmp_path / "hostile.png"
    picture.write_bytes(HOSTILE)
    probe = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.stderr.write(r.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "zerograd", "predict", str(ckpt), str(picture)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, peak_kb = map(int, result.stdout.split())
    assert code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "zerograd decodes at most" in result.stderr
    assert peak_kb / 1024 <= 300, f"peak RSS {peak_kb / 1024:.0f} MB"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_zerograd_predict_refuses_a_fifo_instead_of_waiting_on_it(tmp_path):
    from zerograd.checkpoint import save
    from zerograd.nets import TwoLayerNet

    ckpt = tmp_path / "net.npz"
    save(ckpt, TwoLayerNet(784, 10, 10, rng=0))
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "zerograd", "predict", str(ckpt), str(fifo)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "not a regular file" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_normal_prediction_answers_in_under_a_second_while_12_hostile_ones_are_in_flight():
    """A real server (a process of its own, for its memory): 12 clients post the hostile PNG and 12 more a large
    valid picture, together; a drawing posted meanwhile is answered in < 1 s, and the server peaks ≤ 300 MB."""
    pytest.importorskip("uvicorn")
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerograd", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api/predict"

    def post(body, timeout=120):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "image/png"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code

    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/model", timeout=5).close()
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "the server did not start"
                time.sleep(0.2)
        drawing = stroke_png(280, 280)
        assert post(drawing) == 200
        large = stroke_png(4096, 3072)  # 12 MiB decoded: the large lane
        statuses = []
        threads = [
            threading.Thread(target=lambda b=body: statuses.append(post(b))) for body in [HOSTILE] * 12 + [large] * 12
        ]
        for t in threads:
            t.start()
        time.sleep(0.3)  # all in flight
        waits = []
        for _ in range(3):
            started = time.perf_counter()
            assert post(drawing, timeout=30) == 200
            waits.append(time.perf_counter() - started)
        for t in threads:
            t.join(timeout=120)
        peak = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    print(f"waits {[round(w, 3) for w in waits]} s, server peak {peak:.0f} MB")
    assert sorted(statuses) == [200] * 12 + [400] * 12, err
    assert max(waits) < 1.0, waits
    assert peak <= 300, f"the server peaked at {peak:.0f} MB"
