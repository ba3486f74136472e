"""The store: ShopBridge's only door to SQL (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from shopbridge.settings import Settings
from shopbridge.store.agents import AgentHealth, AgentJob, AgentRepository
from shopbridge.store.bindings import Binding, BindingRepository
from shopbridge.store.claims import ClaimHeld, CreationClaim, CreationClaims, CreationKey
from shopbridge.store.connections import ConnectionNotFound, ConnectionRecord, ConnectionRepository
from shopbridge.store.cursors import CursorRepository
from shopbridge.store.database import Database, migrate
from shopbridge.store.events import Event, EventLog
from shopbridge.store.ledger import Admission, TransferClaim, TransferLedger, TransferNotFound, TransferRecord
from shopbridge.store.poll_turns import PollTurn, PollTurns
from shopbridge.store.secrets import SecretBox
from shopbridge.store.tokens import TokenRecord, TokenRepository


class Store:
    """All repositories over one database; each repository method is its own transaction."""

    def __init__(self, url: str, secrets: SecretBox) -> None:
        self.database = Database(url)
        self.connections = ConnectionRepository(self.database, secrets)
        self.bindings = BindingRepository(self.database)
        self.cursors = CursorRepository(self.database)
        self.ledger = TransferLedger(self.database)
        self.claims = CreationClaims(self.database)
        self.poll_turns = PollTurns(self.database)
        self.events = EventLog(self.database)
        self.tokens = TokenRepository(self.database)
        self.secrets = secrets
        self.agents = AgentRepository(self.database)

    @classmethod
    def open(cls, settings: Settings, migrate: bool = True) -> Store:
        """The store the settings describe, with the schema brought up to date by default."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = cls(settings.resolved_database_url(), SecretBox.from_settings(settings))
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        self.database.migrate()

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


__all__ = [
    "Admission",
    "AgentHealth",
    "AgentJob",
    "AgentRepository",
    "Binding",
    "BindingRepository",
    "ClaimHeld",
    "CreationClaim",
    "CreationClaims",
    "CreationKey",
    "ConnectionNotFound",
    "ConnectionRecord",
    "ConnectionRepository",
    "CursorRepository",
    "Event",
    "EventLog",
    "PollTurn",
    "PollTurns",
    "SecretBox",
    "Store",
    "TokenRecord",
    "TokenRepository",
    "TransferClaim",
    "TransferLedger",
    "TransferNotFound",
    "TransferRecord",
    "migrate",
]
