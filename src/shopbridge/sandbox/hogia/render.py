"""How the Hogia emulator writes its answers: JSON with exact amounts, pages and ProblemDetails."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from starlette.responses import Response

PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}
TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "An error occurred while processing your request.",
    503: "Service Unavailable",
}
PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    """A refusal that becomes a ProblemDetails body (RFC 7807)."""

    def __init__(self, status: int, detail: str = "", errors: Mapping[str, list[str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(detail or TITLES.get(status, ""))
        self.status = status
        self.detail = detail
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})


def dumps(value: Any) -> str:
    """JSON with Decimals written exactly as they are (never through a float)."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(key))}:{dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(payload), status_code=status, media_type="application/json", headers=dict(headers or {}))


def problem_payload(
    status: int, trace_id: str, detail: str = "", errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": PROBLEM_TYPES.get(status, PROBLEM_TYPES[500 if status >= 500 else 400]),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "traceId": trace_id,
    }
    if detail:
        payload["detail"] = detail
    if errors:
        payload["errors"] = dict(errors)
    return payload


def problem_response(problem: ApiProblem, trace_id: str) -> Response:
    body = json.dumps(problem_payload(problem.status, trace_id, problem.detail, problem.errors), ensure_ascii=False)
    return Response(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def page(items: list[dict[str, Any]], number: int, size: int) -> dict[str, Any]:
    """One page of a list: the envelope shape is the emulator's choice (see app docstring)."""
    start = (number - 1) * size
    return {"page": number, "pageSize": size, "totalItems": len(items), "items": items[start : start + size]}
