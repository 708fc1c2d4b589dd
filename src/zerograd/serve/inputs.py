"""Reading what a request sends (its JSON body, its query), with one-line ``RequestError``s for what is malformed;
shared by the routers in ``serve.routers``."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request

__all__ = [
    "MAX_QUERY_VALUES",
    "RequestError",
    "expression_query",
    "json_object",
    "net_args",
    "number_query",
    "only",
    "parse_json",
]

MAX_QUERY_VALUES = 20


class RequestError(ValueError):
    """A malformed request (bad JSON, wrong content type); answered with 400 and this one line."""


def _reject_constant(name: str) -> Any:
    raise RequestError(f"{name} is not a number JSON allows; send finite numbers")


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise RequestError("the JSON is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        message = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8"
        raise RequestError(f"malformed JSON: {message}") from None


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise RequestError(f"the body must be a JSON object, got {type(data).__name__}")
    return data


def only(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            raise RequestError(f"unknown field {str(key)[:40]!r}; this API takes {', '.join(allowed)}")


def number_query(request: Request, exclude: tuple[str, ...] = ()) -> dict[str, float]:
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


def expression_query(request: Request) -> tuple[str, dict[str, float]]:
    from .graphs import DEFAULT_EXPRESSION

    text = request.query_params.get("expr", DEFAULT_EXPRESSION)
    return text, number_query(request, exclude=("expr",))


def net_args(source: dict[str, Any]) -> tuple[Any, Any]:
    from .netdata import digit_choices

    def integer(name: str, default: int) -> Any:
        value = source.get(name, default)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return integer("digit", digit_choices()[0]["index"]), integer("steps", 0)
