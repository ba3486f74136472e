"""SecretBox: Fernet encryption of connection credentials, with a key file made on first use."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets as random_tokens
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shopbridge.errors import ConfigError
from shopbridge.settings import Settings

KEY_FILE_NAME = "secret.key"
KEY_FILE_MODE = 0o600


class SecretBox:
    """Encrypts a connection's credentials (a flat str → str mapping) into one text token."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
            self._key = bytes(key)
        except (ValueError, TypeError) as error:
            raise ConfigError(
                "the secret key is not a Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`",
                system="store",
                operation="load secret key",
            ) from error

    def __repr__(self) -> str:
        return "SecretBox(key=***)"

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The configured key, else the data directory's key file, created once if missing."""
        if settings.secret_key:
            return cls(settings.secret_key.encode())
        return cls(load_or_create_key_file(settings.data_dir / KEY_FILE_NAME))

    def derive(self, purpose: str) -> bytes:
        """A key for `purpose` (e.g. signing session cookies), stable for as long as this key is."""
        return hmac.new(self._key, f"shopbridge:{purpose}".encode(), hashlib.sha256).digest()

    def encrypt(self, data: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(_checked(data), sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        try:
            plain = self._fernet.decrypt(token.encode())
        except InvalidToken as error:
            raise ConfigError(
                "stored secrets cannot be decrypted: the secret key differs from the one "
                "they were encrypted with",
                system="store",
                operation="decrypt secrets",
            ) from error
        return _checked(json.loads(plain))


def _checked(data: object) -> dict[str, str]:
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data.items()
    ):
        raise TypeError("secrets must be a mapping of strings to strings")
    return dict(data)


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key at `path`, or write a new one there readable by the owner only."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write under a private temporary name, then link into place: a concurrent process sees
    # either no key file or a complete one, and exactly one key ever wins.
    draft = path.with_name(f".{path.name}.{random_tokens.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key() + b"\n")
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
    return path.read_bytes().strip()
