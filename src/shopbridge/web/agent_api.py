"""HTTPS long-polling API for on-premises agents (Mamut), with the store's job table as the truth.

Why long-polling rather than the agent as a Temporal worker: the merchant's server then needs
one outbound HTTPS connection and no Temporal client or port; ShopBridge checks the agent's
hashed per-connection token on every request; and the jobs table (unique per reference, leased,
answered at most once) already gives the durability and redelivery a home-made protocol lacks.
The connector writes jobs and reads results with the same token, so no store access leaks into
the connector layer.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from pydantic import BaseModel, Field

from shopbridge.store import AgentJob, Store
from shopbridge.store.database import utcnow

POLL_STEP_SECONDS = 0.1
MAX_WAIT_SECONDS = 25.0
QUIET_AFTER_SECONDS = 120.0
EXPORT_KINDS = ("orders", "customers", "products", "stock")


class JobRequest(BaseModel):
    reference: str = Field(min_length=1, max_length=255)
    kind: Literal["order", "customer", "product"]
    payload: str = Field(min_length=1, max_length=5_000_000)


class JobResult(BaseModel):
    state: Literal["done", "failed"]
    result: dict[str, Any] = {}
    error: str = Field(default="", max_length=10_000)


class ExportBody(BaseModel):
    body: str = Field(max_length=50_000_000)


def job_json(job: AgentJob) -> dict[str, Any]:
    data = asdict(job)
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in data.items()}


class AgentAuth:
    """The connection whose agent token the request carries as `Authorization: Bearer …`; 401 otherwise."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, authorization: Annotated[str, Header()] = "") -> str:
        scheme, _, token = authorization.partition(" ")
        connection = self.store.agents.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if connection is None:
            raise HTTPException(401, "unknown agent token", headers={"WWW-Authenticate": "Bearer"})
        return connection


def agent_router(store: Store) -> APIRouter:
    router = APIRouter()
    # A default rather than an annotation: route annotations are resolved in this module's globals.
    authenticated = Depends(AgentAuth(store))

    @router.get("/api/agent/self")
    def whoami(connection: str = authenticated) -> dict[str, str]:
        return {"connection": connection}

    @router.post("/api/agent/heartbeat", status_code=204)
    def heartbeat(info: dict[str, Any], connection: str = authenticated) -> Response:
        store.agents.report_health(connection, info)
        return Response(status_code=204)

    @router.get("/api/agent/jobs/next")
    async def next_job(
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 10.0,
        lease: Annotated[float, Query(ge=1, le=3600)] = 60.0,
        connection: str = authenticated,
    ) -> Response:
        deadline = time.monotonic() + wait
        while True:
            job = store.agents.lease_next(connection, lease)
            if job is not None:
                return _json(job_json(job))
            if time.monotonic() >= deadline:
                return Response(status_code=204)
            await asyncio.sleep(POLL_STEP_SECONDS)

    @router.post("/api/agent/jobs/{job_id}/result")
    def job_result(job_id: int, answer: JobResult, connection: str = authenticated) -> dict[str, Any]:
        job = store.agents.finish(connection, job_id, answer.state, answer.result, answer.error)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job_json(job)

    @router.post("/api/agent/jobs")
    def enqueue(request: JobRequest, connection: str = authenticated) -> dict[str, Any]:
        return job_json(store.agents.enqueue(connection, request.reference, request.kind, request.payload))

    @router.get("/api/agent/jobs")
    def job_by_reference(reference: str, connection: str = authenticated) -> dict[str, Any]:
        job = store.agents.job(connection, reference)
        if job is None:
            raise HTTPException(404, f"no job for {reference}")
        return job_json(job)

    @router.put("/api/agent/exports/{kind}", status_code=204)
    def put_export(kind: str, export: ExportBody, connection: str = authenticated) -> Response:
        if kind not in EXPORT_KINDS:
            raise HTTPException(404, f"unknown export {kind!r}; known: {', '.join(EXPORT_KINDS)}")
        store.agents.put_export(connection, kind, export.body)
        return Response(status_code=204)

    @router.get("/api/agent/exports/{kind}")
    def get_export(kind: str, connection: str = authenticated) -> dict[str, str]:
        found = store.agents.export(connection, kind)
        if found is None:
            raise HTTPException(404, f"the agent has sent no {kind} export yet")
        return {"body": found[0], "received_at": found[1].isoformat()}

    @router.get("/api/connections/{name}/agent")
    def agent_health(name: str) -> dict[str, Any]:
        """For operators: when the connection's agent was last heard, and whether it has gone quiet."""
        health = store.agents.health(name)
        if health is None:
            raise HTTPException(404, f"no agent token was issued for {name}")
        quiet = health.quiet_for(utcnow())
        return {"connection": name, "last_seen_at": health.last_seen_at.isoformat() if health.last_seen_at else None,
                "quiet_seconds": quiet, "quiet": quiet is None or quiet > QUIET_AFTER_SECONDS,
                "agent": health.agent_info}  # fmt: skip

    return router


@dataclass(frozen=True)
class AgentState:
    connection: str
    last_seen_at: datetime | None
    quiet: bool


def agent_states(store: Store) -> list[AgentState]:
    """Every connection's on-premises agent, for the operator's pages: heard lately, or quiet."""
    now, states = utcnow(), []
    for record in store.connections.list():
        health = store.agents.health(record.name)
        if health is not None:
            quiet = health.quiet_for(now)
            states.append(AgentState(record.name, health.last_seen_at, quiet is None or quiet > QUIET_AFTER_SECONDS))
    return states


def _json(data: dict[str, Any]) -> Response:
    return Response(json.dumps(data), media_type="application/json")
