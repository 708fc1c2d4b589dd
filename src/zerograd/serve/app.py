"""The ``zerograd serve`` web application (FastAPI): ``create_app`` assembles the routers of ``serve.routers`` (each
page with its JSON API) and the guards every request passes.

Pages: ``/graph/apple``, ``/graph/apple-orange``, ``/graph/expr``, ``/graph/net``, ``/digits``, ``/train``.

API (every error is a 4xx with ``{"error": "<one line>"}``):

- ``GET /api/graph/apple?apple=150`` or ``POST /api/graph/apple`` ``{"values": {"apple": 150}}`` (also
  ``apple-orange``): nodes, edges, values, gradients and the backward steps (``serve.graphdata``).
- ``GET /api/graph/expr?expr=x*y%2Bx&x=2`` or ``POST`` ``{"expr": "x*y + x", "values": {"x": 2}}``.
- ``GET /api/graph/net?digit=3&steps=1`` or ``POST`` ``{"digit": 3, "steps": 1}``: TwoLayerNet's layer view.
- ``POST /api/predict``: a PNG/JPEG body (``Content-Type: image/png``), or JSON ``{"pixels": 28×28 in [0, 1]}``.
- ``POST /api/train`` (settings JSON, all optional), ``POST /api/train/stop``, ``GET /api/train`` (the current
  run's events), ``GET /api/train/events?since=N`` (the same as server-sent events, while it runs).

Safety: request bodies are limited in size before they are read (``BodyLimit``), no request names a file (datasets
by name from a fixed list, a checkpoint only from the command line), JSON with NaN is refused, pages allow no
other origin (Content-Security-Policy), and a server on a loopback address answers only to loopback host names.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .digits import DigitModel, PredictInputError, load_digit_model
from .graphdata import GraphDataError
from .graphs import GraphInputError
from .inputs import RequestError
from .limits import BodyLimit
from .netdata import NetInputError
from .pages import CSP
from .routers import ROUTERS
from .training import TrainingBusyError, TrainingManager, TrainInputError

__all__ = ["MAX_BODY_BYTES", "RequestError", "create_app"]

MAX_BODY_BYTES = 2 * 1024 * 1024  # a drawing's PNG is ~10 KB; a photo for /api/predict fits in 2 MB
INPUT_ERRORS = (GraphInputError, GraphDataError, NetInputError, PredictInputError, TrainInputError, RequestError)


def create_app(
    checkpoint: str | None = None,
    digit_model: DigitModel | None = None,
    allowed_hosts: Iterable[str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The application. checkpoint: the net for ``/digits`` (else one is trained on the bundled sample at the
    first prediction, or pass ``digit_model``). allowed_hosts: answer only requests whose ``Host`` is one of
    these (``zerograd serve`` passes the loopback names when it binds a loopback address)."""
    app = FastAPI(title="zerograd", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.digit_model = _digit_model(checkpoint, digit_model)
    app.state.training = TrainingManager()
    for router in ROUTERS:
        app.include_router(router)
    # errors: one line, always JSON
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for error in INPUT_ERRORS:
        app.add_exception_handler(error, _input_error)
    app.add_exception_handler(TrainingBusyError, _busy_error)
    # guards, innermost first: headers on every response, then the Host check, then the body size limit
    app.middleware("http")(_security_headers)
    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(BodyLimit, limit=max_body_bytes)
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
