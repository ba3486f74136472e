"""Response helpers every Starweb handler shares: the `{data}` envelope, error bodies, path ids, bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shopbridge.sandbox.starweb.query import ApiError
from shopbridge.sandbox.starweb.render import render_plain
from shopbridge.sandbox.starweb.state import Record, StarwebState

Handler = Callable[[StarwebState, Request], Awaitable[Response]]


def error_bytes(code: str, description: str) -> bytes:
    return json.dumps({"error": code, "error_description": description}).encode()


def error_response(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return Response(error_bytes(code, description), status, headers, media_type="application/json")


def data(payload: Any, status: int = 200, meta: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"data": payload}
    if meta is not None:
        body["meta"] = meta
    return JSONResponse(body, status)


def path_id(request: Request, name: str) -> int:
    """An integer path id; anything else names no record (404)."""
    raw = str(request.path_params[name])
    if not raw.isascii() or not raw.isdigit():
        raise ApiError(404, "not_found", f"{name} {raw[:20]!r} was not found")
    return int(raw)


def found(records: dict[Any, Record], key: Any, what: str) -> Record:
    if key not in records:
        raise ApiError(404, "not_found", f"{what} {str(key)[:40]} was not found")
    return records[key]


def listing(state: StarwebState, records: dict[Any, Record]) -> Response:
    return data([render_plain(state, record) for record in records.values()])


async def json_body(request: Request) -> Record:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "invalid_request", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object")
    return body
