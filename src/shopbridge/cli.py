"""The `shopbridge` command line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

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

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await run_services(settings, stop, web=web, worker=worker, on_ready=announce)

    asyncio.run(main())
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
    system: Annotated[str, typer.Argument(help="prestashop or economic")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 0,
    orders: Annotated[int, typer.Option(help="Orders to seed (shop emulators).")] = 5,
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
        emulator = build_emulator(system, seed=seed, orders=orders)
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
    port: Annotated[int, typer.Option(help="Web server port.")] = 8000,
    every: Annotated[float, typer.Option(help="Seconds between orders.")] = 3.0,
    timeout: Annotated[float, typer.Option(help="With --once: seconds to wait for all orders.")] = 300.0,
) -> None:
    """Emulators, a demo connection and live orders flowing through ShopBridge."""
    from shopbridge.demo import print_summary, run_live, run_once

    if not once:
        asyncio.run(run_live(seed, port, every, console))
        _leave(0)
    result = asyncio.run(run_once(orders, seed, timeout))
    print_summary(result)
    handled = result.get("transferred", 0) + result.get("parked", 0)
    ok = result.get("placed") == orders and handled == orders and result.get("duplicates", 1) == 0
    _leave(0 if ok else 1)
