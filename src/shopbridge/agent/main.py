"""`shopbridge agent`: run the agent as a service, or issue a connection's agent token."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer

from shopbridge.agent.folder import MamutFolder
from shopbridge.agent.runner import Agent, AgentConfig
from shopbridge.agent.transport import AgentTransport

agent_app = typer.Typer(help="The agent that runs beside Mamut on the merchant's server.", no_args_is_help=True)
TOKEN_ENV = "SHOPBRIDGE_AGENT_TOKEN"


@agent_app.command("run")
def run(
    url: Annotated[str, typer.Option(help="ShopBridge's address, e.g. https://shopbridge.example.com")],
    mamut_dir: Annotated[Path, typer.Option(help="The Mamut company folder with import/ and export/.")],
    state_dir: Annotated[Path, typer.Option(help="Where the agent keeps answers not yet delivered.")],
    token: Annotated[str, typer.Option(envvar=TOKEN_ENV, help=f"The connection's agent token (or ${TOKEN_ENV}).")],
    poll_seconds: Annotated[float, typer.Option(help="How often Mamut's folders are looked at.")] = 1.0,
    long_poll_seconds: Annotated[float, typer.Option(help="How long one request for work waits.")] = 20.0,
    lease_seconds: Annotated[float, typer.Option(help="Seconds a taken job stays ours.")] = 120.0,
    import_timeout: Annotated[float, typer.Option(help="Seconds to wait for Mamut to take one file.")] = 60.0,
    heartbeat_seconds: Annotated[float, typer.Option(help="Seconds between health reports.")] = 30.0,
    import_command: Annotated[str, typer.Option(help="Mamut ImportExport.exe (quoted path) to run instead of "
                                                "dropping files in the import folder.")] = "",
    company: Annotated[str, typer.Option(help="Mamut company database number, for --import-command.")] = "001",
    user_id: Annotated[str, typer.Option(help="Mamut user id, for --import-command.")] = "1",
) -> None:
    """Connect out to ShopBridge and import what it sends into Mamut, until stopped (SIGTERM or Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AgentConfig(url, token, mamut_dir, state_dir, long_poll_seconds, lease_seconds, import_timeout,
                         poll_seconds, heartbeat_seconds, max_backoff_seconds=max(poll_seconds, 1.0) * 10,
                         import_command=import_command, company=company, user_id=user_id)  # fmt: skip
    asyncio.run(_serve(config))


async def _serve(config: AgentConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with httpx.AsyncClient(timeout=30.0) as http:
        transport = AgentTransport(http, config.url, config.token, config.state_dir)
        agent = Agent(config, transport, MamutFolder(config.mamut_dir))
        await agent.run(stop)


@agent_app.command("token")
def token(connection: str) -> None:
    """Issue a new agent token for a connection (the previous one stops working); printed once."""
    from shopbridge.settings import Settings
    from shopbridge.store import Store

    with Store.open(Settings()) as store:
        issued = store.agents.issue_token(connection)
    typer.echo(issued)


@agent_app.command("status")
def status(connection: str) -> None:
    """When the connection's agent was last heard from, and what it reported."""
    from shopbridge.settings import Settings
    from shopbridge.store import Store
    from shopbridge.store.database import utcnow

    with Store.open(Settings()) as store:
        health = store.agents.health(connection)
    if health is None:
        typer.echo(f"no agent token was issued for {connection}")
        raise typer.Exit(1)
    quiet = health.quiet_for(utcnow())
    typer.echo("never heard from" if quiet is None else f"last heard {quiet:.0f}s ago: {health.agent_info}")
    raise typer.Exit(0 if quiet is not None and quiet < 120 else 2)


def main() -> None:
    if os.name == "nt":  # the Windows service wrapper passes arguments as for the CLI
        sys.argv[0] = "shopbridge-agent"
    agent_app()
