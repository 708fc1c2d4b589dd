"""Whole HTML pages from the assets in ``static/``: each page is one self-contained file.

Stylesheet, scripts and the page's data are inlined, so a page saved to disk (``zerograd graph apple --html
apple.html``) works from ``file://`` with no server and no network, and the served pages are the same bytes. A
Content-Security-Policy in every page allows no requests to any other origin.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["NAV", "asset", "page"]

# The served pages, for the navigation bar (an exported page has none: it has nowhere to go)
NAV = (
    ("/graph/apple", "Apple graph"),
    ("/graph/apple-orange", "Apple & orange"),
    ("/graph/expr", "Your formula"),
    ("/graph/net", "A net's layers"),
    ("/digits", "Draw a digit"),
    ("/train", "Live training"),
    ("/watch", "Watch a run"),
)

# No other origin, ever: data: and blob: images for canvases, fetch and EventSource to this server alone.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)


@cache
def asset(name: str) -> str:
    """The text of ``static/<name>`` shipped inside the package."""
    return resources.files("zerograd.serve").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def page(
    title: str,
    body: str,
    scripts: tuple[str, ...],
    data: dict[str, Any] | None = None,
    served: bool = False,
    here: str = "",
) -> str:
    """A complete HTML document: ``body`` (a static file name), ``scripts`` (static file names) inlined after the
    page's JSON ``data`` (``<script type="application/json" id="page-data">``)."""
    nav = ""
    if served:
        links = " ".join(
            f'<a href="{href}"{" class=here" if href == here else ""}>{html.escape(text)}</a>' for href, text in NAV
        )
        nav = f"<nav>{links}</nav>"
    data_tag = ""
    if data is not None:
        # NOTE: "</" inside a <script> would end it early; JSON allows "<\/" for "</", so escape it.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        data_tag = f'<script type="application/json" id="page-data">{text}</script>\n'
    code = "\n".join(asset(name) for name in ("common.js", *scripts))
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{html.escape(title)} — zerograd</title>\n<style>\n{asset('style.css')}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1>{nav}</header>\n{asset(body)}\n{data_tag}"
        f"<script>\n{code}</script>\n</body>\n</html>\n"
    )
