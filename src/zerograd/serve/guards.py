"""Who may talk to the server: its own pages only.

Two ASGI middlewares, installed by ``create_app`` (``install_guards``) around every route:

- ``HostGuard``: a server bound to a loopback address (127.0.0.0/8, ``::1``, ``localhost``) answers only requests
  whose ``Host`` names a loopback address too, so a page of another site cannot reach it through DNS rebinding
  (``evil.example`` resolving to 127.0.0.1). IPv6 hosts come bracketed (``[::1]:8000``).
- ``OriginGuard``: a request that may change something (any method but GET, HEAD, OPTIONS) must come from the
  server's own pages: its ``Origin`` (or, without one, its ``Sec-Fetch-Site``) says so, and its body is
  ``application/json`` (``/api/predict`` also takes an image). A page of another origin can send a POST without
  asking the server first only with ``text/plain``, a form type or no type at all (a "simple" request), so those
  are refused; with any other type the browser asks first (a preflight) and this server never says yes.
  Clients that are not browsers (curl, Python) send neither ``Origin`` nor ``Sec-Fetch-Site`` and are let through:
  they are not the cross-site threat, and they can send any header anyway.

Every refusal is one line of JSON, ``{"error": ...}``, status 403 (origin, host) or 415 (content type).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .limits import send_error

__all__ = ["HostGuard", "OriginGuard", "install_guards", "is_loopback", "loopback_hosts"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# the bodies a page of another origin can send without a preflight (the Fetch standard's CORS-safelisted types)
SIMPLE_TYPES = frozenset({"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
# routes that take anything but JSON: path -> the other content types (prefixes) they accept
OTHER_BODY_TYPES = {"/api/predict": ("image/", "application/octet-stream")}
DEFAULT_PORTS = {"http": 80, "https": 443}

ASGIApp = Callable[..., Awaitable[None]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine only."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_hosts(bound: str) -> list[str]:
    """The ``Host`` names a server bound to the loopback address ``bound`` answers to."""
    names = ["localhost", "127.0.0.1", "::1"]
    host = bound.strip("[]").lower()
    return names if host in names else [*names, host]


def install_guards(app: Any, allowed_hosts: Iterable[str] | None) -> None:
    """Wrap ``app`` (FastAPI) in the guards: the origin check always, the host check when ``allowed_hosts``."""
    app.add_middleware(OriginGuard)
    if allowed_hosts is not None:
        app.add_middleware(HostGuard, allowed_hosts=list(allowed_hosts))


class HostGuard:
    """ASGI middleware: 403 unless the request's ``Host`` (port aside) is one of ``allowed_hosts``."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed = {h.strip("[]").lower() for h in allowed_hosts}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = _split_host(_header(scope, b"host"))[0]
            if host not in self.allowed:
                await send_error(
                    send,
                    403,
                    f"this server answers only to {', '.join(sorted(self.allowed))}, not to the host {host[:60]!r}",
                )
                return
        await self.app(scope, receive, send)


class OriginGuard:
    """ASGI middleware: a request that may change something comes from this server's own pages, as JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            refusal = _refusal(scope)
            if refusal is not None:
                await send_error(send, *refusal)
                return
        await self.app(scope, receive, send)


def _refusal(scope: dict[str, Any]) -> tuple[int, str] | None:
    """(status, message) when the request must be refused, else None."""
    origin = _header(scope, b"origin")
    site = _header(scope, b"sec-fetch-site").lower()
    if origin:
        if not _same_origin(origin, scope):
            return (
                403,
                f"requests from the origin {origin[:80]!r} are refused: only this server's own pages may send them",
            )
    elif site and site not in ("same-origin", "none"):
        return 403, f"a {site[:20]} request is refused: only this server's own pages may send it"
    if scope["method"] != "POST":  # PUT, DELETE, ...: a browser asks first (preflight), and no route takes them
        return None
    kind = _header(scope, b"content-type").split(";")[0].strip().lower()
    accepted = OTHER_BODY_TYPES.get(scope["path"], ())
    if kind != "application/json" and not any(kind.startswith(other) for other in accepted):
        wanted = " or ".join(("application/json", *(f"{t}*" if t.endswith("/") else t for t in accepted)))
        return 415, f"send the body as {wanted}, not {kind[:60] or 'without a Content-Type'}"
    return None


def _same_origin(origin: str, scope: dict[str, Any]) -> bool:
    """Whether ``Origin`` names the scheme, host and port this request was sent to (its ``Host``)."""
    if origin == "null":  # a sandboxed frame, a file:// page, a redirect across origins
        return False
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    scheme = scope.get("scheme", "http")
    host, port = _split_host(_header(scope, b"host"))
    return (
        parts.scheme == scheme and (parts.hostname or "") == host and origin_port == (port or DEFAULT_PORTS.get(scheme))
    )


def _split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header → (lower-case host without brackets, port or None); ``[::1]:8000`` → ("::1", 8000)."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    else:
        host, port_text = value, ""
    port = int(port_text) if port_text.isascii() and port_text.isdigit() and len(port_text) <= 5 else None
    return host, port


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""
