"""CursorRepository: per-connection high-water marks that only ever move forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from shopbridge.store.database import Database, insert_for, require_aware, utcnow
from shopbridge.store.tables import CursorRow

_TABLE = CursorRow.__table__


class CursorRepository:
    """Named UTC cursors, e.g. the `updated_at` up to which a connection's orders were read."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, connection_id: int, name: str) -> datetime | None:
        query = select(_TABLE.c.value).where(
            (_TABLE.c.connection_id == connection_id) & (_TABLE.c.name == name)
        )
        with self._db.reading() as session:
            return session.execute(query).scalar_one_or_none()

    def advance(self, connection_id: int, name: str, value: datetime) -> datetime:
        """Store max(current, value) and return what is stored; naive datetimes are refused."""
        require_aware(value, f"cursor {name!r}")
        with self._db.writing() as session:
            insert = insert_for(session, _TABLE)
            # One statement, so two concurrent advances cannot move the cursor back.
            later = case(
                (insert.excluded.value > _TABLE.c.value, insert.excluded.value),
                else_=_TABLE.c.value,
            )
            statement = insert.values(
                connection_id=connection_id, name=name, value=value, updated_at=utcnow()
            ).on_conflict_do_update(
                index_elements=["connection_id", "name"],
                set_={"value": later, "updated_at": insert.excluded.updated_at},
            )
            stored: datetime = session.execute(statement.returning(_TABLE.c.value)).scalar_one()
            return stored
