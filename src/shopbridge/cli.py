"""The `shopbridge` command line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shopbridge.agent.main import agent_app
from shopbridge.errors import ShopBridgeError
from shopbridge.settings import Settings

app = typer.Typer(help="ShopBridge keeps web shops and ERP systems in step.", no_args_is_help=True)
connections_app = typer.Typer(help="Manage connections.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Emulators of the external APIs.", no_args_is_help=True)
sync_app = typer.Typer(help="Run a sync now.", no_args_is_help=True)
tokens_app = typer.Typer(help="Operator API tokens (Authorization: Bearer, and the web login).", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(connections_app, name="connections")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(sync_app, name="sync")
app.add_typer(agent_app, name="agent")
console = Console()


def _leave(code: int) -> None:
    """Exit once everything we started has stopped, without finalising the interpreter.

    Temporal's native runtime keeps threads that may call into Python while the interpreter
    finalises, which aborts the process (SIGABRT) after an otherwise clean shutdown.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=1)


DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233"


def _serve_until_stopped(settings: Settings, *, web: bool = True, worker: bool = True) -> None:
    """Run the chosen services until Ctrl-C or SIGTERM, then stop them cleanly."""
    from shopbridge.engine.runtime import Services, run_services, stop_on_signals

    async def announce(services: Services) -> None:
        where = f"web on {services.web_url}/" if services.web_url else f"worker on queue {settings.task_queue}"
        console.print(f"ShopBridge is up: {where}  (Ctrl-C stops it)")
        if services.web_url and not services.store.tokens.list():
            console.print("no operator token yet: create one with `shopbridge tokens create NAME` to log in")

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await run_services(settings, stop, web=web, worker=worker, on_ready=announce)

    _run_then_leave(main)


