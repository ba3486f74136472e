"""TransferLedger: one row per shop order, moved between states by atomic conditional updates.

    pending ──claim──▶ in_progress ──mark_transferred──▶ transferred   (final)
       ▲                   │  │
       └─record_failure────┘  └──mark_parked──▶ parked ──release_for_retry──▶ pending

An in_progress row whose lease has run out counts as pending again, so a worker that died
mid-transfer never strands an order. Leases are stamped with the database's clock, never a
worker's. Each claim carries a fresh token, the fence: a lapsed attempt that wakes up cannot
record anything, because every transition it makes compares its token in the same statement.
A write to the ERP is announced (`begin_write`) before it is sent; while its outcome is
unknown the row keeps `write_started_at`, and the next attempt waits for the ERP to settle.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Update, and_, func, or_, select, true, update

from shopbridge.store.database import Database, database_now, insert_for, utcnow
from shopbridge.store.tables import ERROR_KINDS, TRANSFER_STATES, OrderTransferRow

_TABLE = OrderTransferRow.__table__
_C = _TABLE.c


# Ids per IN (...) list: well under SQLite's and PostgreSQL's bound-parameter limits.
_IN_CHUNK = 500


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
    claim_token: str | None
    write_started_at: datetime | None
    settle_until: datetime | None
    in_doubt: bool
    stray_documents: str | None


@dataclass(frozen=True)
class Admission:
    """An order to put in the ledger as pending, with the status that triggered it."""

    transfer_id: str
    shop: str
    order_id: str
    shop_status: str


@dataclass(frozen=True)
class TransferClaim:
    """One attempt's hold on a ledger row: its fence token and the database time of the claim."""

    record: TransferRecord
    token: str
    claimed_at: datetime

    @property
    def transfer_id(self) -> str:
        return self.record.transfer_id

    def write_not_before(self, write_window_seconds: float) -> datetime | None:
        """When a write whose outcome is unknown has surely settled in the ERP, if there was one."""
        started, settle = self.record.write_started_at, self.record.settle_until
        if started is None:
            return None
        window_end = started + timedelta(seconds=write_window_seconds)
        return max(window_end, settle) if settle is not None else window_end


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

    def known(self, transfer_ids: Sequence[str]) -> set[str]:
        """Those of `transfer_ids` that have a row: a page's worth in one read."""
        found: set[str] = set()
        with self._db.reading() as session:
            for start in range(0, len(transfer_ids), _IN_CHUNK):
                chunk = transfer_ids[start : start + _IN_CHUNK]
                found.update(session.scalars(select(_C.transfer_id).where(_C.transfer_id.in_(chunk))))
        return found

    def ensure_many(self, connection_id: int, admitted: Sequence[Admission]) -> None:
        """Insert a pending row for each admission that has none, in one transaction."""
        if not admitted:
            return
        rows = []
        for entry in admitted:
            values = _new_transfer(entry.transfer_id, connection_id, entry.shop, entry.order_id)
            rows.append({**values, "shop_status": entry.shop_status, "order_reference": ""})
        with self._db.writing() as session:
            session.execute(insert_for(session, _TABLE).on_conflict_do_nothing(), rows)

    def claim(self, transfer_id: str, lease_seconds: float) -> TransferClaim | None:
        """Take the row for one attempt, or None when it is leased, transferred or parked."""
        token = str(uuid.uuid4())
        with self._db.writing() as session:
            now = database_now(session)
            statement = (
                update(_TABLE)
                .where(_C.transfer_id == transfer_id, _claimable(now))
                .values(
                    state="in_progress",
                    claim_token=token,
                    lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=_C.attempts + 1,
                    updated_at=now,
                )
            )
            row = session.execute(statement.returning(*_C)).first()
        return None if row is None else TransferClaim(_record(row), token, now)

    def renew(self, claim: TransferClaim, lease_seconds: float) -> bool:
        """Extend the lease while the attempt still holds the row; False once it has lost it."""
        return self._fenced(claim, lease_seconds) is not None

    def begin_write(self, claim: TransferClaim, lease_seconds: float) -> bool:
        """Announce an ERP write before sending it; False (send nothing) once the row is lost."""
        return self._fenced(claim, lease_seconds, write_started_at=_DB_NOW) is not None

    def write_not_sent(self, claim: TransferClaim) -> None:
        """The announced write surely did not commit (refused, or never sent)."""
        self._fenced(claim, None, write_started_at=None, settle_until=None)

    def write_in_doubt(self, claim: TransferClaim, reason: str, settle_seconds: float) -> TransferRecord | None:
        """The write's answer was lost: hand the row back; nobody writes before it settles."""
        return self._fenced(
            claim,
            None,
            state="pending",
            last_error=reason,
            error_kind="transient",
            lease_until=None,
            claim_token=None,
            in_doubt=True,
            settle_until=_db_after(settle_seconds),
        )

    def mark_transferred(
        self, claim: TransferClaim, document_kind: str, document_number: str
    ) -> TransferRecord | None:
        """Record the ERP document; None when the attempt no longer holds the row."""
        return self._fenced(
            claim,
            None,
            state="transferred",
            document_kind=document_kind,
            document_number=document_number,
            lease_until=None,
            claim_token=None,
            write_started_at=None,
            settle_until=None,
            last_error=None,
            error_kind=None,
            transferred_at=_DB_NOW,
        )

    def mark_parked(self, transfer_id: str, reason: str, claim: TransferClaim | None = None) -> TransferRecord:
        """Set a row that cannot be transferred as it is aside; a transferred row stays put."""
        return self._transition(
            transfer_id,
            and_(_C.state != "transferred", _held_by(claim)),
            state="parked",
            last_error=reason,
            error_kind="data",
            lease_until=None,
            claim_token=None,
            updated_at=utcnow(),
        )

    def record_failure(
        self, transfer_id: str, error: str, error_kind: str, claim: TransferClaim | None = None
    ) -> TransferRecord:
        """Hand an attempt back for a later retry; only pending and in_progress rows change."""
        if error_kind not in ERROR_KINDS:
            raise ValueError(f"error_kind must be one of {ERROR_KINDS}, not {error_kind!r}")
        return self._transition(
            transfer_id,
            and_(_C.state.in_(("pending", "in_progress")), _held_by(claim)),
            state="pending",
            last_error=error,
            error_kind=error_kind,
            lease_until=None,
            claim_token=None,
            updated_at=utcnow(),
        )

    def record_strays(self, transfer_id: str, strays: str) -> TransferRecord:
        """What a check after a doubtful write found and could not remove (empty: all clear)."""
        return self._transition(
            transfer_id, true(), stray_documents=strays or None, in_doubt=False, updated_at=utcnow()
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
        with self._db.reading() as session:
            query = select(_TABLE).where(_C.connection_id == connection_id, _claimable(database_now(session)))
            rows = session.execute(query.order_by(_C.created_at, _C.transfer_id).limit(limit))
            return [_record(row) for row in rows]

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

    def _fenced(self, claim: TransferClaim, lease_seconds: float | None, **values: Any) -> TransferRecord | None:
        """Apply `values` only while the row still carries the claim's token, in one statement.

        `_DB_NOW` and `_db_after(...)` among the values are stamped with the database's clock."""
        with self._db.writing() as session:
            now = database_now(session)
            stamped = {name: _stamp(value, now) for name, value in values.items()}
            if lease_seconds is not None:
                stamped["lease_until"] = now + timedelta(seconds=lease_seconds)
            statement = (
                update(_TABLE)
                .where(_C.transfer_id == claim.transfer_id, _C.claim_token == claim.token)
                .values(updated_at=now, **stamped)
            )
            row = session.execute(statement.returning(*_C)).first()
            return None if row is None else _record(row)

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


@dataclass(frozen=True)
class _DbAfter:
    seconds: float


_DB_NOW = _DbAfter(0.0)


def _db_after(seconds: float) -> _DbAfter:
    return _DbAfter(seconds)


def _stamp(value: Any, now: datetime) -> Any:
    return now + timedelta(seconds=value.seconds) if isinstance(value, _DbAfter) else value


def _held_by(claim: TransferClaim | None) -> ColumnElement[bool]:
    """No fence for callers that never claimed (admission, operators); else the claim's token."""
    return true() if claim is None else _C.claim_token == claim.token


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
