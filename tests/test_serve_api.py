"""zerograd.serve.app: the JSON API — answers, one-line 4xx errors, size limits, a fuzz that never gets a 500."""

import importlib
import io
import json
import random
import time

import numpy as np
import pytest


def require(module):
    """The serve extra's modules (they come with the test extra): skipped with the reason when missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.skip(f"{module} is not installed (pip install '.[test]')", allow_module_level=True)


require("fastapi")
require("httpx")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from zerograd.datasets import load_mnist_sample  # noqa: E402
from zerograd.serve.app import create_app  # noqa: E402
from zerograd.serve.digits import quick_model  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return quick_model()


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(digit_model=model, max_body_bytes=512 * 1024)) as c:
        yield c


def png(a):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(a, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def assert_one_line_error(response, status):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_graph_api_get_and_post(client):
    got = client.get("/api/graph/apple", params={"apple": 150}).json()
    posted = client.post("/api/graph/apple", json={"values": {"apple": 150}}).json()
    assert got == posted
    nodes = {n["name"]: n for n in got["nodes"] if n["name"]}
    assert nodes["price"]["value"] == pytest.approx(330) and nodes["tax"]["grad"] == pytest.approx(300)
    expr = client.post("/api/graph/expr", json={"expr": "x*x", "values": {"x": 3}}).json()
    assert {n["name"]: n["grad"] for n in expr["nodes"] if n["name"]}["x"] == 6
    net = client.get("/api/graph/net", params={"digit": 3, "steps": 1}).json()
    assert net["steps"] == 1 and net["loss"] < net["start_loss"]


def test_pages_are_served_with_their_hooks(client):
    for path, hooks in (
        ("/graph/apple", ["input-apple", "step-backward"]),
        ("/graph/net", ["sgd-step"]),
        ("/digits", ["canvas", "prediction", "probabilities"]),
        ("/train", ["epoch", "loss-chart"]),
        ("/graph/expr", ["expression"]),
        ("/", []),
    ):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert "connect-src 'self'" in response.headers["content-security-policy"]
        for hook in hooks:
            assert f'data-testid="{hook}"' in response.text or "input-${n.name}" in response.text


def test_predict_from_a_png_and_from_pixels(client, model):
    ds = load_mnist_sample()
    for i in range(5):
        pixels = ds.x_test[i].reshape(28, 28)
        expected = model.predict_pixels(pixels.tolist())["index"]
        from_png = client.post("/api/predict", content=png(pixels * 255), headers={"Content-Type": "image/png"})
        from_json = client.post("/api/predict", json={"pixels": pixels.tolist()})
        assert from_png.json()["index"] == from_json.json()["index"] == expected
        assert len(from_png.json()["input"]) == 28 and len(from_png.json()["probabilities"]) == 10
    stroke = np.zeros((280, 280))
    stroke[40:240, 130:150] = 255  # a vertical stroke, drawn large as on the page
    answer = client.post("/api/predict", content=png(stroke), headers={"Content-Type": "image/png"}).json()
    assert answer["class"] == "1"


@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        (dict(content=b"{not json", headers={"Content-Type": "application/json"}), 400, "malformed JSON"),
        (dict(content=b"[1, 2]", headers={"Content-Type": "application/json"}), 400, "JSON object"),
        (dict(content=b"hello", headers={"Content-Type": "image/png"}), 400, "cannot read this image"),
        (dict(content=b"", headers={"Content-Type": "image/png"}), 400, "no image"),
        (dict(content=b"x", headers={"Content-Type": "text/plain"}), 415, "send the body as"),
        (dict(json={"pixels": [[0.0] * 28] * 27}), 400, "28×28"),
        (dict(json={"pixels": [[0.0] * 27] * 28}), 400, "28×28"),
        (dict(json={"pixels": [[2.0] * 28] * 28}), 400, r"\[0, 1\]"),
        (dict(json={"pixels": [["a"] * 28] * 28}), 400, "numbers only"),
        (dict(content=b'{"pixels": [[NaN]]}', headers={"Content-Type": "application/json"}), 400, "NaN"),
        (dict(json={"pixels": 3, "extra": 1}), 400, "unknown field"),
    ],
)
def test_bad_predict_requests_get_one_line_4xx(client, kwargs, status, message):
    import re

    assert re.search(message, assert_one_line_error(client.post("/api/predict", **kwargs), status))


def test_huge_bodies_and_images_are_refused(client):
    big = b"\0" * (600 * 1024)
    assert_one_line_error(client.post("/api/predict", content=big, headers={"Content-Type": "image/png"}), 413)

    def chunks():
        for _ in range(100):
            yield b"\0" * 8192

    assert_one_line_error(client.post("/api/predict", content=chunks(), headers={"Content-Type": "image/png"}), 413)
    # a small file that declares a huge picture is refused from its header, before decoding
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, format="PNG")  # 25 Mpx in a few KB
    assert len(bomb.getvalue()) < 512 * 1024
    message = assert_one_line_error(
        client.post("/api/predict", content=bomb.getvalue(), headers={"Content-Type": "image/png"}), 400
    )
    assert "too large" in message


@pytest.mark.parametrize(
    "method, path, body, message",
    [
        ("get", "/api/graph/apple?apple=abc", None, "must be a number"),
        ("get", "/api/graph/apple?apple=nan", None, "finite"),
        ("get", "/api/graph/apple?pear=1", None, "unknown input"),
        ("post", "/api/graph/apple", {"values": {"apple": "1"}}, "must be a number"),
        ("post", "/api/graph/apple", {"values": [1]}, "object of name"),
        ("post", "/api/graph/apple", {"vals": {}}, "unknown field"),
        ("post", "/api/graph/expr", {"expr": "__import__('os')"}, "only the functions"),
        ("post", "/api/graph/expr", {"expr": 5}, "must be a string"),
        ("post", "/api/graph/net", {"digit": -1}, "digit must be"),
        ("get", "/api/graph/net?steps=1000", None, "steps must be"),
        ("get", "/api/graph/banana", None, "no page or API"),
        ("put", "/api/predict", None, "not allowed"),
        ("post", "/api/train", {"epochs": 10**6}, "epochs must be"),
        ("post", "/api/train", {"dataset": "/etc/passwd"}, "dataset must be one of"),
        ("post", "/api/train", {"lr": -1}, "lr must be"),
    ],
)
def test_bad_api_requests_get_one_line_4xx(client, method, path, body, message):
    response = getattr(client, method)(path, **({"json": body} if body is not None else {}))
    assert message in assert_one_line_error(response, 404 if "banana" in path else 405 if method == "put" else 400)


def test_a_fuzz_of_the_api_never_gets_a_500(client):
    rng = random.Random(12)
    paths = [
        "/api/predict",
        "/api/graph/apple",
        "/api/graph/apple-orange",
        "/api/graph/expr",
        "/api/graph/net",
        "/api/train/stop",
        "/api/graph/x",
        "/graph/apple",
        "/graph/expr",
    ]
    atoms = [
        0,
        -1,
        1e308,
        -1e308,
        1.5,
        10**30,
        "",
        "x",
        "x*y+x",
        "exp(",
        None,
        True,
        [],
        {},
        [[0.5] * 28] * 28,
        "1" * 300,
        "ａ",
        "\u0000",
        {"apple": 2},
        {"x": "nan"},
    ]
    keys = ["values", "expr", "digit", "steps", "pixels", "apple", "x", "epochs", "lr", "dataset", "🍎"]

    def value(depth=0):
        r = rng.random()
        if depth < 2 and r < 0.2:
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 3))}
        if depth < 2 and r < 0.3:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return rng.choice(atoms)

    statuses = []
    for _ in range(300):
        path = rng.choice(paths)
        kind = rng.random()
        if kind < 0.45:
            response = client.post(path, json=value())
        elif kind < 0.6:
            raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
            response = client.post(
                path,
                content=raw,
                headers={
                    "Content-Type": rng.choice(
                        ["application/json", "image/png", "application/octet-stream", "text/plain"]
                    )
                },
            )
        elif kind < 0.8:
            params = {rng.choice(keys): str(value()) for _ in range(rng.randint(0, 3))}
            response = client.get(path, params=params)
        else:
            response = client.post(
                path, content=json.dumps(value()).replace("0.5", "NaN"), headers={"Content-Type": "application/json"}
            )
        statuses.append(response.status_code)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert_one_line_error(response, response.status_code)
    assert client.get("/api/graph/apple").status_code == 200  # still serving
    assert any(s == 200 for s in statuses) and any(400 <= s < 500 for s in statuses)


def test_a_training_run_streams_its_epochs_and_refuses_a_second_run(client):
    started = client.post("/api/train", json={"epochs": 3, "hidden": 20})
    assert started.status_code == 200
    busy = client.post("/api/train", json={"epochs": 3})
    assert busy.status_code == 409 or client.get("/api/train").json()["running"] is False
    with client.stream("GET", "/api/train/events") as stream:
        events = [json.loads(line[len("data: ") :]) for line in stream.iter_lines() if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done", kinds
    epochs = [e["epoch"] for e in events if e["type"] == "epoch"]
    assert epochs == [1, 2, 3]
    assert [e["id"] for e in events] == list(range(len(events)))
    assert all(e["loss"] > 0 for e in events if e["type"] == "progress")
    # a reconnecting client picks up after the last event it saw
    with client.stream("GET", "/api/train/events", headers={"Last-Event-ID": str(len(events) - 2)}) as stream:
        rest = [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert [e["id"] for e in rest] == [len(events) - 1]


def test_a_run_can_be_stopped(client):
    while client.get("/api/train").json()["running"]:
        time.sleep(0.05)
    assert client.post("/api/train", json={"epochs": 50}).status_code == 200
    time.sleep(0.2)
    assert client.post("/api/train/stop", json={}).status_code == 200
    deadline = time.time() + 30
    while client.get("/api/train").json()["running"] and time.time() < deadline:
        time.sleep(0.05)
    events = client.get("/api/train").json()["events"]
    assert events[-1]["type"] == "stopped" and len([e for e in events if e["type"] == "epoch"]) < 50


def test_a_loopback_server_answers_loopback_names_only(model):
    with TestClient(
        create_app(digit_model=model, allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://evil.example"
    ) as c:
        assert c.get("/graph/apple").status_code == 403
    with TestClient(
        create_app(digit_model=model, allowed_hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1:8000"
    ) as c:
        assert c.get("/graph/apple").status_code == 200


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_zerograd_serve_binds_loopback_and_answers(tmp_path):
    import subprocess
    import sys
    import urllib.request

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerograd", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("zerograd serve: http://127.0.0.1:"):
                break
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/graph/apple?apple=150", timeout=5) as r:
                    data = json.load(r)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        assert {n["name"]: n["value"] for n in data["nodes"] if n["name"]}["price"] == pytest.approx(330)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_zerograd_serve_warns_off_loopback_and_refuses_a_bad_checkpoint(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zerograd",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--checkpoint",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "warning: listening on 0.0.0.0" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("zerograd serve: error: ")
    assert "Traceback" not in result.stderr
