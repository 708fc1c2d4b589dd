"""zerograd serve admits only its own pages (issue 22 items 5, 6, 8): Origin, Sec-Fetch-Site, Content-Type, the
Host of every loopback address, JSON numbers in range, event ids, one-line disconnects, and a seeded fuzz of the
API's bodies that never gets a 500 (ZEROGRAD_FUZZ_CASES cases; CI runs 5,000)."""

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="fastapi is not installed (pip install '.[test]')")
pytest.importorskip("httpx", reason="httpx is not installed (pip install '.[test]')")
from fastapi.testclient import TestClient  # noqa: E402

from zerograd.serve.app import create_app  # noqa: E402
from zerograd.serve.digits import quick_model  # noqa: E402

FUZZ_CASES = int(os.environ.get("ZEROGRAD_FUZZ_CASES", "400"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def model():
    return quick_model(epochs=1)


@pytest.fixture(scope="module")
def client(model):
    with TestClient(
        create_app(digit_model=model, allowed_hosts=["127.0.0.1", "localhost", "::1"]), base_url="http://127.0.0.1:8000"
    ) as c:
        yield c


def one_line_error(response, status):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def wait_idle(client):
    deadline = time.time() + 30
    while client.get("/api/train").json()["running"]:
        assert time.time() < deadline
        time.sleep(0.05)


# -- item 5: cross-site requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, status, message",
    [
        # what Chromium sends for fetch(url, {mode: "no-cors", method: "POST", body: "..."}) from another page
        (
            {
                "Origin": "http://evil.example",
                "Sec-Fetch-Site": "cross-site",
                "Content-Type": "text/plain;charset=UTF-8",
            },
            403,
            "origin",
        ),
        (
            {"Origin": "http://127.0.0.1:9999", "Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},
            403,
            "origin",
        ),
        ({"Origin": "null", "Content-Type": "application/json"}, 403, "origin"),
        ({"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, 403, "cross-site"),
        # a form post, or a no-cors fetch, carries one of the "simple" types: refused even without an Origin
        ({"Content-Type": "text/plain"}, 415, "application/json"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415, "application/json"),
        ({}, 415, "application/json"),
    ],
)
@pytest.mark.parametrize("path", ["/api/train", "/api/train/stop"])
def test_state_changing_requests_from_elsewhere_are_refused(client, headers, status, message, path):
    wait_idle(client)
    before = client.get("/api/train").json()["run"]
    response = client.post(path, content=b'{"epochs": 1, "hidden": 5}', headers=headers)
    assert message in one_line_error(response, status)
    assert client.get("/api/train").json()["run"] == before  # nothing started


def test_the_servers_own_pages_may_start_and_stop_a_run(client):
    wait_idle(client)
    own = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}
    started = client.post("/api/train", content=b'{"epochs": 1, "hidden": 5}', headers=own)
    assert started.status_code == 200, started.text
    assert client.post("/api/train/stop", content=b"{}", headers=own).status_code == 200
    # a picture from the digits page: image/png, same origin
    same = {"Origin": "http://127.0.0.1:8000", "Content-Type": "image/png"}
    assert "cannot read" in one_line_error(client.post("/api/predict", content=b"x", headers=same), 400)
    wait_idle(client)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_a_page_on_another_origin_cannot_start_or_stop_training_in_chromium(model):
    """The attack of issue 22 item 5, in a real browser: a page served from a second local server (another
    origin) fetches the API with mode no-cors and text/plain, as a hostile site would."""
    pytest.importorskip("uvicorn")
    pytest.importorskip("playwright.sync_api")
    import http.server

    import uvicorn
    from playwright.sync_api import sync_playwright

    app = create_app(digit_model=model, allowed_hosts=["127.0.0.1", "localhost"])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    evil_page = f"""<!doctype html><title>evil</title><script>
      const target = "http://127.0.0.1:{port}";
      window.attack = async () => {{
        const sent = [];
        for (const path of ["/api/train", "/api/train/stop"]) {{
          for (const type of ["text/plain", "application/json"]) {{
            try {{
              await fetch(target + path, {{method: "POST", mode: "no-cors", headers: {{"Content-Type": type}},
                                         body: '{{"epochs": 2, "hidden": 5}}'}});
              sent.push(path);
            }} catch (e) {{ sent.push("error " + e); }}
          }}
        }}
        return sent;
      }};
    </script>""".encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(evil_page)))
            self.end_headers()
            self.wfile.write(evil_page)

        def log_message(self, *args):
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        deadline = time.time() + 30
        while not server.started:
            assert time.time() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.goto(f"http://localhost:{evil.server_address[1]}/")  # another origin than 127.0.0.1:port
                sent = page.evaluate("window.attack()")
                assert sent == ["/api/train"] * 2 + ["/api/train/stop"] * 2  # the requests did go out
                time.sleep(0.5)
                assert app.state.training.current is None  # and no run started
                # the server's own page still works in the same browser
                page.goto(f"http://127.0.0.1:{port}/train")
                status = page.evaluate("""async () => (await fetch("/api/train", {method: "POST",
                    headers: {"Content-Type": "application/json"}, body: '{"epochs": 1, "hidden": 5}'})).status""")
                assert status == 200 and app.state.training.current is not None
            finally:
                browser.close()
    finally:
        evil.shutdown()
        server.should_exit = True
        thread.join(timeout=10)


# -- item 6: every loopback address keeps the Host check; the warning only for others ---------------------------


@pytest.mark.parametrize(
    "bound, url, status",
    [
        ("::1", "http://[::1]:8000", 200),
        ("::1", "http://evil.example:8000", 403),
        ("::1", "http://localhost:8000", 200),
        ("127.0.0.2", "http://127.0.0.2:8000", 200),
        ("127.0.0.2", "http://evil.example", 403),
        ("localhost", "http://evil.example", 403),
    ],
)
def test_the_host_check_holds_for_every_loopback_address(model, bound, url, status):
    from zerograd.serve.guards import is_loopback, loopback_hosts

    assert is_loopback(bound)
    with TestClient(create_app(digit_model=model, allowed_hosts=loopback_hosts(bound)), base_url=url) as c:
        assert c.get("/graph/apple").status_code == status
        assert c.get("/api/graph/apple").status_code == status


@pytest.mark.parametrize(
    "host, warned",
    [("::1", False), ("127.0.0.1", False), ("localhost", False), ("127.0.0.5", False), ("0.0.0.0", True), ("::", True)],
)
def test_the_warning_is_only_for_addresses_other_machines_can_reach(tmp_path, host, warned):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")  # stops the command before it binds
    result = subprocess.run(
        [sys.executable, "-m", "zerograd", "serve", "--host", host, "--port", "8", "--checkpoint", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert ("other machines can reach" in result.stderr) == warned, result.stderr


# -- item 8: JSON numbers, surrogates, event ids, validation errors ---------------------------------------------

BIG_INT = "1" + "0" * 5000  # > 4,300 digits: int() refuses it with a ValueError
INT_1E400 = "1" + "0" * 400  # fits int(), overflows float()


def with_number(template, number):
    """The JSON text ``template`` with its ``#`` replaced by ``number`` (written out: no Python int involved)."""
    return template.replace("#", number)


@pytest.mark.parametrize(
    "path, body, message",
    [
        ("/api/graph/apple", with_number('{"values": {"apple": #}}', BIG_INT), "out of range"),
        ("/api/graph/apple", with_number('{"values": {"apple": #}}', INT_1E400), "out of range"),
        ("/api/graph/apple", '{"values": {"apple": 1e400}}', "out of range"),
        ("/api/graph/apple", '{"values": {"apple": -1e400}}', "out of range"),
        ("/api/graph/expr", with_number('{"expr": "x*y", "values": {"x": #, "y": 1}}', INT_1E400), "out of range"),
        ("/api/predict", with_number('{"pixels": [[#]]}', INT_1E400), "out of range"),
        ("/api/predict", with_number('{"pixels": #}', BIG_INT), "out of range"),
        ("/api/train", with_number('{"lr": #}', INT_1E400), "out of range"),
        ("/api/train", with_number('{"epochs": #}', BIG_INT), "out of range"),
        ("/api/graph/net", with_number('{"digit": #}', INT_1E400), "out of range"),
        ("/api/graph/expr", '{"expr": "\\ud800x"}', "not a character"),
        ("/api/graph/expr", '{"expr": "x*\\udcff", "values": {"x": 1}}', "not a character"),
    ],
)
def test_numbers_out_of_range_and_lone_surrogates_are_one_line_400s(client, path, body, message):
    wait_idle(client)
    response = client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})
    assert message in one_line_error(response, 400)


@pytest.mark.parametrize(
    "since, last, message",
    [
        ("abc", None, "since"),
        ("-1", None, "since"),
        ("²", None, "since"),
        ("9" * 5000, None, "since"),
        ("0", "²", "Last-Event-ID"),
        ("0", "9" * 5000, "Last-Event-ID"),
        ("0", "x", "Last-Event-ID"),
    ],
)
def test_bad_event_ids_are_one_line_400s(client, since, last, message):
    headers = {"Last-Event-ID": last.encode("latin-1")} if last is not None else {}
    response = client.get("/api/train/events", params={"since": since}, headers=headers)
    assert message in one_line_error(response, 400)


def test_a_fuzz_of_the_api_bodies_never_gets_a_500(client):
    """Seeded: raw JSON texts built from tokens that have broken the server before (huge integers, 1e400, lone
    surrogates, NaN, deep nesting), posted to every API; each answer is 2xx or a one-line 4xx."""
    rng = random.Random(22)
    paths = [
        "/api/predict",
        "/api/graph/apple",
        "/api/graph/apple-orange",
        "/api/graph/expr",
        "/api/graph/net",
        "/api/train",
    ]
    numbers = [
        "0",
        "-1",
        "1e308",
        "1e400",
        "-1e400",
        "1E-400",
        BIG_INT,
        INT_1E400,
        "-" + INT_1E400,
        "0.5",
        "3",
        "NaN",
        "Infinity",
        "-0",
        "1" * 300,
        "12345678901234567890",
        "2.5e-324",
        "1e-7",
    ]
    strings = [
        '"x"',
        '"x*y+x"',
        '"\\ud800x"',
        '"\\udcff"',
        '"exp("',
        '"sgd"',
        '"adam"',
        '"mnist-sample"',
        '"\\u0000"',
        '"' + "a" * 200 + '"',
        '"x**99999"',
        '"\\ud83c\\udf4e"',
    ]
    keys = [
        "values",
        "expr",
        "digit",
        "steps",
        "pixels",
        "apple",
        "orange",
        "x",
        "y",
        "epochs",
        "lr",
        "hidden",
        "batch_size",
        "optimizer",
        "dataset",
        "\\ud800",
    ]

    def value(depth=0):
        r = rng.random()
        if depth < 3 and r < 0.25:
            items = [f'"{rng.choice(keys)}": {value(depth + 1)}' for _ in range(rng.randint(0, 3))]
            return "{" + ", ".join(items) + "}"
        if depth < 3 and r < 0.35:
            return "[" + ", ".join(value(depth + 1) for _ in range(rng.randint(0, 4))) + "]"
        if r < 0.4:
            return "[" + ", ".join(["[" + ", ".join([rng.choice(numbers)] * 28) + "]"] * 28) + "]"
        return rng.choice(numbers + strings + ["true", "null", "[]", "{}"])

    statuses = []
    for case in range(FUZZ_CASES):
        path = rng.choice(paths)
        if path == "/api/train":
            wait_idle(client)
        body = value()
        if rng.random() < 0.7:  # mostly objects, which reach the fields
            body = (
                "{"
                + f'"{rng.choice(keys)}": {body}'
                + (f', "{rng.choice(keys)}": {value(1)}' if rng.random() < 0.5 else "")
                + "}"
            )
        response = client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})
        statuses.append(response.status_code)
        assert response.status_code < 500, (case, path, body[:300], response.text[:300])
        if response.status_code >= 400:
            one_line_error(response, response.status_code)
        if path == "/api/train" and response.status_code == 200:
            client.post("/api/train/stop", json={})
    assert any(s == 200 for s in statuses) and sum(400 <= s < 500 for s in statuses) > len(statuses) // 4


# -- a client that leaves mid-body is one line in the log, not a traceback ---------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_client_that_disconnects_mid_body_is_logged_as_one_line(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerograd", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("zerograd serve: http://"):
                break
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "the server did not start"
                time.sleep(0.1)
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(
                    b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                    b"Content-Length: 100000\r\n\r\n" + b"\x89PNG" * 100
                )
                time.sleep(0.3)
        time.sleep(0.5)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "disconnected" in line]
    assert len(lines) == 3, err
    assert "POST /api/predict" in lines[0]
