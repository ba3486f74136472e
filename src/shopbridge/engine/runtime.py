"""`shopbridge up`: the Temporal dev server (unless an address is given), the worker and the web
server in one process tree, stopped cleanly when asked."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from temporalio.client import Client

from shopbridge.engine.devserver import DevServer
from shopbridge.engine.worker import build_worker
from shopbridge.errors import ConfigError
from shopbridge.settings import Settings
from shopbridge.store import Store
from shopbridge.web.app import create_app

WEB_BACKLOG = 2048


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
    """Run until `stop` is set, then shut down web, worker and dev server in that order.

    The web port is bound before anything starts, so a busy port is a clear ConfigError and
    leaves no dev server behind; a web server that dies later stops the rest too.
    """
    listener = bind_web_socket(settings) if web else None
    store = Store.open(settings)
    try:
        async with temporal_client(settings) as client:
            async with contextlib.AsyncExitStack() as stack:
                tasks: list[asyncio.Task[None]] = []
                if worker:
                    # The worker polls the stored connections too, taking turns with other workers.
                    await stack.enter_async_context(build_worker(client, store, settings.task_queue, poll=True))
                web_url = ""
                if listener is not None:
                    server = _web_server(store, client, settings)
                    tasks.append(asyncio.create_task(server.serve(sockets=[listener])))
                    stack.callback(setattr, server, "should_exit", True)
                    web_url = f"http://{settings.web_host}:{settings.web_port}"
                if on_ready is not None:
                    await on_ready(Services(client, store, settings, web_url))
                await _until_stopped(stop, tasks)
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        store.close()
        if listener is not None:
            listener.close()


def bind_web_socket(settings: Settings) -> socket.socket:
    """The web server's listening socket, or a ConfigError that names the port."""
    listener = socket.socket(socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((settings.web_host, settings.web_port))
    except OSError as exc:
        listener.close()
        raise ConfigError(
            f"port {settings.web_port} on {settings.web_host} is in use ({exc.strerror}); stop what holds it, "
            "or choose another with SHOPBRIDGE_WEB_PORT or --port"
        ) from None
    listener.listen(WEB_BACKLOG)
    listener.setblocking(False)
    return listener


async def _until_stopped(stop: asyncio.Event, services: list[asyncio.Task[None]]) -> None:
    """Wait for `stop`; a service that ends first (say the web server failed) stops everything."""
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopping, *services], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    for task in done:
        if task is not stopping and not task.cancelled() and task.exception() is not None:
            raise ConfigError(f"a service stopped: {task.exception()}")


def _web_server(store: Store, client: Client, settings: Settings) -> uvicorn.Server:
    app = create_app(store, client, settings.task_queue)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    return _QuietServer(config)
