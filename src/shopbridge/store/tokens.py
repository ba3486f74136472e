"""TokenRepository: operator API tokens, stored as SHA-256 hashes and shown once at creation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from shopbridge.errors import ConfigError
from shopbridge.store.database import Database, utcnow
from shopbridge.store.tables import ApiTokenRow

_TABLE = ApiTokenRow.__table__
_C = _TABLE.c
TOKEN_PREFIX = "sb_"
NAME_MAX = 100


def token_hash(token: str) -> str:
    """The stored form of a token. A plain hash is enough: tokens carry 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    name: str
    created_at: datetime


class TokenRepository:
    """Creates, lists, revokes and verifies operator tokens."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def create(self, name: str) -> str:
        """A new token under `name`; the plain token is returned here and never again."""
        name = name.strip()
        if not name or len(name) > NAME_MAX:
            raise ConfigError(f"a token needs a name of 1 to {NAME_MAX} characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        statement = insert(_TABLE).values(name=name, token_hash=token_hash(token), created_at=utcnow())
        try:
            with self._db.writing() as session:
                session.execute(statement)
        except IntegrityError:
            raise ConfigError(f"a token named {name} exists; revoke it first") from None
        return token

    def list(self) -> list[TokenRecord]:
        with self._db.reading() as session:
            rows = session.execute(select(_C.name, _C.created_at).order_by(_C.name)).all()
        return [TokenRecord(row.name, row.created_at) for row in rows]

    def revoke(self, name: str) -> bool:
        """Remove the token; False if none has that name."""
        with self._db.writing() as session:
            removed: int = session.execute(delete(_TABLE).where(_C.name == name)).rowcount  # type: ignore[attr-defined]
        return removed > 0

    def name_for_hash(self, hashed: str) -> str | None:
        """The name of the live token with this hash (sessions keep the hash, not the token)."""
        with self._db.reading() as session:
            return session.execute(select(_C.name).where(_C.token_hash == hashed)).scalar_one_or_none()

    def verify(self, token: str) -> str | None:
        """The name of the token, or None if it is unknown or revoked."""
        return self.name_for_hash(token_hash(token)) if token else None
