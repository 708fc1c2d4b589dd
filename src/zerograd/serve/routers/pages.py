"""The HTML pages: ``/``, ``/graph/{apple,apple-orange,expr,net}``, ``/digits``, ``/train``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from ..graphs import SHOPPING, expression_data, graph_data, graph_html
from ..inputs import expression_query, number_query
from ..netdata import net_html, net_page_data, net_page_digits
from ..pages import page

router = APIRouter(default_response_class=HTMLResponse)


@router.get("/")
def index() -> str:
    return page("zerograd in the browser", "index.html", (), served=True, here="/")


@router.get("/graph/{name}")
def graph_page(name: str, request: Request) -> str:
    if name == "net":
        return net_html(net_page_data(source=request.app.state.net_source), served=True)
    if name == "expr":
        text, values = expression_query(request)
        return graph_html(expression_data(text, values), served=True)
    if name not in SHOPPING:
        raise HTTPException(404)
    return graph_html(graph_data(name, number_query(request)), served=True)


@router.get("/digits")
def digits_page() -> str:
    # a test digit of each class, for drawing by keyboard (or for a first try): placed on the pad, then predicted
    examples = [{"label": d["label"], "pixels": d["pixels"]} for d in net_page_digits()]
    return page("Draw a digit", "digits.html", ("digits.js",), {"examples": examples}, served=True, here="/digits")


@router.get("/train")
def train_page() -> str:
    return page("Live training", "train.html", ("train.js",), served=True, here="/train")
