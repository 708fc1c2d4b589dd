"""``/api/train``: start a run, stop it, read its events, or stream them (server-sent events) while it runs; the
runs are ``request.app.state.training``'s (a ``serve.training.TrainingManager``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ..inputs import parse_json
from ..training import TrainingManager, TrainingRun, TrainSettings

router = APIRouter(prefix="/api/train")


def _manager(request: Request) -> TrainingManager:
    manager: TrainingManager = request.app.state.training
    return manager


@router.post("")
async def train_start(request: Request) -> dict[str, Any]:
    raw = await request.body()
    settings = TrainSettings.from_json(parse_json(raw) if raw.strip() else None)
    run = _manager(request).start(settings)
    return {"run": run.id, "settings": settings.__dict__}


@router.post("/stop")
def train_stop(request: Request) -> dict[str, Any]:
    run = _manager(request).stop()
    return {"run": run.id if run else None, "stopping": bool(run and not run.finished)}


@router.get("")
def train_status(request: Request) -> dict[str, Any]:
    run = _manager(request).current
    if run is None:
        return {"run": None, "running": False, "events": []}
    return {"run": run.id, "running": not run.finished, "events": run.events_since(0)}


@router.get("/events")
async def train_events(request: Request, since: int = 0) -> StreamingResponse:
    last = request.headers.get("last-event-id")
    if last is not None and last.isdigit():
        since = int(last) + 1  # a reconnecting EventSource continues after what it has
    return StreamingResponse(
        _stream(request, _manager(request).current, since),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, run: TrainingRun | None, since: int) -> AsyncIterator[str]:
    """The run's events from ``since`` on, as they come, until it finishes or the client goes away."""
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
