"""`shopbridge agent token` and `shopbridge agent status`, run as an operator would."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopbridge.cli import app
from shopbridge.settings import Settings
from shopbridge.store import Store


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOPBRIDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOPBRIDGE_DATABASE_URL", raising=False)
    return tmp_path / "data"


@pytest.mark.usefixtures("data_dir")
def test_token_is_printed_once_and_only_its_hash_is_stored() -> None:
    issued = CliRunner().invoke(app, ["agent", "token", "acme"])
    token = issued.output.strip()
    assert issued.exit_code == 0 and token.startswith("sbagent_")
    with Store.open(Settings()) as store:
        assert store.agents.authenticate(token) == "acme"


@pytest.mark.usefixtures("data_dir")
def test_status_tells_a_silent_agent_from_a_live_one() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["agent", "status", "acme"]).exit_code == 1  # no token issued
    token = runner.invoke(app, ["agent", "token", "acme"]).output.strip()
    never = runner.invoke(app, ["agent", "status", "acme"])
    assert never.exit_code == 2 and "never heard from" in never.output
    with Store.open(Settings()) as store:
        store.agents.report_health("acme", {"version": "1"})
        assert store.agents.authenticate(token) == "acme"
    live = runner.invoke(app, ["agent", "status", "acme"])
    assert live.exit_code == 0 and "last heard" in live.output


def test_agent_help_names_its_commands() -> None:
    shown = CliRunner().invoke(app, ["agent", "--help"])
    assert shown.exit_code == 0 and all(name in shown.output for name in ("run", "token", "status"))
