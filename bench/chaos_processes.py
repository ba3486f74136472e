"""The processes of a chaos run: two emulators, a Temporal dev server on a persistent SQLite file,
ShopBridge workers that can be killed and replaced, and a private database for the store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shopbridge.engine.devserver import DevServer
from shopbridge.sandbox.server import free_port

SHOPBRIDGE = [str(Path(sys.executable).parent / "shopbridge")]
POSTGRES_URL = os.environ.get("SHOPBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
READY_SECONDS = 30.0


def _logged(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # A session of its own: a SIGKILL of the child never reaches the bench, nor Ctrl-C the child.
        return subprocess.Popen(command, stdout=out, stderr=out, env=env, start_new_session=True)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Emulator:
    system: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/_sandbox/faults", timeout=1).status_code == 200:
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.system} emulator exited")
            time.sleep(0.2)
        raise RuntimeError(f"the {self.system} emulator did not answer in {READY_SECONDS} s")


def start_emulator(system: str, seed: int, logs: Path) -> Emulator:
    port = free_port()
    command = [*SHOPBRIDGE, "sandbox", "serve", system, "--port", str(port), "--seed", str(seed), "--orders", "0"]
    emulator = Emulator(system, port, _logged(command, logs / f"{system}.log"))
    emulator.wait_ready()
    return emulator


@dataclass
class Workers:
    """`shopbridge worker` processes; `kill_one` SIGKILLs the oldest and starts a fresh one."""

    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0
    killed: int = 0

    def start(self) -> None:
        self.started += 1
        log = self.logs / f"worker-{self.started}.log"
        self.processes.append(_logged([*SHOPBRIDGE, "worker"], log, self.env))

    def kill_one(self) -> None:
        if self.processes:
            victim = self.processes.pop(0)
            if victim.poll() is None:
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                self.killed += 1
        self.start()

    def replace_exited(self) -> None:
        """A worker that could not reach Temporal (restarting) exits; another takes its place."""
        for process in [p for p in self.processes if p.poll() is not None]:
            self.processes.remove(process)
            self.start()

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)
        self.processes.clear()


class Temporal:
    """The dev server on a fixed port and SQLite file, so a restart keeps every workflow."""

    def __init__(self, data_dir: Path) -> None:
        self.server = DevServer(data_dir)
        self.restarts = 0

    @property
    def address(self) -> str:
        return self.server.address

    async def start(self) -> None:
        await self.server.start()

    async def restart(self) -> None:
        self.server.stop()
        self.restarts += 1
        await self.server.start()

    def stop(self) -> None:
        self.server.stop()


@contextlib.contextmanager
def private_database(directory: Path, backend: str) -> Iterator[str]:
    """A fresh schema in the local PostgreSQL (dropped afterwards), else a SQLite file."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'store.db'}"
        return
    schema = f"shopbridge_chaos_{uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        admin.dispose()
        if backend == "postgresql":
            raise
        yield f"sqlite:///{directory / 'store.db'}"
        return
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
