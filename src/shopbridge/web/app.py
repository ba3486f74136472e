"""FastAPI application: order list for operators, JSON API, retry, login, and webhook receivers."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import Client

from shopbridge.engine.contracts import OrderRef
from shopbridge.engine.control import start_transfer
from shopbridge.errors import DataError
from shopbridge.flows.order_transfer import snapshot_of
from shopbridge.store import ConnectionRecord, Store, TransferRecord
from shopbridge.web import auth, webhooks
from shopbridge.web.agent_api import agent_router, agent_states

TEMPLATES = auth.TEMPLATES
STATES = ("pending", "in_progress", "transferred", "parked")
PAGE_SIZE = 200


def transfer_json(row: TransferRecord) -> dict[str, Any]:
    data = asdict(row)
    data.pop("order_json", None)
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in data.items()}


def create_app(store: Store, temporal: Client | None = None, task_queue: str = "shopbridge") -> FastAPI:
    app = FastAPI(title="ShopBridge", docs_url="/api/docs", openapi_url="/api/openapi.json")
    signer = auth.install(app, store)
    app.include_router(agent_router(store))

    def connection_id(name: str) -> int:
        try:
            return store.connections.get(name).id
        except LookupError:
            raise HTTPException(404, f"no connection named {name}") from None

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/orders")
    def list_orders(state: str | None = None, connection: str | None = None, offset: int = 0) -> list[dict[str, Any]]:
        if state is not None and state not in STATES:
            raise HTTPException(400, f"unknown state {state!r}; choose one of {', '.join(STATES)}")
        cid = connection_id(connection) if connection else None
        rows = store.ledger.list(connection_id=cid, state=state, limit=PAGE_SIZE, offset=max(0, offset))
        return [transfer_json(row) for row in rows]

    @app.get("/api/summary")
    def summary() -> dict[str, int]:
        counts = store.ledger.count_by_state()
        return {state: counts.get(state, 0) for state in STATES}

    @app.get("/api/orders/{transfer_id:path}")
    def order_detail(transfer_id: str) -> dict[str, Any]:
        row = store.ledger.get(transfer_id)
        if row is None:
            raise HTTPException(404, f"no transfer {transfer_id}")
        events = [asdict(event) for event in store.events.list(transfer_id=transfer_id)]
        return {"transfer": transfer_json(row), "order": snapshot_of(row), "events": events}

    @app.post("/api/orders/{transfer_id:path}/retry", status_code=202)
    async def retry_order(transfer_id: str) -> dict[str, Any]:
        row = store.ledger.get(transfer_id)
        if row is None:
            raise HTTPException(404, f"no transfer {transfer_id}")
        if row.state == "transferred":
            raise HTTPException(409, "already transferred")
        if row.state == "parked":
            row = store.ledger.release_for_retry(transfer_id)
        store.events.add(
            "order.retry", "retry requested by an operator", connection_id=row.connection_id, transfer_id=transfer_id
        )
        started = await _start(store.connections.by_id(row.connection_id).name, row.shop, row.order_id)
        return {"transfer_id": transfer_id, "state": row.state, "started": started}

    @app.post("/webhooks/{connection}/orders", status_code=202)
    async def order_webhook(connection: str, request: Request) -> dict[str, Any]:
        body = await _webhook_body(request)
        record = await _connection_or_none(connection)
        signed = webhooks.signature_ok(record, body, request.headers.get(webhooks.SIGNATURE_HEADER, ""))
        return await _accept_webhook(record if signed else None, body)

    @app.post("/webhooks/{connection}/{secret}/orders", status_code=202)
    async def order_webhook_by_path(connection: str, secret: str, request: Request) -> dict[str, Any]:
        record = await _connection_or_none(connection)
        known = webhooks.path_secret_ok(record, secret)
        return await _accept_webhook(record if known else None, await _webhook_body(request))

    async def _connection_or_none(name: str) -> ConnectionRecord | None:
        # In a thread: a webhook flood must not stall the event loop on store reads.
        try:
            return await asyncio.to_thread(store.connections.get, name)
        except LookupError:
            return None

    async def _webhook_body(request: Request) -> bytes:
        try:
            return await webhooks.read_body(request.stream())
        except webhooks.BodyTooLarge as exc:
            raise HTTPException(413, str(exc)) from None

    async def _accept_webhook(record: ConnectionRecord | None, body: bytes) -> dict[str, Any]:
        if record is None:
            raise HTTPException(401, "unknown connection or bad webhook secret")
        try:
            event = webhooks.reader_for(record.shop_system)(body, record.config.get("shop", {}))
        except ValidationError as exc:
            raise HTTPException(422, exc.errors(include_url=False, include_context=False)) from None
        except (ValueError, DataError) as exc:
            raise HTTPException(422, f"not an order event: {exc}") from None
        started = await _start(record.name, event.shop, event.id)
        return {"accepted": True, "started": started}

    async def _start(connection: str, shop: str, order_id: str) -> bool:
        if temporal is None:
            return False
        return await start_transfer(temporal, OrderRef(connection, shop, order_id), task_queue) is not None

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return auth.login_page(request, "", signer)

    @app.post("/login")
    async def login(request: Request) -> Response:
        fields = await auth.form_fields(request)
        if not auth.login_form_ok(request, fields, signer):
            return auth.login_page(request, "the login form expired or came from elsewhere; log in again", signer,
                                   status_code=403)  # fmt: skip
        if not store.tokens.verify(fields.get("token", "").strip()):
            return auth.login_page(request, "unknown or revoked token", signer, status_code=401)
        token = fields["token"].strip()
        response = RedirectResponse("/", status_code=303)
        cookie, _ = signer.issue(token)
        auth.set_session_cookie(response, request, cookie)
        response.delete_cookie(auth.LOGIN_FORM_COOKIE, path="/")
        return response

    @app.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
        return response

    @app.get("/", response_class=HTMLResponse)
    def orders_page(request: Request, state: str | None = None) -> HTMLResponse:
        rows = store.ledger.list(state=state if state in STATES else None, limit=PAGE_SIZE)
        counts = store.ledger.count_by_state()
        context = {"rows": rows, "counts": counts, "states": STATES, "selected": state, "agents": agent_states(store)}
        return TEMPLATES.TemplateResponse(request, "orders.html", context | auth.page_context(request))

    @app.get("/orders/{transfer_id:path}", response_class=HTMLResponse)
    def order_page(request: Request, transfer_id: str) -> HTMLResponse:
        row = store.ledger.get(transfer_id)
        if row is None:
            raise HTTPException(404, f"no transfer {transfer_id}")
        events = store.events.list(transfer_id=transfer_id)
        context = {"row": row, "order": snapshot_of(row), "events": events} | auth.page_context(request)
        return TEMPLATES.TemplateResponse(request, "order.html", context)

    return app
