"""TransferLedger: one row per shop order, moved between states by atomic conditional updates.

    pending ──claim──▶ in_progress ──mark_transferred──▶ transferred   (final)
       ▲                   │  │
       └─record_failure────┘  └──mark_parked──▶ parked ──release_for_retry──▶ pending

An in_progress row whose lease has run out counts as pending again, so a worker that died
mid-transfer never strands an order.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Update, and_, func, or_, select, true, update

from shopbridge.store.database import Database, insert_for, require_aware, utcnow
from shopbridge.store.tables import ERROR_KINDS, TRANSFER_STATES, OrderTransferRow

_TABLE = OrderTransferRow.__table__
_C = _TABLE.c


class TransferNotFound(LookupError):
    """No ledger row has the requested transfer id."""


@dataclass(frozen=True)
class TransferRecord:
    transfer_id: str
    connection_id: int
    shop: str
    order_id: str
    order_reference: str
    shop_status: str
    customer_email: str | None
    total_gross: str | None
    currency: str | None
    state: str
    document_kind: str | None
    document_number: str | None
    attempts: int
    last_error: str | None
    error_kind: str | None
    lease_until: datetime | None
    order_json: str | None
    created_at: datetime
    updated_at: datetime
    transferred_at: datetime | None


class TransferLedger:
    """The order ledger; every method is one short transaction."""

    # The method `list` shadows the builtin in this class body, hence `builtins.list` below.

    def __init__(self, database: Database) -> None:
        self._db = database

    def ensure(
        self,
        transfer_id: str,
        connection_id: int,
        shop: str,
        order_id: str,
        shop_status: str = "",
        order_reference: str = "",
    ) -> tuple[TransferRecord, bool]:
        """Insert a pending row unless one exists; returns (row, created)."""
        values = _new_transfer(transfer_id, connection_id, shop, order_id)
        values.update(shop_status=shop_status, order_reference=order_reference)
        with self._db.writing() as session:
            # ON CONFLICT DO NOTHING makes concurrent callers agree on one row without errors.
            insert = insert_for(session, _TABLE).values(**values).on_conflict_do_nothing()
            row = session.execute(insert.returning(*_C)).first()
            created = row is not None
            if row is None:
                row = session.execute(select(_TABLE).where(_C.transfer_id == transfer_id)).first()
        if row is None:
            raise ValueError(
                f"order {order_id!r} of shop {shop!r} is already in the ledger under another "
                f"transfer id than {transfer_id!r}"
            )
        return _record(row), created

    def claim(
        self, transfer_id: str, lease_seconds: float, now: datetime | None = None
    ) -> TransferRecord | None:
        """Take the row for one attempt, or None when it is leased, transferred or parked."""
        now = utcnow() if now is None else require_aware(now, "claim time")
        statement = (
            update(_TABLE)
            .where(_C.transfer_id == transfer_id, _claimable(now))
            .values(
                state="in_progress",
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=_C.attempts + 1,
                updated_at=now,
            )
        )
        return self._change(statement)

    def mark_transferred(
        self, transfer_id: str, document_kind: str, document_number: str
    ) -> TransferRecord:
        """Record the ERP document; from any state, because the document exists either way."""
        now = utcnow()
        return self._transition(
            transfer_id,
            _C.state != "transferred",
            state="transferred",
            document_kind=document_kind,
            document_number=document_number,
            lease_until=None,
            last_error=None,
            error_kind=None,
            transferred_at=now,
            updated_at=now,
        )

    def mark_parked(self, transfer_id: str, reason: str) -> TransferRecord:
        """Set a row that cannot be transferred as it is aside; a transferred row stays put."""
        return self._transition(
            transfer_id,
            _C.state != "transferred",
            state="parked",
            last_error=reason,
            error_kind="data",
            lease_until=None,
            updated_at=utcnow(),
        )

    def record_failure(self, transfer_id: str, error: str, error_kind: str) -> TransferRecord:
        """Hand an attempt back for a later retry; only pending and in_progress rows change."""
        if error_kind not in ERROR_KINDS:
            raise ValueError(f"error_kind must be one of {ERROR_KINDS}, not {error_kind!r}")
        return self._transition(
            transfer_id,
            _C.state.in_(("pending", "in_progress")),
            state="pending",
            last_error=error,
            error_kind=error_kind,
            lease_until=None,
            updated_at=utcnow(),
        )

    def release_for_retry(self, transfer_id: str) -> TransferRecord:
        """An operator's retry: parked → pending, keeping the last error for the record."""
        return self._transition(
            transfer_id, _C.state == "parked", state="pending", updated_at=utcnow()
        )

    def save_snapshot(
        self,
        transfer_id: str,
        *,
        order_json: str,
        customer_email: str,
        total_gross: str,
        currency: str,
        order_reference: str,
        shop_status: str,
    ) -> None:
        """Keep the canonical order and its headline facts for the operator's view."""
        self._transition(
            transfer_id,
            true(),
            order_json=order_json,
            customer_email=customer_email,
            total_gross=total_gross,
            currency=currency,
            order_reference=order_reference,
            shop_status=shop_status,
            updated_at=utcnow(),
        )

    def get(self, transfer_id: str) -> TransferRecord | None:
        with self._db.reading() as session:
            row = session.execute(select(_TABLE).where(_C.transfer_id == transfer_id)).first()
            return None if row is None else _record(row)

    def list(
        self,
        connection_id: int | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[TransferRecord]:
        """Rows newest first, optionally for one connection and one state."""
        query = select(_TABLE).where(*_filters(connection_id, state))
        query = query.order_by(_C.created_at.desc(), _C.transfer_id.desc())
        return self._rows(query.limit(limit).offset(offset))

    def pending(self, connection_id: int, limit: int = 1000) -> builtins.list[TransferRecord]:
        """Rows due an attempt (pending, or in_progress with a lapsed lease), oldest first."""
        query = select(_TABLE).where(_C.connection_id == connection_id, _claimable(utcnow()))
        return self._rows(query.order_by(_C.created_at, _C.transfer_id).limit(limit))

    def count_by_state(self, connection_id: int | None = None) -> dict[str, int]:
        """How many rows are in each state (every state present, zero if none)."""
        query = select(_C.state, func.count()).where(*_filters(connection_id, None))
        with self._db.reading() as session:
            counted = {state: count for state, count in session.execute(query.group_by(_C.state))}
        return {state: counted.get(state, 0) for state in TRANSFER_STATES}

    def _transition(
        self, transfer_id: str, allowed: ColumnElement[bool], **values: Any
    ) -> TransferRecord:
        """Apply `values` if `allowed` holds; otherwise return the row as it stands."""
        statement = update(_TABLE).where(_C.transfer_id == transfer_id, allowed).values(**values)
        changed = self._change(statement)
        if changed is not None:
            return changed
        current = self.get(transfer_id)
        if current is None:
            raise TransferNotFound(f"no transfer {transfer_id!r} in the ledger")
        return current

    def _change(self, statement: Update) -> TransferRecord | None:
        with self._db.writing() as session:
            row = session.execute(statement.returning(*_C)).first()
            return None if row is None else _record(row)

    def _rows(self, query: Select[*tuple[Any, ...]]) -> builtins.list[TransferRecord]:
        with self._db.reading() as session:
            return [_record(row) for row in session.execute(query)]


def _new_transfer(
    transfer_id: str, connection_id: int, shop: str, order_id: str
) -> dict[str, Any]:
    now = utcnow()
    return {
        "transfer_id": transfer_id,
        "connection_id": connection_id,
        "shop": shop,
        "order_id": order_id,
        "state": "pending",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _claimable(now: datetime) -> ColumnElement[bool]:
    lapsed = or_(_C.lease_until.is_(None), _C.lease_until < now)
    return or_(_C.state == "pending", and_(_C.state == "in_progress", lapsed))


def _filters(connection_id: int | None, state: str | None) -> list[ColumnElement[bool]]:
    if state is not None and state not in TRANSFER_STATES:
        raise ValueError(f"state must be one of {TRANSFER_STATES}, not {state!r}")
    filters = [] if connection_id is None else [_C.connection_id == connection_id]
    return filters if state is None else [*filters, _C.state == state]


def _record(row: Row[*tuple[Any, ...]]) -> TransferRecord:
    return TransferRecord(**row._mapping)
