"""Every route but /health needs an operator; webhooks need their connection's secret; CSRF guards POSTs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute

from shopbridge.store import Store
from shopbridge.web.app import create_app
from shopbridge.web.auth import CSRF_HEADER, SESSION_COOKIE
from shopbridge.web.webhooks import MAX_BODY_BYTES, SIGNATURE_HEADER, sign
from tests.conftest import World
from tests.web.conftest import Ledger

OPEN = {"/health", "/login"}


@pytest.fixture
async def anonymous(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://shopbridge") as client:
        yield client


def operator_routes(store: Store) -> list[tuple[str, str]]:
    """(method, concrete path) of every operator route the app declares."""
    found = []
    for route in create_app(store).routes:
        if not isinstance(route, APIRoute) or route.path in OPEN or route.path.startswith("/webhooks/"):
            continue
        path = re.sub(r"\{[^}]+\}", "acme/1/101", route.path)
        found.extend((method, path) for method in sorted(route.methods))
    return found


async def log_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """What a browser does: fetch the form (its token and cookie), then post it."""
    form = await client.get("/login")
    field = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert field is not None
    return await client.post("/login", data={"token": token, "csrf_token": field.group(1)})


async def test_a_login_posted_without_the_form_is_refused(
    anonymous: httpx.AsyncClient, store: Store, ledger: Ledger
) -> None:
    # Another site posting its own token would log the operator in as someone else (login CSRF).
    token = store.tokens.create("mallory")
    bare = await anonymous.post("/login", data={"token": token})
    assert bare.status_code == 403 and SESSION_COOKIE not in bare.headers.get("set-cookie", "")
    form = await anonymous.get("/login")
    field = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert field is not None
    forged = await anonymous.post("/login", data={"token": token, "csrf_token": field.group(1)[:-2] + "00"})
    assert forged.status_code == 403
    anonymous.cookies.clear()  # the form's value without its cookie: posted from another site
    elsewhere = await anonymous.post("/login", data={"token": token, "csrf_token": field.group(1)})
    assert elsewhere.status_code == 403 and (await anonymous.get("/")).status_code == 401


async def test_every_operator_route_refuses_a_missing_or_wrong_token(
    anonymous: httpx.AsyncClient, store: Store, ledger: Ledger
) -> None:
    routes = operator_routes(store)
    assert ("GET", "/api/orders") in routes and ("POST", "/api/orders/acme/1/101/retry") in routes
    for method, path in routes:
        assert (await anonymous.request(method, path)).status_code == 401, (method, path)
        wrong = {"Authorization": "Bearer sb_not-a-token"}
        assert (await anonymous.request(method, path, headers=wrong)).status_code == 401, (method, path)


async def test_health_needs_no_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/health")).status_code == 200


async def test_a_page_without_a_session_shows_the_login_form(anonymous: httpx.AsyncClient, ledger: Ledger) -> None:
    response = await anonymous.get("/")
    assert response.status_code == 401
    assert 'name="token"' in response.text


async def test_a_revoked_token_is_refused(anonymous: httpx.AsyncClient, store: Store, ledger: Ledger) -> None:
    token = store.tokens.create("gone")
    store.tokens.revoke("gone")
    assert (await anonymous.get("/api/summary", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_login_sets_a_strict_httponly_session_that_needs_csrf_for_posts(
    anonymous: httpx.AsyncClient, store: Store, ledger: Ledger
) -> None:
    token = store.tokens.create("alice")
    response = await log_in(anonymous, token)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
    page = await anonymous.get(f"/orders/{ledger.parked}")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    retry = f"/api/orders/{ledger.parked}/retry"
    assert (await anonymous.post(retry)).status_code == 403
    assert (await anonymous.post(retry, headers={CSRF_HEADER: "forged"})).status_code == 403
    assert store.ledger.get(ledger.parked).state == "parked"
    assert (await anonymous.post(retry, headers={CSRF_HEADER: csrf.group(1)})).status_code == 202


async def test_login_refuses_a_wrong_token(anonymous: httpx.AsyncClient, ledger: Ledger) -> None:
    response = await log_in(anonymous, "sb_wrong")
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_revoking_the_token_ends_its_sessions(anonymous: httpx.AsyncClient, store: Store, ledger: Ledger) -> None:
    await log_in(anonymous, store.tokens.create("alice"))
    assert (await anonymous.get("/")).status_code == 200
    store.tokens.revoke("alice")
    assert (await anonymous.get("/")).status_code == 401


async def test_a_forged_session_cookie_is_refused(anonymous: httpx.AsyncClient, ledger: Ledger) -> None:
    anonymous.cookies.set(SESSION_COOKIE, "eyJoIjogIngifQ==.00")
    assert (await anonymous.get("/api/summary")).status_code == 401


async def test_a_bad_webhook_signature_is_401_and_stores_nothing(
    anonymous: httpx.AsyncClient, store: Store, world: World, ledger: Ledger
) -> None:
    before = (store.ledger.count_by_state(), len(store.events.list()))
    body = b'{"id": "7"}'
    for header in ("", sign("wrong secret", body), "sha256=" + "0" * 64):
        url = f"/webhooks/{world.name}/orders"
        response = await anonymous.post(url, content=body, headers={SIGNATURE_HEADER: header})
        assert response.status_code == 401
    assert (store.ledger.count_by_state(), len(store.events.list())) == before


async def test_unknown_connection_and_bad_secret_answer_alike(
    anonymous: httpx.AsyncClient, world: World, ledger: Ledger
) -> None:
    body = b'{"id": "7"}'
    unknown = await anonymous.post("/webhooks/nobody/orders", content=body, headers={SIGNATURE_HEADER: "x"})
    bad = await anonymous.post(f"/webhooks/{world.name}/orders", content=body, headers={SIGNATURE_HEADER: "x"})
    assert (unknown.status_code, unknown.json()) == (bad.status_code, bad.json())


async def test_a_secret_path_segment_stands_in_for_a_signature(
    anonymous: httpx.AsyncClient, store: Store, world: World, ledger: Ledger
) -> None:
    secret = store.connections.get(world.name).secrets["webhook_secret"]
    good = await anonymous.post(f"/webhooks/{world.name}/{secret}/orders", json={"id": "7"})
    assert good.status_code == 202
    bad = await anonymous.post(f"/webhooks/{world.name}/{secret[:-1]}x/orders", json={"id": "7"})
    assert bad.status_code == 401


async def test_logout_needs_the_csrf_token_and_clears_the_session(
    anonymous: httpx.AsyncClient, store: Store, ledger: Ledger
) -> None:
    await log_in(anonymous, store.tokens.create("alice"))
    page = (await anonymous.get("/")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    assert (await anonymous.post("/logout", data={"csrf_token": "forged"})).status_code == 403
    assert (await anonymous.post("/logout", data={"csrf_token": csrf.group(1)})).status_code == 303
    assert (await anonymous.get("/")).status_code == 401


async def test_an_oversized_webhook_body_is_refused_unread(
    anonymous: httpx.AsyncClient, store: Store, world: World, ledger: Ledger
) -> None:
    body = b'{"id": "7", "pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    secret = store.connections.get(world.name).secrets["webhook_secret"]
    response = await anonymous.post(f"/webhooks/{world.name}/orders", content=body,
                                    headers={SIGNATURE_HEADER: sign(secret, body)})  # fmt: skip
    assert response.status_code == 413
