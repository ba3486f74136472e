"""The Starweb client's one wire method: Starweb's error bodies and odd answers become ShopBridge errors."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopbridge.connectors.starweb.client import StarwebClient
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError

TOKEN = {"access_token": "abc", "expires_in": 3600, "scope": ""}


def client_for(order_answer: Callable[[], Response], token_answer: Callable[[], Response] | None = None,
               ) -> StarwebClient:  # fmt: skip
    """A client over an app that answers the token and `GET /orders/1` as told."""

    async def token(request: Request) -> Response:
        return token_answer() if token_answer else JSONResponse(TOKEN)

    async def order(request: Request) -> Response:
        return order_answer()

    app = Starlette(routes=[Route("/api/v2/token", token, methods=["POST"]), Route("/api/v2/orders/1", order)])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return StarwebClient(http, "http://shop.test/api/v2", "client", "secret-value")


def error(status: int, code: str, description: str = "") -> Callable[[], Response]:
    return lambda: JSONResponse({"error": code, "error_description": description}, status)


@pytest.mark.parametrize(
    ("answer", "expected", "status"),
    [
        (error(404, "not_found", "Order not found"), DataError, 404),
        (error(400, "validation_failed", "bad"), DataError, 400),
        (error(403, "forbidden", "no access to orders"), ConfigError, 403),
        (error(500, "server_error"), TransientError, 500),
        (error(502, "bad_gateway"), TransientError, 502),
        (error(418, "Too Many Requests", "slow down"), TransientError, 418),
        (lambda: Response("<html>oops</html>", 200), DataError, 200),
        (lambda: JSONResponse({"rows": []}), DataError, None),
    ],
)
async def test_answers_map_to_errors(answer: Callable[[], Response], expected: type[ShopBridgeError],
                                     status: int | None) -> None:  # fmt: skip
    with pytest.raises(expected) as caught:
        await client_for(answer).get_order(1)
    assert type(caught.value) is expected and caught.value.status == status
    assert caught.value.system == "starweb"


async def test_the_rate_limit_body_waits_as_the_sdk_does() -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(error(429, "Too Many Requests", "1000 per minute")).get_order(1)
    assert caught.value.retry_after == 5.0


async def test_a_401_that_persists_after_a_new_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        await client_for(error(401, "invalid_token", "The access token provided is invalid")).get_order(1)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("token_answer", "expected"),
    [
        (error(400, "invalid_client", "The client credentials are invalid"), ConfigError),
        (error(404, "not_found"), ConfigError),
        (error(503, "unavailable"), TransientError),
        (lambda: JSONResponse({"access_token": "", "expires_in": 3600}), TransientError),
        (lambda: JSONResponse({"access_token": "x", "expires_in": "soon"}), TransientError),
    ],
)
async def test_token_failures(token_answer: Callable[[], Response], expected: type[ShopBridgeError]) -> None:
    with pytest.raises(expected) as caught:
        await client_for(lambda: JSONResponse({"data": {}}), token_answer).get_order(1)
    assert caught.value.operation == "token"


async def test_the_secret_and_token_are_blanked_from_error_bodies() -> None:
    leaky = error(400, "validation_failed", "echo secret-value and abc")
    with pytest.raises(DataError) as caught:
        await client_for(leaky).get_order(1)
    assert "secret-value" not in caught.value.message + caught.value.body_excerpt
    assert " abc" not in caught.value.message + caught.value.body_excerpt


async def test_a_refused_connection_is_transient() -> None:
    http = httpx.AsyncClient()
    client = StarwebClient(http, "http://127.0.0.1:9/api/v2", "client", "secret")
    with pytest.raises(TransientError):
        await client.get_order(1)
    await http.aclose()


async def test_a_non_http_url_is_a_config_error() -> None:
    http = httpx.AsyncClient()
    client = StarwebClient(http, "ftp://shop.test/api/v2", "client", "secret")
    with pytest.raises(ConfigError):
        await client.get_order(1)
    await http.aclose()
