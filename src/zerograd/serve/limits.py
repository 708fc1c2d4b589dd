"""Request size limits for the server, enforced before the application reads anything."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["BodyLimit", "send_error"]

log = logging.getLogger("zerograd.serve")


class BodyLimit:
    """ASGI middleware: a request whose body is larger than ``limit`` bytes gets 413, whether it says its length
    up front (``Content-Length``) or streams it in chunks (counted as they arrive, before the app sees them)."""

    def __init__(self, app: Callable[..., Awaitable[None]], limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_error(send, 400, "the Content-Length header is not a number")
                    return
                if declared > self.limit:
                    await send_error(send, 413, f"the request body is {declared} bytes; at most {self.limit}")
                    return
        # Read the whole body first (it is at most `limit` bytes), then hand it to the app as it arrived; later
        # receives (a streaming response waiting for the client to leave) go to the server as usual.
        messages: list[dict[str, Any]] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] == "http.disconnect":
                # the client left before its body was complete: nothing to answer, and not the app's error
                log.warning(
                    "zerograd serve: %s %s: the client disconnected after %d bytes of the body",
                    scope.get("method", "?"),
                    scope.get("path", "?")[:80],
                    received,
                )
                return
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                await send_error(send, 413, f"the request body is larger than {self.limit} bytes")
                return
            if not message.get("more_body", False):
                break

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def send_error(send: Callable[[dict[str, Any]], Awaitable[None]], status: int, message: str) -> None:
    """Answer with ``{"error": message}`` and ``status``, before the application sees the request."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
