"""``/api/graph/{name}``: the graph pages' data by query (GET) or JSON body (POST)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException

from ..graphs import SHOPPING, expression_data, graph_data
from ..inputs import RequestError, expression_query, json_object, net_args, number_query, only
from ..netdata import net_view_data

router = APIRouter(prefix="/api/graph")


@router.get("/{name}")
def graph_get(name: str, request: Request) -> dict[str, Any]:
    if name == "net":
        query = number_query(request)
        only(query, ("digit", "steps"))
        return net_view_data(*net_args(query))
    if name == "expr":
        return expression_data(*expression_query(request))
    if name not in SHOPPING:
        raise HTTPException(404)
    return graph_data(name, number_query(request))


@router.post("/{name}")
async def graph_post(name: str, request: Request) -> dict[str, Any]:
    body = await json_object(request)
    if name == "net":
        only(body, ("digit", "steps"))
        return net_view_data(*net_args(body))
    if name == "expr":
        only(body, ("expr", "values"))
        text = body.get("expr", "")
        if not isinstance(text, str):
            raise RequestError('expr must be a string, like "x*y + x"')
        return expression_data(text, body.get("values") or {})
    if name not in SHOPPING:
        raise HTTPException(404)
    only(body, ("values",))
    return graph_data(name, body.get("values") or {})
