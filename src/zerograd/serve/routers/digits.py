"""``/api/predict`` (a drawn or uploaded digit) and ``/api/model``: the net behind ``/digits``, from
``request.app.state.digit_model()``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from ..inputs import RequestError, json_object, only

router = APIRouter(prefix="/api")


@router.post("/predict")
async def predict(request: Request) -> dict[str, Any]:
    model = request.app.state.digit_model
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        body = await json_object(request)
        only(body, ("pixels",))
        if "pixels" not in body:
            raise RequestError('give {"pixels": [[...28 numbers...], ... 28 rows]}')
        result: dict[str, Any] = await asyncio.to_thread(lambda: model().predict_pixels(body["pixels"]))
    elif kind.startswith("image/") or kind == "application/octet-stream":
        data = await request.body()
        if not data:
            raise RequestError("the request has no image: send PNG or JPEG bytes as the body")
        result = await asyncio.to_thread(lambda: model().predict_image(data))
    else:
        raise RequestError(
            f"send an image (Content-Type image/png) or JSON pixels (application/json), "
            f"not {kind[:60] or 'no Content-Type'}"
        )
    return result


@router.get("/model")
def model_info(request: Request) -> dict[str, Any]:
    m = request.app.state.digit_model()
    return {"source": m.source, "classes": m.classes}
