"""The ``zerograd serve`` web application (FastAPI): ``create_app`` assembles the routers of ``serve.routers`` (each
page with its JSON API) and the guards every request passes.

Pages: ``/graph/apple``, ``/graph/apple-orange``, ``/graph/expr``, ``/graph/net``, ``/digits``, ``/train``,
``/watch`` (a ``zerograd train`` run followed from its folder, with ``serve --watch RUN_DIR``).

API (every error is a 4xx with ``{"error": "<one line>"}``):

- ``GET /api/graph/apple?apple=150`` or ``POST /api/graph/apple`` ``{"values": {"apple": 150}}`` (also
  ``apple-orange``): nodes, edges, values, gradients and the backward steps (``serve.graphdata``).
- ``GET /api/graph/expr?expr=x*y%2Bx&x=2`` or ``POST`` ``{"expr": "x*y + x", "values": {"x": 2}}``.
- ``GET /api/graph/net?digit=3&steps=1`` or ``POST`` ``{"digit": 3, "steps": 1}``: the layer view of
  TwoLayerNet, or of the net of ``serve --checkpoint``.
- ``POST /api/predict``: a PNG/JPEG body (``Content-Type: image/png``), or JSON ``{"pixels": 28×28 in [0, 1]}``.
- ``POST /api/train`` (settings JSON, all optional), ``POST /api/train/stop``, ``GET /api/train`` (the current
  run's events), ``GET /api/train/events?since=N`` (the same as server-sent events, while it runs).
- ``GET /api/watch``: the watched run's metrics.csv rows and first-layer weight images (``serve.watch``).

Safety: request bodies are limited in size before they are read (``BodyLimit``), no request names a file (datasets
by name from a fixed list, a checkpoint only from the command line), JSON with NaN is refused, pages allow no
other origin (Content-Security-Policy), and a server on a loopback address answers only to loopback host names.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .digits import DigitModel, PredictInputError, load_digit_model
from .graphdata import GraphDataError
from .graphs import GraphInputError
from .guards import install_guards
from .imagegate import ImageGate
from .inputs import RequestError
from .limits import BodyLimit
from .netdata import TWOLAYER, NetInputError, NetSource, checkpoint_source
from .pages import CSP
from .routers import ROUTERS
from .training import TrainingBusyError, TrainingManager, TrainInputError
from .watch import RunWatcher

__all__ = ["MAX_BODY_BYTES", "RequestError", "create_app"]

MAX_BODY_BYTES = 2 * 1024 * 1024  # a drawing's PNG is ~10 KB; a photo for /api/predict fits in 2 MB
INPUT_ERRORS = (GraphInputError, GraphDataError, NetInputError, PredictInputError, TrainInputError, RequestError)


def create_app(
    checkpoint: str | None = None,
    digit_model: DigitModel | None = None,
    allowed_hosts: Iterable[str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    watch: str | None = None,
    net_source: NetSource | None = None,
) -> FastAPI:
    """The application. checkpoint: the net for ``/digits`` (else one is trained on the bundled sample at the
    first prediction, or pass ``digit_model``). allowed_hosts: answer only requests whose ``Host`` is one of
    these (``zerograd serve`` passes the loopback names when it binds a loopback address). watch: the folder of a
    ``zerograd train`` run for ``/watch`` (``serve.watch``; raises ``WatchError`` when it is not a folder).
    net_source: the net of ``/graph/net`` (``serve.netdata``); by default the checkpoint's net when one is given
    (raises ``CheckpointError``, or ``NetInputError`` for a net that does not take 28×28 images), else the
    chapter's TwoLayerNet."""
    app = FastAPI(title="zerograd", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.digit_model = _digit_model(checkpoint, digit_model)
    app.state.training = TrainingManager()
    app.state.images = ImageGate()  # large pictures are decoded one at a time, so they never hold up a small one
    app.state.watcher = RunWatcher(watch) if watch is not None else None
    if net_source is None and checkpoint is not None:
        from ..checkpoint import load

        net_source = checkpoint_source(load(checkpoint).net, checkpoint)
    app.state.net_source = net_source or TWOLAYER
    for router in ROUTERS:
        app.include_router(router)
    # errors: one line, always JSON
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for error in INPUT_ERRORS:
        app.add_exception_handler(error, _input_error)
    app.add_exception_handler(TrainingBusyError, _busy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # guards, innermost first: headers on every response, then the body size limit, then (outermost, so that a
    # refused request is not read at all) the Host, Origin and Content-Type checks of serve.guards
    app.middleware("http")(_security_headers)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    install_guards(app, allowed_hosts)
    return app


def _digit_model(checkpoint: str | None, model: DigitModel | None) -> Callable[[], DigitModel]:
    """The net behind ``/digits``, made at the first request that needs it (the others wait for that one)."""
    lock = threading.Lock()

    def get() -> DigitModel:
        nonlocal model
        with lock:
            if model is None:
                model = load_digit_model(checkpoint)
            return model

    return get


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers["Content-Security-Policy"] = CSP
    return response


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = {404: f"no page or API at {request.url.path[:80]}", 405: f"{request.method} is not allowed here"}
    return JSONResponse({"error": message.get(exc.status_code, str(exc.detail))}, status_code=exc.status_code)


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}, status_code=400)


async def _busy_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=409)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    where = " ".join(str(part) for part in first.get("loc", ()))[:60]
    return JSONResponse({"error": f"{where}: {first.get('msg', 'not valid')}"[:200]}, status_code=400)
