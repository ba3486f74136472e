"""CreationClaims: one worker at a time may create a given ERP entity (a new buyer's customer).

A claim is a row keyed by what is being created; it is taken by INSERT, or by taking over a
row whose lease has lapsed, both on the database's clock. Like the ledger, a claim announces
its write before sending it, so whoever takes over after a crash or a lost answer waits for the
ERP to settle and searches again before creating anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, update

from shopbridge.store.database import Database, database_now, insert_for
from shopbridge.store.tables import CreationClaimRow

_TABLE = CreationClaimRow.__table__
_C = _TABLE.c


@dataclass(frozen=True)
class CreationKey:
    connection_id: int
    system: str
    entity: str
    canonical_key: str

    def matches(self) -> ColumnElement[bool]:
        return and_(
            _C.connection_id == self.connection_id,
            _C.system == self.system,
            _C.entity == self.entity,
            _C.canonical_key == self.canonical_key,
        )


@dataclass(frozen=True)
class CreationClaim:
    key: CreationKey
    token: str
    claimed_at: datetime
    # Set when an earlier holder announced a create whose outcome nobody saw.
    write_started_at: datetime | None
    settle_until: datetime | None

    def write_not_before(self, write_window_seconds: float) -> datetime | None:
        if self.write_started_at is None:
            return None
        window_end = self.write_started_at + timedelta(seconds=write_window_seconds)
        return max(window_end, self.settle_until) if self.settle_until is not None else window_end


@dataclass(frozen=True)
class ClaimHeld:
    """Someone else holds the claim until `lease_until` (database time), seen at `now`."""

    lease_until: datetime
    now: datetime


class CreationClaims:
    def __init__(self, database: Database) -> None:
        self._db = database

    def claim(self, key: CreationKey, lease_seconds: float) -> CreationClaim | ClaimHeld:
        """Take the claim for `key`, or learn until when another worker holds it."""
        token = str(uuid.uuid4())
        with self._db.writing() as session:
            now = database_now(session)
            lease_until = now + timedelta(seconds=lease_seconds)
            fresh = {"claim_token": token, "lease_until": lease_until, "updated_at": now}
            insert = insert_for(session, _TABLE).values(
                connection_id=key.connection_id,
                system=key.system,
                entity=key.entity,
                canonical_key=key.canonical_key,
                write_started_at=None,
                settle_until=None,
                **fresh,
            )
            taken = session.execute(insert.on_conflict_do_nothing().returning(*_C)).first()
            if taken is None:
                takeover = update(_TABLE).where(key.matches(), _C.lease_until < now).values(**fresh)
                taken = session.execute(takeover.returning(*_C)).first()
            if taken is None:
                held = session.execute(_TABLE.select().where(key.matches())).first()
                return ClaimHeld(held.lease_until if held is not None else now, now)
        return CreationClaim(key, token, now, taken.write_started_at, taken.settle_until)

    def begin_write(self, claim: CreationClaim, lease_seconds: float) -> bool:
        """Announce the create before sending it; False (send nothing) once the claim is lost."""
        with self._db.writing() as session:
            now = database_now(session)
            statement = (
                update(_TABLE)
                .where(claim.key.matches(), _C.claim_token == claim.token)
                .values(write_started_at=now, lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
            )
            return session.execute(statement.returning(_C.claim_token)).first() is not None

    def write_in_doubt(self, claim: CreationClaim, settle_seconds: float) -> None:
        """The create's answer was lost: let the claim go, and make the next holder wait and search."""
        with self._db.writing() as session:
            now = database_now(session)
            statement = (
                update(_TABLE)
                .where(claim.key.matches(), _C.claim_token == claim.token)
                .values(settle_until=now + timedelta(seconds=settle_seconds), lease_until=now, updated_at=now)
            )
            session.execute(statement)

    def release(self, claim: CreationClaim) -> None:
        """The entity is bound (or surely not created): the claim is no longer needed."""
        with self._db.writing() as session:
            session.execute(delete(_TABLE).where(claim.key.matches(), _C.claim_token == claim.token))

    def give_back(self, claim: CreationClaim) -> None:
        """Let another worker take the claim now, keeping what is known about a doubtful write."""
        with self._db.writing() as session:
            now = database_now(session)
            lapsed = update(_TABLE).where(claim.key.matches(), _C.claim_token == claim.token)
            session.execute(lapsed.values(lease_until=now - timedelta(microseconds=1), updated_at=now))
