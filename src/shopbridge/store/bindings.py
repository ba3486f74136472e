"""BindingRepository: which remote record is which canonical entity, and what was last written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, select
from sqlalchemy.exc import IntegrityError

from shopbridge.errors import DataError
from shopbridge.store.database import Database, insert_for, utcnow
from shopbridge.store.tables import BindingRow

_TABLE = BindingRow.__table__
_COLUMNS = (
    _TABLE.c.connection_id,
    _TABLE.c.system,
    _TABLE.c.entity,
    _TABLE.c.external_id,
    _TABLE.c.canonical_key,
    _TABLE.c.content_hash,
    _TABLE.c.updated_at,
)


@dataclass(frozen=True)
class Binding:
    connection_id: int
    system: str
    entity: str
    external_id: str
    canonical_key: str
    content_hash: str
    updated_at: datetime


class BindingRepository:
    """Maps (connection, system, entity) external ids to canonical keys, one to one."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def by_canonical_key(
        self, connection_id: int, system: str, entity: str, canonical_key: str
    ) -> Binding | None:
        match = _scope(connection_id, system, entity) & (_TABLE.c.canonical_key == canonical_key)
        return self._find(match)

    def by_external_id(
        self, connection_id: int, system: str, entity: str, external_id: str
    ) -> Binding | None:
        match = _scope(connection_id, system, entity) & (_TABLE.c.external_id == external_id)
        return self._find(match)

    def put(
        self,
        connection_id: int,
        system: str,
        entity: str,
        external_id: str,
        canonical_key: str,
        content_hash: str = "",
    ) -> Binding:
        """Bind `canonical_key` to `external_id`, replacing the key's previous binding.

        Raises DataError when `external_id` is already bound to a different canonical key:
        two canonical records must never share one remote record.
        """
        key = {"connection_id": connection_id, "system": system, "entity": entity}
        changes = {"external_id": external_id, "content_hash": content_hash, "updated_at": utcnow()}
        try:
            return self._upsert(key, canonical_key, changes)
        except IntegrityError as error:
            holder = self.by_external_id(connection_id, system, entity, external_id)
            if holder is None or holder.canonical_key == canonical_key:
                raise
            raise DataError(
                f"{system} {entity} {external_id!r} is already bound to {holder.canonical_key!r}",
                system=system,
                operation="bind",
            ) from error

    def forget(self, connection_id: int, system: str, entity: str, canonical_key: str) -> None:
        """Drop the key's binding (its remote record is gone)."""
        match = _scope(connection_id, system, entity) & (_TABLE.c.canonical_key == canonical_key)
        with self._db.writing() as session:
            session.execute(delete(_TABLE).where(match))

    def unchanged(
        self, connection_id: int, system: str, entity: str, canonical_key: str, content_hash: str
    ) -> bool:
        """True when the last write for this key had exactly this content hash."""
        binding = self.by_canonical_key(connection_id, system, entity, canonical_key)
        return bool(content_hash) and binding is not None and binding.content_hash == content_hash

    def _upsert(
        self, key: dict[str, Any], canonical_key: str, changes: dict[str, Any]
    ) -> Binding:
        with self._db.writing() as session:
            statement = insert_for(session, _TABLE).values(
                **key, canonical_key=canonical_key, **changes
            )
            statement = statement.on_conflict_do_update(
                index_elements=[*key, "canonical_key"], set_=changes
            )
            return _binding(session.execute(statement.returning(*_COLUMNS)).one())

    def _find(self, match: ColumnElement[bool]) -> Binding | None:
        with self._db.reading() as session:
            row = session.execute(select(*_COLUMNS).where(match)).first()
            return None if row is None else _binding(row)


def _scope(connection_id: int, system: str, entity: str) -> ColumnElement[bool]:
    return and_(
        _TABLE.c.connection_id == connection_id,
        _TABLE.c.system == system,
        _TABLE.c.entity == entity,
    )


def _binding(row: Row[*tuple[Any, ...]]) -> Binding:
    return Binding(**row._mapping)
