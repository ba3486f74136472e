"""SecretBox round-trips credentials, hides them, and makes its key file once, privately."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from shopbridge.errors import ConfigError
from shopbridge.settings import Settings
from shopbridge.store.secrets import KEY_FILE_NAME, SecretBox, load_or_create_key_file

CREDENTIALS = {"api_key": "ws-0123456789abcdef", "grant_token": "grant-secret-value"}


def _settings(data_dir: Path, secret_key: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, database_url=None, secret_key=secret_key)


def test_encrypted_secrets_round_trip_and_hide_the_plain_values() -> None:
    box = SecretBox(Fernet.generate_key())
    token = box.encrypt(CREDENTIALS)
    assert box.decrypt(token) == CREDENTIALS
    for value in CREDENTIALS.values():
        assert value not in token


def test_decrypting_with_another_key_is_a_config_error() -> None:
    token = SecretBox(Fernet.generate_key()).encrypt(CREDENTIALS)
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox(Fernet.generate_key()).decrypt(token)


def test_a_malformed_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a Fernet key"):
        SecretBox(b"too-short")


def test_only_string_to_string_mappings_are_accepted() -> None:
    with pytest.raises(TypeError):
        SecretBox(Fernet.generate_key()).encrypt({"port": 443})  # type: ignore[dict-item]


def test_repr_does_not_reveal_the_key() -> None:
    key = Fernet.generate_key()
    assert key.decode() not in repr(SecretBox(key))


def test_key_file_is_generated_once_with_owner_only_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "new-data-dir"
    first = SecretBox.from_settings(_settings(data_dir))
    key_file = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    written = key_file.read_bytes()
    second = SecretBox.from_settings(_settings(data_dir))
    assert key_file.read_bytes() == written
    assert second.decrypt(first.encrypt(CREDENTIALS)) == CREDENTIALS


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: keys.append(load_or_create_key_file(tmp_path / "k")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert [path.name for path in tmp_path.iterdir()] == ["k"]


def test_configured_secret_key_wins_and_writes_no_key_file(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    box = SecretBox.from_settings(_settings(tmp_path, secret_key=key.decode()))
    assert SecretBox(key).decrypt(box.encrypt(CREDENTIALS)) == CREDENTIALS
    assert not (tmp_path / KEY_FILE_NAME).exists()
