"""``/watch`` and ``/api/watch``: a ``zerograd train`` run followed from its folder (``serve --watch RUN_DIR``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..inputs import RequestError
from ..pages import page

router = APIRouter()


@router.get("/watch", response_class=HTMLResponse)
def watch_page() -> str:
    return page("Watching a run", "watch.html", ("watch.js",), served=True, here="/watch")


@router.get("/api/watch")
def watch_state(request: Request) -> dict[str, Any]:
    watcher = request.app.state.watcher
    if watcher is None:
        raise RequestError("no run is watched: start the server with zerograd serve --watch RUN_DIR")
    snapshot: dict[str, Any] = watcher.snapshot()
    return snapshot
