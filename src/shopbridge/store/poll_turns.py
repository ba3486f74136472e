"""PollTurns: which worker polls a connection's shop now, and when the next round is due.

A round is taken as a turn: a lease on the connection's row, on the database's clock, taken only
once the round is due and nobody holds it. The holder renews the lease while it polls and, when
done, says when the next round is due and where it resumes. A worker that dies mid-round stops
renewing, and another takes the turn once the lease lapses. Every change after the take is
fenced by the turn's token, so a lapsed holder that wakes up changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from shopbridge.store.database import Database, database_now, insert_for
from shopbridge.store.tables import PollTurnRow

_TABLE = PollTurnRow.__table__
_C = _TABLE.c


@dataclass(frozen=True)
class PollTurn:
    connection_id: int
    token: str
    # Where this round starts reading, when the last one stopped at its bound; None: the cursor.
    resume_from: datetime | None


class PollTurns:
    def __init__(self, database: Database) -> None:
        self._db = database

    def due(self, connection_ids: Iterable[int]) -> list[int]:
        """Those of `connection_ids` whose round is due and free (one read, for a poller's tick)."""
        wanted = list(connection_ids)
        if not wanted:
            return []
        with self._db.reading() as session:
            now = database_now(session)
            rows = session.execute(select(_C.connection_id, _C.next_round_at, _C.lease_until)
                                   .where(_C.connection_id.in_(wanted))).all()  # fmt: skip
        waiting = {row.connection_id for row in rows if row.next_round_at > now or _held(row.lease_until, now)}
        return [connection_id for connection_id in wanted if connection_id not in waiting]

    def take(self, connection_id: int, lease_seconds: float) -> PollTurn | None:
        """The connection's turn, if its round is due and no live lease holds it; else None."""
        token = str(uuid.uuid4())
        with self._db.writing() as session:
            now = database_now(session)
            lease = {"holder_token": token, "lease_until": now + timedelta(seconds=lease_seconds), "updated_at": now}
            first = insert_for(session, _TABLE).values(connection_id=connection_id, next_round_at=now,
                                                        resume_from=None, **lease)  # fmt: skip
            taken = session.execute(first.on_conflict_do_nothing().returning(_C.resume_from)).first()
            if taken is None:
                free = or_(_C.lease_until.is_(None), _C.lease_until < now)
                takeover = update(_TABLE).where(_C.connection_id == connection_id, _C.next_round_at <= now, free)
                taken = session.execute(takeover.values(**lease).returning(_C.resume_from)).first()
        return PollTurn(connection_id, token, taken.resume_from) if taken is not None else None

    def renew(self, turn: PollTurn, lease_seconds: float) -> bool:
        """Keep the turn a while longer; False once it was lost (the lease lapsed and was taken)."""
        with self._db.writing() as session:
            now = database_now(session)
            statement = (
                update(_TABLE)
                .where(_fenced(turn))
                .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
            )
            return session.execute(statement.returning(_C.connection_id)).first() is not None

    def finish(self, turn: PollTurn, next_round_in: float, resume_from: datetime | None) -> bool:
        """Give the turn back: the next round is due `next_round_in` seconds from now (database
        time) and resumes at `resume_from`. False (nothing changed) once the turn was lost."""
        with self._db.writing() as session:
            now = database_now(session)
            statement = (
                update(_TABLE)
                .where(_fenced(turn))
                .values(
                    holder_token=None,
                    lease_until=None,
                    next_round_at=now + timedelta(seconds=max(0.0, next_round_in)),
                    resume_from=resume_from,
                    updated_at=now,
                )
            )
            return session.execute(statement.returning(_C.connection_id)).first() is not None


def _held(lease_until: datetime | None, now: datetime) -> bool:
    return lease_until is not None and lease_until >= now


def _fenced(turn: PollTurn) -> ColumnElement[bool]:
    return and_(_C.connection_id == turn.connection_id, _C.holder_token == turn.token)
