"""Process-wide settings, read from SHOPBRIDGE_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBRIDGE_")

    data_dir: Path = Path(".shopbridge")
    database_url: str | None = None
    secret_key: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    task_queue: str = "shopbridge"
    web_host: str = "127.0.0.1"
    web_port: int = 8000

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shopbridge.db').resolve()}"