def _run_then_leave(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `main`, then leave: 0 when it returned, 1 with the reason when it failed."""
    try:
        asyncio.run(main())
    except ShopBridgeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        _leave(1)
    except BaseException:
        console.print_exception()
        _leave(1)
    _leave(0)


def _settings(port: int = 0, host: str = "", queue: str = "", external_temporal: bool = False) -> Settings:
    settings = Settings()
    settings.web_port = port or settings.web_port
    settings.web_host = host or settings.web_host
    settings.task_queue = queue or settings.task_queue
    if external_temporal:
        settings.temporal_address = settings.temporal_address or DEFAULT_TEMPORAL_ADDRESS
    return settings


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Web server port.")] = 0,
    host: Annotated[str, typer.Option(help="Web server address.")] = "",
) -> None:
    """Start the Temporal dev server (unless SHOPBRIDGE_TEMPORAL_ADDRESS is set), the worker and the web server."""
    _serve_until_stopped(_settings(port, host))


@app.command()
def worker(queue: Annotated[str, typer.Option(help="Task queue to serve.")] = "") -> None:
    """Run a worker against SHOPBRIDGE_TEMPORAL_ADDRESS (default 127.0.0.1:7233)."""
    _serve_until_stopped(_settings(queue=queue, external_temporal=True), web=False)


@app.command()
def web(
    port: Annotated[int, typer.Option(help="Web server port.")] = 0,
    host: Annotated[str, typer.Option(help="Web server address.")] = "",
) -> None:
    """Run the web server alone, starting workflows on SHOPBRIDGE_TEMPORAL_ADDRESS."""
    _serve_until_stopped(_settings(port, host, external_temporal=True), worker=False)


@connections_app.command("apply")
def connections_apply(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Create or replace a connection from a TOML or YAML file (secrets may be `env:NAME`)."""
    from shopbridge.connection_file import apply_connection, read_connection_file
    from shopbridge.store import Store

    store = Store.open(Settings())
    try:
        record = apply_connection(store, read_connection_file(file))
    except ShopBridgeError as exc:
        raise _fail(exc) from exc
    finally:
        store.close()
    console.print(f"connection [bold]{record.name}[/bold]: {record.shop_system} → {record.erp_system}")
    console.print("running workers poll it from their next tick (within a second)")


@connections_app.command("disable")
def connections_disable(name: str) -> None:
    """Stop polling a connection (its webhooks are refused by the flow until it is enabled)."""
    _set_enabled(name, False)


@connections_app.command("enable")
def connections_enable(name: str) -> None:
    """Poll a disabled connection again."""
    _set_enabled(name, True)


def _set_enabled(name: str, enabled: bool) -> None:
    from shopbridge.store import Store

    with Store.open(Settings()) as store:
        try:
            store.connections.set_enabled(name, enabled)
        except LookupError as exc:
            raise _fail(exc) from exc
    console.print(f"connection [bold]{name}[/bold] {'enabled' if enabled else 'disabled'}")


@connections_app.command("list")
def connections_list() -> None:
    """List connections (secrets are never shown)."""
    from shopbridge.store import Store

    store = Store.open(Settings())
    try:
        records = store.connections.list()
        table = Table("name", "shop", "erp", "status", "orders")
        for record in records:
            counts = store.ledger.count_by_state(record.id)
            figures = ", ".join(f"{state} {count}" for state, count in sorted(counts.items()))
            status = record.status + (f": {record.status_reason}" if record.status_reason else "")
            table.add_row(record.name, record.shop_system, record.erp_system, status, figures)
    finally:
        store.close()
    console.print(table)


@connections_app.command("resume")
def connections_resume(name: str) -> None:
    """Resume a connection stopped by a configuration error, once the cause is fixed."""
    from shopbridge.store import Store

    with Store.open(Settings()) as store:
        try:
            store.connections.set_status(name, "ok")
        except LookupError as exc:
            raise _fail(exc) from exc
    console.print(f"connection [bold]{name}[/bold] resumed")


@connections_app.command("show-webhook")
def connections_show_webhook(name: str) -> None:
    """Print the webhook URLs and secret to give the merchant's shop module."""
    from shopbridge.connection_file import WEBHOOK_SECRET_KEY
    from shopbridge.store import Store

    settings = Settings()
    with Store.open(settings) as store:
        try:
            secret = store.connections.get(name).secrets.get(WEBHOOK_SECRET_KEY, "")
        except LookupError as exc:
            raise _fail(exc) from exc
    base = f"http://{settings.web_host}:{settings.web_port}/webhooks/{name}"
    console.print(f"signed:   POST {base}/orders  (X-ShopBridge-Signature: sha256=<HMAC-SHA256 of the body>)")
    console.print(f"unsigned: POST {base}/{secret}/orders")
    console.print(f"secret:   {secret}")


@tokens_app.command("create")
def tokens_create(name: str) -> None:
    """Create an API token; it is shown once and stored only as a hash."""
    from shopbridge.store import Store

    with Store.open(Settings()) as store:
        try:
            token = store.tokens.create(name)
        except ShopBridgeError as exc:
            raise _fail(exc) from exc
    console.print(f"token [bold]{name}[/bold] (shown once; keep it safe):")
    print(token, flush=True)


@tokens_app.command("list")
def tokens_list() -> None:
    """List token names (tokens themselves are never shown again)."""
    from shopbridge.store import Store

    with Store.open(Settings()) as store:
        records = store.tokens.list()
    table = Table("name", "created (UTC)")
    for record in records:
        table.add_row(record.name, record.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: str) -> None:
    """Revoke a token; its web sessions end with it."""
    from shopbridge.store import Store

    with Store.open(Settings()) as store:
        if not store.tokens.revoke(name):
            raise _fail(LookupError(f"no token named {name}"))
    console.print(f"token [bold]{name}[/bold] revoked")


@sync_app.command("orders")
def sync_orders(connection: str) -> None:
    """Poll the shop once and transfer every pending order now, in this process."""
    from shopbridge.flows.manual import sync_orders_now
    from shopbridge.store import Store

    store = Store.open(Settings())
    try:
        with Progress(console=console) as progress:
            task = progress.add_task("orders", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = asyncio.run(sync_orders_now(store, connection, advance))
    except (ShopBridgeError, LookupError) as exc:
        raise _fail(exc) from exc
    finally:
        store.close()
    console.print(
        f"seen {report.seen} · transferred {report.transferred} · parked {report.parked} · "
        f"still pending {report.pending}"
    )
    for line in report.problems:
        console.print(f"  [yellow]{line}[/yellow]")


@sandbox_app.command("serve")
def sandbox_serve(
    system: Annotated[str, typer.Argument(help="prestashop, norce or economic")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 0,
    orders: Annotated[int, typer.Option(help="Orders to seed (shop emulators).")] = 5,
    rate_limit: Annotated[
        bool, typer.Option("--rate-limit", help="Answer 429 beyond the system's published (or chosen) limit.")
    ] = False,
    directory: Annotated[Path | None, typer.Option("--dir", help="mamut: the company folder to watch.")] = None,
) -> None:
    """Serve one emulator on loopback with seeded data (mamut: watch --dir); prints where and its credentials."""
    import uvicorn

    from shopbridge.sandbox.registry import build_emulator, build_folder_emulator
    from shopbridge.sandbox.server import free_port

    if directory is not None:
        try:
            runner = build_folder_emulator(system, directory, seed=seed)
        except LookupError as exc:
            raise _fail(exc) from exc
        console.print(f"{system} emulator watching {directory / 'import'}; exports in {directory / 'export'}")
        with contextlib.suppress(KeyboardInterrupt):
            runner.serve_forever()
        return
    try:
        emulator = build_emulator(system, seed=seed, orders=orders, rate_limit=rate_limit)
    except LookupError as exc:
        raise _fail(exc) from exc
    port = port or free_port()
    console.print(f"{system} emulator on http://127.0.0.1:{port}{emulator.path}")
    for name, value in emulator.credentials.items():
        console.print(f"  {name}: {value}")
    uvicorn.run(emulator.app, host="127.0.0.1", port=port, log_level="warning")


@app.command()
def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Place --orders orders, wait, print a JSON summary, exit.")
    ] = False,
    orders: Annotated[int, typer.Option(help="Orders to place with --once.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    port: Annotated[int, typer.Option(help="Web server port (default SHOPBRIDGE_WEB_PORT, else 8000).")] = 0,
    every: Annotated[float, typer.Option(help="Seconds between orders.")] = 3.0,
    timeout: Annotated[float, typer.Option(help="With --once: seconds to wait for all orders.")] = 300.0,
    shop: Annotated[str, typer.Option(help="The emulated shop: prestashop, starweb or norce.")] = "prestashop",
    erp: Annotated[str, typer.Option(help="The emulated ERP: economic, hogia or mamut (with its agent).")] = "economic",
) -> None:
    """Emulators, a demo connection and live orders flowing through ShopBridge."""
    from shopbridge.demo import print_summary, run_live, run_once
    from shopbridge.demo_systems import DEMO_ERPS, DEMO_SHOPS

    if shop not in DEMO_SHOPS or erp not in DEMO_ERPS:
        console.print(f"[red]choose --shop from {', '.join(DEMO_SHOPS)} and --erp from {', '.join(DEMO_ERPS)}[/red]")
        _leave(2)
    if not once:
        _run_then_leave(lambda: run_live(seed, port or Settings().web_port, every, console, shop, erp))
    result = asyncio.run(run_once(orders, seed, timeout, shop, erp))
    print_summary(result)
    handled = result.get("transferred", 0) + result.get("parked", 0)
    ok = result.get("placed") == orders and handled == orders and result.get("duplicates", 1) == 0
    _leave(0 if ok else 1)
