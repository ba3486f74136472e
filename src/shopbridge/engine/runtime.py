"""`shopbridge up`: the Temporal dev server (unless an address is given), the worker and the web
server in one process tree, stopped cleanly when asked."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from temporalio.client import Client

from shopbridge.engine.control import ensure_poll_schedule
from shopbridge.engine.devserver import DevServer
from shopbridge.engine.worker import build_worker
from shopbridge.flows.connection import order_rules
from shopbridge.settings import Settings
from shopbridge.store import Store
from shopbridge.web.app import create_app


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling; the runtime owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Services:
    client: Client
    store: Store
    settings: Settings
    web_url: str


@asynccontextmanager
async def temporal_client(settings: Settings) -> AsyncIterator[Client]:
    """The configured Temporal server, or an embedded dev server started for this process."""
    if settings.temporal_address:
        yield await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
        return
    server = DevServer(settings.data_dir)
    try:
        yield await server.start()
    finally:
        server.stop()


async def schedule_polls(client: Client, store: Store, task_queue: str) -> None:
    for record in store.connections.list():
        if record.enabled:
            every = timedelta(seconds=order_rules(record).poll_interval_seconds)
            await ensure_poll_schedule(client, record.name, task_queue, every)


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_services(
    settings: Settings,
    stop: asyncio.Event,
    *,
    web: bool = True,
    worker: bool = True,
    on_ready: Callable[[Services], Awaitable[None]] | None = None,
) -> None:
    """Run until `stop` is set, then shut down web, worker and dev server in that order."""
    store = Store.open(settings)
    try:
        async with temporal_client(settings) as client:
            await schedule_polls(client, store, settings.task_queue)
            async with contextlib.AsyncExitStack() as stack:
                tasks: list[asyncio.Task[None]] = []
                if worker:
                    running = build_worker(client, store, settings.task_queue)
                    await stack.enter_async_context(running)
                web_url = ""
                if web:
                    server = _web_server(store, client, settings)
                    tasks.append(asyncio.create_task(server.serve()))
                    stack.callback(setattr, server, "should_exit", True)
                    web_url = f"http://{settings.web_host}:{settings.web_port}"
                if on_ready is not None:
                    await on_ready(Services(client, store, settings, web_url))
                await stop.wait()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        store.close()


def _web_server(store: Store, client: Client, settings: Settings) -> uvicorn.Server:
    app = create_app(store, client, settings.task_queue)
    config = uvicorn.Config(app, host=settings.web_host, port=settings.web_port, log_level="warning", lifespan="off")
    return _QuietServer(config)
