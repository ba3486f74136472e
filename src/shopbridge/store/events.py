"""EventLog: the append-only timeline an operator reads per connection and per transfer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select

from shopbridge.store.database import Database, utcnow
from shopbridge.store.tables import EventRow

_TABLE = EventRow.__table__
_C = _TABLE.c


@dataclass(frozen=True)
class Event:
    id: int
    connection_id: int | None
    transfer_id: str | None
    kind: str
    message: str
    data: dict[str, Any]
    created_at: datetime


class EventLog:
    """Appends events and lists them newest first."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        kind: str,
        message: str,
        *,
        connection_id: int | None = None,
        transfer_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        statement = insert(_TABLE).values(
            kind=kind,
            message=message,
            connection_id=connection_id,
            transfer_id=transfer_id,
            data=data or {},
            created_at=utcnow(),
        )
        with self._db.writing() as session:
            return _event(session.execute(statement.returning(*_C)).one())

    def list(
        self,
        *,
        connection_id: int | None = None,
        transfer_id: str | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """Events newest first (by insertion order), optionally for one connection or transfer."""
        query = select(_TABLE)
        if connection_id is not None:
            query = query.where(_C.connection_id == connection_id)
        if transfer_id is not None:
            query = query.where(_C.transfer_id == transfer_id)
        with self._db.reading() as session:
            rows = session.execute(query.order_by(_C.id.desc()).limit(limit))
            return [_event(row) for row in rows]


def _event(row: Row[*tuple[Any, ...]]) -> Event:
    return Event(**row._mapping)
