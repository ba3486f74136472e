"""ConnectionRepository: the configured shop ↔ ERP connections, credentials encrypted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopbridge.errors import ConfigError
from shopbridge.store.database import Database, insert_for, utcnow
from shopbridge.store.secrets import SecretBox
from shopbridge.store.tables import CONNECTION_STATUSES, ConnectionRow, TenantRow

DEFAULT_TENANT = "default"


class ConnectionNotFound(LookupError):
    """No connection has the requested name or id."""


@dataclass(frozen=True)
class ConnectionRecord:
    id: int
    name: str
    tenant: str
    shop_system: str
    erp_system: str
    config: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)
    enabled: bool
    status: str
    status_reason: str
    created_at: datetime
    updated_at: datetime


class ConnectionRepository:
    """Creates, reads and updates connections; secrets are decrypted only into records."""

    def __init__(self, database: Database, secret_box: SecretBox) -> None:
        self._db = database
        self._box = secret_box

    def apply(
        self,
        name: str,
        shop_system: str,
        erp_system: str,
        config: dict[str, Any],
        secrets: dict[str, str],
        tenant: str = DEFAULT_TENANT,
    ) -> ConnectionRecord:
        """Create the connection or update it in place.

        A changed config or secret clears a "config_error" status: the operator has acted, so
        the flow may try again.
        """
        values = {"shop_system": shop_system, "erp_system": erp_system, "config": config}
        try:
            return self._apply_once(name, tenant, values, secrets)
        except IntegrityError:
            # Another process created the same name or tenant in between; now it exists.
            return self._apply_once(name, tenant, values, secrets)

    def get(self, name: str) -> ConnectionRecord:
        with self._db.reading() as session:
            return self._one(session, _joined().where(ConnectionRow.name == name), name)

    def by_id(self, connection_id: int) -> ConnectionRecord:
        with self._db.reading() as session:
            query = _joined().where(ConnectionRow.id == connection_id)
            return self._one(session, query, f"#{connection_id}")

    def list(self) -> list[ConnectionRecord]:
        with self._db.reading() as session:
            rows = session.execute(_joined().order_by(ConnectionRow.name)).all()
            return [self._record(row, tenant) for row, tenant in rows]

    def set_status(self, name: str, status: str, reason: str = "") -> None:
        if status not in CONNECTION_STATUSES:
            raise ValueError(f"status must be one of {CONNECTION_STATUSES}, not {status!r}")
        self._update(name, status=status, status_reason=reason)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._update(name, enabled=enabled)

    def _update(self, name: str, **values: Any) -> None:
        statement = (
            update(ConnectionRow)
            .where(ConnectionRow.name == name)
            .values(**values, updated_at=utcnow())
        )
        with self._db.writing() as session:
            if session.execute(statement).rowcount == 0:  # type: ignore[attr-defined]
                raise ConnectionNotFound(f"no connection named {name!r}")

    def _apply_once(
        self, name: str, tenant: str, values: dict[str, Any], secrets: dict[str, str]
    ) -> ConnectionRecord:
        with self._db.writing() as session:
            tenant_id = _tenant_id(session, tenant)
            query = _joined().where(ConnectionRow.name == name).with_for_update()
            existing = session.execute(query).first()
            if existing is None:
                row = _new_row(name, tenant_id, values, self._box.encrypt(secrets))
                session.add(row)
            else:
                row = existing[0]
                self._change(row, tenant_id, values, secrets)
            session.flush()
            return self._record(row, tenant)

    def _change(
        self, row: ConnectionRow, tenant_id: int, values: dict[str, Any], secrets: dict[str, str]
    ) -> None:
        if row.config != values["config"] or self._stored_secrets_differ(row, secrets):
            row.status, row.status_reason = "ok", ""
            row.secrets = self._box.encrypt(secrets)
        for column, value in values.items():
            setattr(row, column, value)
        row.tenant_id = tenant_id
        row.updated_at = utcnow()

    def _stored_secrets_differ(self, row: ConnectionRow, secrets: dict[str, str]) -> bool:
        try:
            return self._box.decrypt(row.secrets) != secrets
        except ConfigError:
            # Encrypted under a lost or replaced key: applying fresh secrets is the repair.
            return True

    def _one(self, session: Session, query: Select[ConnectionRow, str], label: str) -> ConnectionRecord:
        found = session.execute(query).first()
        if found is None:
            raise ConnectionNotFound(f"no connection {label!r}")
        return self._record(found[0], found[1])

    def _record(self, row: ConnectionRow, tenant: str) -> ConnectionRecord:
        return ConnectionRecord(
            id=row.id,
            name=row.name,
            tenant=tenant,
            shop_system=row.shop_system,
            erp_system=row.erp_system,
            config=dict(row.config),
            secrets=self._box.decrypt(row.secrets),
            enabled=row.enabled,
            status=row.status,
            status_reason=row.status_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def _joined() -> Select[ConnectionRow, str]:
    return select(ConnectionRow, TenantRow.name).join(TenantRow)


def _tenant_id(session: Session, name: str) -> int:
    """The id of the named tenant, created on first mention."""
    query = select(TenantRow.id).where(TenantRow.name == name)
    found = session.execute(query).scalar_one_or_none()
    if found is not None:
        return found
    insert = insert_for(session, TenantRow.__table__)
    session.execute(insert.values(name=name, created_at=utcnow()).on_conflict_do_nothing())
    return session.execute(query).scalar_one()


def _new_row(name: str, tenant_id: int, values: dict[str, Any], secrets: str) -> ConnectionRow:
    now = utcnow()
    return ConnectionRow(
        name=name,
        tenant_id=tenant_id,
        secrets=secrets,
        enabled=True,
        status="ok",
        status_reason="",
        created_at=now,
        updated_at=now,
        **values,
    )
