"""The ``zerograd serve`` web application (FastAPI): the pages and the JSON API behind each.

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
by name from a fixed list, a checkpoint only from the command line), JSON numbers must be finite and fit a float,
pages allow no other origin (Content-Security-Policy), a request that may change something must come from the
server's own pages as JSON, and a server on a loopback address answers only to loopback host names (``guards``).
Large pictures are decoded one at a time (``imagegate``), so they never hold up a small one.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .digits import DigitModel, PredictInputError, load_digit_model
from .graphdata import GraphDataError
from .graphs import SHOPPING, GraphInputError, expression_data, graph_data, graph_html
from .guards import install_guards
from .imagegate import ImageGate
from .limits import BodyLimit
from .netdata import NetInputError, net_html, net_page_data, net_view_data
from .pages import CSP, page
from .training import TrainingBusyError, TrainingManager, TrainInputError, TrainSettings

__all__ = ["MAX_BODY_BYTES", "create_app"]

MAX_BODY_BYTES = 2 * 1024 * 1024  # a drawing's PNG is ~10 KB; a photo for /api/predict fits in 2 MB
MAX_QUERY_VALUES = 20
MAX_INT_DIGITS = 309  # the largest float has 309 digits
MAX_EVENT_ID_DIGITS = 12  # a run has far fewer events than 10**12
INPUT_ERRORS = (GraphInputError, GraphDataError, NetInputError, PredictInputError, TrainInputError)


class RequestError(ValueError):
    """A malformed request (bad JSON, wrong content type); answered with 400 and this one line."""


def create_app(checkpoint: str | None = None, digit_model: DigitModel | None = None,
               allowed_hosts: Iterable[str] | None = None, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The application. checkpoint: the net for ``/digits`` (else one is trained on the bundled sample at the
    first prediction, or pass ``digit_model``). allowed_hosts: answer only requests whose ``Host`` is one of
    these (``zerograd serve`` passes the loopback names when it binds a loopback address)."""
    app = FastAPI(title="zerograd", docs_url=None, redoc_url=None, openapi_url=None)
    training = TrainingManager()
    images = ImageGate()
    model_lock = threading.Lock()
    state: dict[str, Any] = {"model": digit_model}

    def model() -> DigitModel:
        with model_lock:  # the first request trains (or loads) it; the others wait for that one
            if state["model"] is None:
                state["model"] = load_digit_model(checkpoint)
            return state["model"]

    app.state.digit_model = model
    app.state.training = training

    # -- errors: one line, always JSON ----------------------------------------------------------------------

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: f"no page or API at {request.url.path[:80]}", 405: f"{request.method} is not allowed here"}
        return JSONResponse({"error": message.get(exc.status_code, str(exc.detail))}, status_code=exc.status_code)

    for error in (*INPUT_ERRORS, RequestError):
        app.add_exception_handler(error, _input_error)
    app.add_exception_handler(TrainingBusyError, _busy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Content-Security-Policy"] = CSP
        return response

    # -- pages ---------------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page("zerograd in the browser", "index.html", (), served=True, here="/")

    @app.get("/graph/{name}", response_class=HTMLResponse)
    def graph_page(name: str, request: Request) -> str:
        if name == "net":
            return net_html(net_page_data(), served=True)
        if name == "expr":
            text, values = _expression_query(request)
            return graph_html(expression_data(text, values), served=True)
        if name not in SHOPPING:
            raise StarletteHTTPException(404)
        return graph_html(graph_data(name, _number_query(request, exclude=())), served=True)

    @app.get("/digits", response_class=HTMLResponse)
    def digits_page() -> str:
        return page("Draw a digit", "digits.html", ("digits.js",), served=True, here="/digits")

    @app.get("/train", response_class=HTMLResponse)
    def train_page() -> str:
        return page("Live training", "train.html", ("train.js",), served=True, here="/train")

    # -- graph API -----------------------------------------------------------------------------------------

    @app.get("/api/graph/{name}")
    def graph_get(name: str, request: Request) -> dict[str, Any]:
        if name == "net":
            query = _number_query(request, exclude=())
            _only(query, ("digit", "steps"))
            return net_view_data(*_net_args(query))
        if name == "expr":
            return expression_data(*_expression_query(request))
        if name not in SHOPPING:
            raise StarletteHTTPException(404)
        return graph_data(name, _number_query(request, exclude=()))

    @app.post("/api/graph/{name}")
    async def graph_post(name: str, request: Request) -> dict[str, Any]:
        body = await _json_object(request)
        if name == "net":
            _only(body, ("digit", "steps"))
            return net_view_data(*_net_args(body))
        if name == "expr":
            _only(body, ("expr", "values"))
            text = body.get("expr", "")
            if not isinstance(text, str):
                raise RequestError("expr must be a string, like \"x*y + x\"")
            return expression_data(text, body.get("values") or {})
        if name not in SHOPPING:
            raise StarletteHTTPException(404)
        _only(body, ("values",))
        return graph_data(name, body.get("values") or {})

    # -- predict -------------------------------------------------------------------------------------------

    @app.post("/api/predict")
    async def predict(request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            body = await _json_object(request)
            _only(body, ("pixels",))
            if "pixels" not in body:
                raise RequestError('give {"pixels": [[...28 numbers...], ... 28 rows]}')
            result = await asyncio.to_thread(lambda: model().predict_pixels(body["pixels"]))
        elif kind.startswith("image/") or kind == "application/octet-stream":
            data = await request.body()
            if not data:
                raise RequestError("the request has no image: send PNG or JPEG bytes as the body")
            async with images.lane(data):  # a large picture waits for the others before it is decoded
                result = await asyncio.to_thread(lambda: model().predict_image(data))
        else:
            raise RequestError(f"send an image (Content-Type image/png) or JSON pixels (application/json), "
                               f"not {kind[:60] or 'no Content-Type'}")
        return result

    @app.get("/api/model")
    def model_info() -> dict[str, Any]:
        m = model()
        return {"source": m.source, "classes": m.classes}

    # -- training ------------------------------------------------------------------------------------------

    @app.post("/api/train")
    async def train_start(request: Request) -> dict[str, Any]:
        raw = await request.body()
        settings = TrainSettings.from_json(_parse_json(raw) if raw.strip() else None)
        run = training.start(settings)
        return {"run": run.id, "settings": settings.__dict__}

    @app.post("/api/train/stop")
    def train_stop() -> dict[str, Any]:
        run = training.stop()
        return {"run": run.id if run else None, "stopping": bool(run and not run.finished)}

    @app.get("/api/train")
    def train_status() -> dict[str, Any]:
        run = training.current
        if run is None:
            return {"run": None, "running": False, "events": []}
        return {"run": run.id, "running": not run.finished, "events": run.events_since(0)}

    @app.get("/api/train/events")
    async def train_events(request: Request) -> StreamingResponse:
        run = training.current
        since = _event_id(request.query_params.get("since", "0"), "since")
        last = request.headers.get("last-event-id")
        if last is not None:
            since = _event_id(last, "the Last-Event-ID header") + 1  # a reconnecting EventSource continues

        async def stream() -> Any:
            if run is None:
                yield "event: idle\ndata: {}\n\n"
                return
            sent = max(0, since)
            while True:
                finished = run.finished
                for event in run.events_since(sent):
                    yield f"id: {event['id']}\ndata: {json.dumps(event)}\n\n"
                    sent = event["id"] + 1
                if finished or await request.is_disconnected():
                    return
                await asyncio.sleep(0.1)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    app.add_middleware(BodyLimit, limit=max_body_bytes)
    install_guards(app, allowed_hosts)  # outermost: a refused request is not read at all
    return app


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}, status_code=400)


