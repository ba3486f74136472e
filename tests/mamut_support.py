"""A Mamut company on disk with its runner, ShopBridge's agent API on loopback, and the agent itself."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shopbridge.agent import Agent, AgentConfig
from shopbridge.agent.folder import MamutFolder
from shopbridge.agent.transport import AgentTransport
from shopbridge.sandbox import mamut
from shopbridge.sandbox.server import BackgroundServer
from shopbridge.store import Store
from shopbridge.web.app import create_app

FAST = {"poll_seconds": 0.02, "long_poll_seconds": 0.3, "lease_seconds": 2.0, "import_timeout_seconds": 5.0,
        "heartbeat_seconds": 0.5, "max_backoff_seconds": 0.2}  # fmt: skip


def agent_config(url: str, token: str, mamut_dir: Path, state_dir: Path, **overrides: float) -> AgentConfig:
    return AgentConfig(url, token, mamut_dir, state_dir, **(FAST | overrides))  # type: ignore[arg-type]


@dataclass
class AgentProcess:
    """`python -m shopbridge.agent run` as the merchant's service would run it."""

    config: AgentConfig
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        c = self.config
        return [sys.executable, "-m", "shopbridge.agent", "run", "--url", c.url, "--mamut-dir", str(c.mamut_dir),
                "--state-dir", str(c.state_dir), "--poll-seconds", str(c.poll_seconds),
                "--long-poll-seconds", str(c.long_poll_seconds), "--lease-seconds", str(c.lease_seconds),
                "--import-timeout", str(c.import_timeout_seconds),
                "--heartbeat-seconds", str(c.heartbeat_seconds)]  # fmt: skip

    def start(self) -> AgentProcess:
        env = os.environ | {"SHOPBRIDGE_AGENT_TOKEN": self.config.token}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=out, env=env)
        return self

    def kill(self) -> None:
        """As a power cut would: no clean-up."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class MamutSide:
    """Everything on the merchant's server plus ShopBridge's API the agent talks to."""

    store: Store
    connection: str
    directory: Path
    erp: mamut.MamutState
    runner: mamut.MamutRunner
    web: BackgroundServer
    token: str
    agents: list[AgentProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.web.url

    def agent_process(self, state_dir: str = "agent-state") -> AgentProcess:
        config = agent_config(self.url, self.token, self.directory, self.directory.parent / state_dir)
        process = AgentProcess(config, self.directory.parent / "agent.log")
        self.agents.append(process)
        return process.start()

    def stop_web(self) -> None:
        self.web.stop()

    def start_web(self) -> None:
        """ShopBridge back on the same address, as after a restart."""
        self.web = BackgroundServer(create_app(self.store), port=self.web.port).start()

    def agent_log(self) -> str:
        path = self.directory.parent / "agent.log"
        return path.read_text() if path.exists() else ""

    def close(self) -> None:
        for process in self.agents:
            process.stop()
        self.runner.stop()
        self.web.stop()


def mamut_side(store: Store, tmp_path: Path, connection: str) -> MamutSide:
    erp = mamut.seeded_state(seed=7)
    runner = mamut.create_app(erp, tmp_path / "mamut", poll_seconds=0.02)
    web = BackgroundServer(create_app(store)).start()
    return MamutSide(store, connection, tmp_path / "mamut", erp, runner, web, store.agents.issue_token(connection))


@asynccontextmanager
async def agent_task(
    side: MamutSide, state_dir: str = "agent-state", mamut_dir: Path | None = None, import_command: str = ""
) -> AsyncIterator[Agent]:
    """The agent in this process, for tests that need no process boundary."""
    stop = asyncio.Event()
    folder = mamut_dir or side.directory
    async with httpx.AsyncClient(timeout=10) as http:
        config = agent_config(side.url, side.token, folder, side.directory.parent / state_dir)
        config = dataclasses.replace(config, import_command=import_command)
        agent = Agent(config, AgentTransport(http, side.url, side.token, config.state_dir), MamutFolder(folder))
        task = asyncio.create_task(agent.run(stop))
        try:
            yield agent
        finally:
            stop.set()
            await task


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
