"""Round-trip time of ``POST /api/predict`` through a real ``zerograd serve`` (uvicorn, loopback HTTP/1.1).

Starts ``zerograd serve`` in its own process, then from this one sends, alternating A B C A B C, a 280×280 PNG
drawing as the digit page sends it, a 28×28 JSON pixel array, and as the reference a request that does no work
(``GET /api/model``); per kind the median and 95th percentile in milliseconds, and the ratio of medians to the
reference. The same again while a training run streams on the server (``/train``'s case: does the page stay
responsive?). The issue's target: a predict round trip under 50 ms.

    python benchmarks/serve_latency.py               # 200 rounds each
    python benchmarks/serve_latency.py --rounds 50
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import socket
import statistics
import subprocess
import sys
import time

import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drawing_png() -> bytes:
    a = np.zeros((280, 280), dtype=np.uint8)
    a[40:240, 125:150] = 255  # a "1" drawn with the page's pen
    a[40:70, 95:130] = 255
    buffer = io.BytesIO()
    Image.fromarray(a).save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "zerograd", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in server.stdout:
            if line.startswith("zerograd serve: http"):
                break
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        png = drawing_png()
        pixels = json.dumps({"pixels": (np.random.default_rng(0).random((28, 28)) * 0.5).round(3).tolist()})
        requests = {
            "reference: GET /api/model": ("GET", "/api/model", None, {}),
            "predict, 280×280 PNG": ("POST", "/api/predict", png, {"Content-Type": "image/png"}),
            "predict, 28×28 JSON": ("POST", "/api/predict", pixels, {"Content-Type": "application/json"}),
        }

        def measure(label: str) -> None:
            times: dict[str, list[float]] = {name: [] for name in requests}
            for _ in range(args.rounds):
                for name, (method, path, body, headers) in requests.items():  # alternating A B C
                    started = time.perf_counter()
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    times[name].append(1000 * (time.perf_counter() - started))
                    assert response.status == 200, (name, response.status)
            reference = statistics.median(times["reference: GET /api/model"])
            print(f"\n{label} ({args.rounds} rounds)")
            print("| request | median ms | p95 ms | × reference |\n|---|---|---|---|")
            for name, values in times.items():
                median = statistics.median(values)
                p95 = sorted(values)[int(0.95 * len(values)) - 1]
                print(f"| {name} | {median:.2f} | {p95:.2f} | {median / reference:.2f} |")

        for _ in range(20):  # warm-up
            conn.request("GET", "/api/model")
            conn.getresponse().read()
        measure("idle server")
        conn.request(
            "POST",
            "/api/train",
            body=json.dumps({"epochs": 50, "batch_size": 5}),
            headers={"Content-Type": "application/json"},
        )
        assert conn.getresponse().read()
        time.sleep(1.0)
        measure("while a training run streams (batch 5, sample MNIST)")
        conn.request("POST", "/api/train/stop")
        conn.getresponse().read()
    finally:
        server.terminate()
        server.communicate(timeout=30)


if __name__ == "__main__":
    main()
