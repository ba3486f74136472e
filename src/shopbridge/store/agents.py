"""AgentRepository: tokens of on-premises agents, the jobs they import and the exports they send back.

    queued ──lease_next──▶ leased ──finish──▶ done | failed
       ▲                     │                        │
       └── lease runs out ───┘      enqueue again ◀───┘ (failed only: the fixed document)

A job is unique per (connection, reference), so asking twice for one document queues it once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, or_, select, update

from shopbridge.store.database import Database, insert_for, utcnow
from shopbridge.store.tables import AgentExportRow, AgentJobRow, AgentTokenRow

_TOKENS = AgentTokenRow.__table__
_JOBS = AgentJobRow.__table__
_EXPORTS = AgentExportRow.__table__
TOKEN_PREFIX = "sbagent_"


@dataclass(frozen=True)
class AgentJob:
    id: int
    connection: str
    reference: str
    kind: str
    payload: str
    state: str
    lease_until: datetime | None
    attempts: int
    result: dict[str, Any]
    error: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AgentHealth:
    connection: str
    issued_at: datetime
    last_seen_at: datetime | None
    agent_info: dict[str, Any]

    def quiet_for(self, now: datetime) -> float | None:
        """Seconds since the agent was last heard; None when it never was."""
        return None if self.last_seen_at is None else (now - self.last_seen_at).total_seconds()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgentRepository:
    """Every method is one short transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def issue_token(self, connection: str) -> str:
        """A new token for the connection's agent; any earlier one stops working. Only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        values = {"connection": connection, "token_hash": hash_token(token), "issued_at": utcnow(),
                  "last_seen_at": None, "agent_info": {}}  # fmt: skip
        with self._db.writing() as session:
            insert = insert_for(session, _TOKENS).values(**values)
            replace = {key: insert.excluded[key] for key in ("token_hash", "issued_at", "last_seen_at", "agent_info")}
            session.execute(insert.on_conflict_do_update(index_elements=["connection"], set_=replace))
        return token

    def authenticate(self, token: str) -> str | None:
        """The connection this token belongs to, marking the agent as heard from now."""
        statement = update(_TOKENS).where(_TOKENS.c.token_hash == hash_token(token)).values(last_seen_at=utcnow())
        with self._db.writing() as session:
            return session.execute(statement.returning(_TOKENS.c.connection)).scalar_one_or_none()

    def report_health(self, connection: str, info: dict[str, Any]) -> None:
        statement = update(_TOKENS).where(_TOKENS.c.connection == connection)
        with self._db.writing() as session:
            session.execute(statement.values(agent_info=info, last_seen_at=utcnow()))

    def health(self, connection: str) -> AgentHealth | None:
        query = select(_TOKENS.c.connection, _TOKENS.c.issued_at, _TOKENS.c.last_seen_at, _TOKENS.c.agent_info)
        with self._db.reading() as session:
            row = session.execute(query.where(_TOKENS.c.connection == connection)).first()
        return None if row is None else AgentHealth(**row._mapping)

    def enqueue(self, connection: str, reference: str, kind: str, payload: str) -> AgentJob:
        """Queue a document once per reference; a failed one is queued again with the new payload."""
        now = utcnow()
        values: dict[str, Any] = {"connection": connection, "reference": reference, "kind": kind, "payload": payload,
                  "state": "queued", "lease_until": None, "attempts": 0, "result": {}, "error": "",
                  "created_at": now, "updated_at": now}  # fmt: skip
        with self._db.writing() as session:
            session.execute(insert_for(session, _JOBS).values(**values).on_conflict_do_nothing())
            session.execute(
                update(_JOBS)
                .where(_JOBS.c.connection == connection, _JOBS.c.reference == reference, _JOBS.c.state == "failed")
                .values(state="queued", payload=payload, kind=kind, error="", result={}, updated_at=now)
            )
        job = self.job(connection, reference)
        assert job is not None  # inserted or already there, inside the transaction above
        return job

    def job(self, connection: str, reference: str) -> AgentJob | None:
        query = select(_JOBS).where(_JOBS.c.connection == connection, _JOBS.c.reference == reference)
        with self._db.reading() as session:
            row = session.execute(query).first()
        return None if row is None else _job(row)

    def lease_next(self, connection: str, lease_seconds: float) -> AgentJob | None:
        """The oldest job due (queued, or leased with a lapsed lease), leased to the caller."""
        now = utcnow()
        due = and_(
            _JOBS.c.connection == connection,
            or_(_JOBS.c.state == "queued", and_(_JOBS.c.state == "leased", _JOBS.c.lease_until < now)),
        )
        oldest = select(_JOBS.c.id).where(due).order_by(_JOBS.c.id).limit(1).scalar_subquery()
        statement = (
            update(_JOBS)
            .where(_JOBS.c.id == oldest, due)
            .values(state="leased", lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=_JOBS.c.attempts + 1, updated_at=now)  # fmt: skip
        )
        with self._db.writing() as session:
            row = session.execute(statement.returning(*_JOBS.c)).first()
        return None if row is None else _job(row)

    def finish(
        self, connection: str, job_id: int, state: str, result: dict[str, Any], error: str = ""
    ) -> AgentJob | None:
        """Record the agent's answer; an answer for a job already finished leaves it as it is."""
        if state not in ("done", "failed"):
            raise ValueError(f"a job finishes done or failed, not {state!r}")
        statement = (
            update(_JOBS)
            .where(_JOBS.c.connection == connection, _JOBS.c.id == job_id, _JOBS.c.state.in_(("queued", "leased")))
            .values(state=state, result=result, error=error, lease_until=None, updated_at=utcnow())
        )
        with self._db.writing() as session:
            session.execute(statement)
            row = session.execute(select(_JOBS).where(_JOBS.c.connection == connection, _JOBS.c.id == job_id)).first()
        return None if row is None else _job(row)

    def put_export(self, connection: str, kind: str, body: str) -> None:
        with self._db.writing() as session:
            insert = insert_for(session, _EXPORTS).values(connection=connection, kind=kind, body=body,
                                                          received_at=utcnow())  # fmt: skip
            replace = {"body": insert.excluded.body, "received_at": insert.excluded.received_at}
            session.execute(insert.on_conflict_do_update(index_elements=["connection", "kind"], set_=replace))

    def export(self, connection: str, kind: str) -> tuple[str, datetime] | None:
        """The newest export body of this kind and when it arrived."""
        query = select(_EXPORTS.c.body, _EXPORTS.c.received_at).where(
            _EXPORTS.c.connection == connection, _EXPORTS.c.kind == kind
        )
        with self._db.reading() as session:
            row = session.execute(query).first()
        return None if row is None else (row.body, row.received_at)


def _job(row: Row[Any]) -> AgentJob:
    return AgentJob(**row._mapping)
