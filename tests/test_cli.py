"""The `shopbridge` command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from shopbridge.cli import app
from shopbridge.connection_file import apply_connection
from shopbridge.sandbox import prestashop
from shopbridge.sandbox.server import free_port
from shopbridge.settings import Settings
from shopbridge.store import Store
from tests.conftest import World

SHOPBRIDGE = str(Path(sys.executable).parent / "shopbridge")


@pytest.fixture
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SHOPBRIDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOPBRIDGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHOPBRIDGE_TEMPORAL_ADDRESS", raising=False)
    return {**os.environ}


def write_toml(path: Path, world: World) -> Path:
    erp = world.connection()["erp"]
    path.write_text(
        f"""
name = "acme"
[shop]
system = "prestashop"
url = "{world.shop.url}"
key = "env:ACME_SHOP_KEY"
[erp]
system = "economic"
url = "{erp['url']}"
app_secret_token = "{erp['app_secret_token']}"
agreement_grant_token = "env:ACME_GRANT"
[orders]
trigger_statuses = [2, 3]
document = "invoice"
""",
        encoding="utf-8",
    )
    return path


def test_connections_apply_reads_env_secrets_and_list_never_shows_them(
    world: World, data_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_SHOP_KEY", world.shop_state.api_key)
    monkeypatch.setenv("ACME_GRANT", world.erp_state.agreement_grant_token)
    runner = CliRunner()
    applied = runner.invoke(app, ["connections", "apply", str(write_toml(tmp_path / "acme.toml", world))])
    assert applied.exit_code == 0, applied.output
    listed = runner.invoke(app, ["connections", "list"])
    assert "acme" in listed.output and "prestashop" in listed.output
    assert world.shop_state.api_key not in listed.output
    with Store.open(Settings()) as store:
        assert store.connections.get("acme").secrets["shop.key"] == world.shop_state.api_key


def test_connections_apply_names_a_missing_env_secret(world: World, data_env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["connections", "apply", str(write_toml(tmp_path / "acme.toml", world))])
    assert result.exit_code == 1
    assert "ACME_SHOP_KEY" in result.output


def test_connections_apply_accepts_yaml(world: World, data_env: dict[str, str], tmp_path: Path) -> None:
    connection = world.connection(name="acme-yaml")
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(connection), encoding="utf-8")
    result = CliRunner().invoke(app, ["connections", "apply", str(path)])
    assert result.exit_code == 0, result.output
    assert "acme-yaml" in result.output


def test_sync_orders_transfers_pending_orders_now(
    world: World, data_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_SHOP_KEY", world.shop_state.api_key)
    monkeypatch.setenv("ACME_GRANT", world.erp_state.agreement_grant_token)
    runner = CliRunner()
    runner.invoke(app, ["connections", "apply", str(write_toml(tmp_path / "acme.toml", world))])
    paid = [prestashop.place_order(world.shop_state) for _ in range(3)]
    prestashop.place_order(world.shop_state, status=10)
    result = runner.invoke(app, ["sync", "orders", "acme"])
    assert result.exit_code == 0, result.output
    assert "transferred 3" in result.output
    assert all(world.documents(f"acme/1/{order_id}") for order_id in paid)


def test_sandbox_serve_prints_url_and_serves_seeded_data() -> None:
    port = free_port()
    command = [SHOPBRIDGE, "sandbox", "serve", "prestashop", "--port", str(port), "--seed", "3"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            first_line = process.stdout.readline() if process.stdout else ""
            assert f"http://127.0.0.1:{port}/api/" in first_line
            key = prestashop.DEMO_API_KEY
            response = _get_when_up(f"http://127.0.0.1:{port}/api/orders?output_format=JSON", auth=(key, ""))
            assert response.status_code == 200 and response.json()["orders"]
        finally:
            process.terminate()


@pytest.mark.long
@pytest.mark.parametrize(
    "pair",
    [[], ["--erp", "mamut"], ["--shop", "starweb", "--erp", "mamut"], ["--erp", "hogia"], ["--shop", "norce"]],
    ids=["prestashop-economic", "prestashop-mamut", "starweb-mamut", "prestashop-hogia", "jetshop-economic"],
)
def test_demo_once_places_orders_and_reports_no_duplicates(tmp_path: Path, pair: list[str]) -> None:
    env = {**os.environ, "SHOPBRIDGE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [SHOPBRIDGE, "demo", "--once", "--orders", "6", "--timeout", "120", *pair],
        capture_output=True, text=True, timeout=180, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["placed"] == 6
    assert summary["transferred"] + summary["parked"] == 6
    assert summary["duplicates"] == 0


def test_demo_names_the_pairs_it_knows() -> None:
    result = subprocess.run([SHOPBRIDGE, "demo", "--once", "--shop", "magento"], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 2 and "starweb" in result.stdout + result.stderr


def test_up_serves_the_web_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = _process_env(tmp_path, port)
    with subprocess.Popen([SHOPBRIDGE, "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            assert _get_when_up(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
            assert (tmp_path / "temporal.db").exists()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert not _temporal_running_for(tmp_path)


def _process_env(data_dir: Path, web_port: int, temporal_address: str | None = None) -> dict[str, str]:
    env = {**os.environ, "SHOPBRIDGE_DATA_DIR": str(data_dir), "SHOPBRIDGE_WEB_PORT": str(web_port)}
    env.pop("SHOPBRIDGE_TEMPORAL_ADDRESS", None)
    if temporal_address is not None:
        env["SHOPBRIDGE_TEMPORAL_ADDRESS"] = temporal_address
    return env


def _get_when_up(url: str, auth: tuple[str, str] | None = None, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, auth=auth, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _temporal_running_for(data_dir: Path) -> bool:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return str(data_dir / "temporal.db") in listing


def test_connections_resume_restarts_a_stopped_connection(world: World, data_env: dict[str, str]) -> None:
    with Store.open(Settings()) as store:
        apply_connection(store, world.connection(name="acme"))
        store.connections.set_status("acme", "config_error", "401 from e-conomic")
    result = CliRunner().invoke(app, ["connections", "resume", "acme"])
    assert result.exit_code == 0, result.output
    with Store.open(Settings()) as store:
        assert store.connections.get("acme").status == "ok"
    assert CliRunner().invoke(app, ["connections", "resume", "nobody"]).exit_code == 1


async def test_up_uses_the_configured_temporal_server_and_starts_none(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    env = _process_env(tmp_path, port, temporal_env.client.service_client.config.target_host)
    with subprocess.Popen([SHOPBRIDGE, "up"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            assert _get_when_up(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
            assert not (tmp_path / "temporal.db").exists()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()


async def test_worker_and_web_run_apart_against_one_temporal_server(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    env = _process_env(tmp_path, port, temporal_env.client.service_client.config.target_host)
    pipe = subprocess.PIPE
    with (
        open(tmp_path / "worker.err", "w") as worker_errors,
        subprocess.Popen([SHOPBRIDGE, "worker"], env=env, stdout=pipe, stderr=worker_errors, text=True) as worker,
        subprocess.Popen([SHOPBRIDGE, "web"], env=env, stdout=subprocess.DEVNULL) as web,
    ):
        try:
            assert "worker on queue shopbridge" in (worker.stdout.readline() if worker.stdout else "")
            assert _get_when_up(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
            for process in (worker, web):
                process.send_signal(signal.SIGINT)
                code = process.wait(timeout=30)
                assert code == 0, (tmp_path / "worker.err").read_text()
        finally:
            for process in (worker, web):
                if process.poll() is None:
                    process.kill()


def test_tokens_create_shows_the_token_once_and_list_and_revoke_by_name(data_env: dict[str, str]) -> None:
    created = CliRunner().invoke(app, ["tokens", "create", "alice"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    with Store.open(Settings()) as store:
        assert store.tokens.verify(token) == "alice"
    listed = CliRunner().invoke(app, ["tokens", "list"])
    assert "alice" in listed.output and token not in listed.output
    assert CliRunner().invoke(app, ["tokens", "revoke", "alice"]).exit_code == 0
    assert CliRunner().invoke(app, ["tokens", "revoke", "alice"]).exit_code == 1
    with Store.open(Settings()) as store:
        assert store.tokens.verify(token) is None


def test_connections_show_webhook_prints_the_secret_kept_across_re_apply(
    world: World, data_env: dict[str, str]
) -> None:
    with Store.open(Settings()) as store:
        secret = apply_connection(store, world.connection(name="acme")).secrets["webhook_secret"]
        assert apply_connection(store, world.connection(name="acme")).secrets["webhook_secret"] == secret
    shown = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["connections", "show-webhook", "acme"])
    assert shown.exit_code == 0, shown.output
    assert secret in shown.output and "/webhooks/acme/" in shown.output