async def _busy_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=409)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first = errors[0] if errors else {}
    where = " ".join(str(part) for part in first.get("loc", ()))[:60]
    return JSONResponse({"error": f"{where}: {first.get('msg', 'not valid')}"[:200]}, status_code=400)


def _event_id(text: str, name: str) -> int:
    """An event number from a query or header: ASCII digits only (``"²".isdigit()`` is True), and few of them."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_EVENT_ID_DIGITS):
        raise RequestError(f"{name} must be an event number (0, 1, 2, ...), got {text[:20]!r}")
    return int(text)


def _reject_constant(name: str) -> Any:
    raise RequestError(f"{name} is not a number JSON allows; send finite numbers")


def _parse_int(text: str) -> int:
    # NOTE: a JSON integer is checked as text first: int() of > 4,300 digits raises ValueError (not a JSON error),
    # and one beyond float range (1e400 written out) would raise OverflowError wherever it becomes a float
    if len(text.lstrip("-")) > MAX_INT_DIGITS or abs(value := int(text)) > sys.float_info.max:
        raise RequestError(f"the number {text[:20]}... is out of range; JSON numbers here must fit a float")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RequestError(f"the number {text[:20]} is out of range; JSON numbers here must fit a float")
    return value


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float)
    except RecursionError:
        raise RequestError("the JSON is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        message = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8"
        raise RequestError(f"malformed JSON: {message}") from None


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = _parse_json(raw)
    if not isinstance(data, dict):
        raise RequestError(f"the body must be a JSON object, got {type(data).__name__}")
    return data


def _only(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            raise RequestError(f"unknown field {str(key)[:40]!r}; this API takes {', '.join(allowed)}")


def _number_query(request: Request, exclude: tuple[str, ...]) -> dict[str, float]:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in exclude]
    if len(params) > MAX_QUERY_VALUES:
        raise RequestError(f"at most {MAX_QUERY_VALUES} query parameters")
    values: dict[str, float] = {}
    for key, text in params:
        try:
            number = float(text)
        except ValueError:
            raise RequestError(f"{key[:40]!r} must be a number, got {text[:40]!r}") from None
        if not math.isfinite(number):
            raise RequestError(f"{key[:40]!r} must be a finite number, got {text[:40]!r}")
        values[key] = number
    return values


def _expression_query(request: Request) -> tuple[str, dict[str, float]]:
    from .graphs import DEFAULT_EXPRESSION

    text = request.query_params.get("expr", DEFAULT_EXPRESSION)
    return text, _number_query(request, exclude=("expr",))


def _net_args(source: dict[str, Any]) -> tuple[Any, Any]:
    from .netdata import digit_choices

    def integer(name: str, default: int) -> Any:
        value = source.get(name, default)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return integer("digit", digit_choices()[0]["index"]), integer("steps", 0)
