"""The agent's loop: deliver buffered answers, send changed exports, take a job, import it into Mamut once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopbridge.agent.command import ImportExportCommand
from shopbridge.agent.folder import MamutFolder, email_in
from shopbridge.agent.transport import AgentTransport, TokenRefused, Unreachable

LOG = logging.getLogger("shopbridge.agent")
VERSION = "1"


@dataclass(frozen=True)
class AgentConfig:
    url: str
    token: str
    mamut_dir: Path
    state_dir: Path
    long_poll_seconds: float = 20.0
    lease_seconds: float = 120.0
    import_timeout_seconds: float = 60.0  # how long to wait for Mamut to take one file
    poll_seconds: float = 1.0  # how often the folders are looked at while waiting
    heartbeat_seconds: float = 30.0
    max_backoff_seconds: float = 30.0
    import_command: str = ""  # set: run Mamut's ImportExport command line instead of dropping files
    company: str = "001"
    user_id: str = "1"


@dataclass
class Agent:
    config: AgentConfig
    transport: AgentTransport
    folder: MamutFolder
    _sent_exports: dict[str, str] = field(default_factory=dict)
    _last_heartbeat: float = 0.0
    _last_refresh: float = 0.0

    @property
    def command(self) -> ImportExportCommand | None:
        c = self.config
        return ImportExportCommand(c.import_command, c.company, c.user_id) if c.import_command else None

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; every failure to reach ShopBridge is waited out, never fatal."""
        LOG.info("agent for %s started; Mamut folder %s", self.config.url, self.config.mamut_dir)
        backoff = self.config.poll_seconds
        while not stop.is_set():
            try:
                await self.step()
                backoff = self.config.poll_seconds
            except (Unreachable, TokenRefused) as exc:
                buffered = len(self.transport.buffered())
                LOG.warning("cannot reach ShopBridge (%s); %d answers buffered; again in %.1fs", exc, buffered, backoff)
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, self.config.max_backoff_seconds)
        LOG.info("agent stopped")

    async def step(self) -> None:
        delivered = await self.transport.flush()
        if delivered:
            LOG.info("delivered %d buffered answers", delivered)
        if self.command is not None and time.monotonic() - self._last_refresh > self.config.heartbeat_seconds:
            await asyncio.to_thread(self.refresh_exports)
        await self.send_exports()
        await self.heartbeat()
        job = await self.transport.next_job(self.config.long_poll_seconds, self.config.lease_seconds)
        if job is not None:
            await self.process(job)

    async def process(self, job: dict[str, Any]) -> None:
        LOG.info("job %s: %s %s (attempt %s)", job["id"], job["kind"], job["reference"], job["attempts"])
        answer = await asyncio.to_thread(self.import_once, job)
        if answer is None:
            LOG.warning("job %s: Mamut has not taken the file yet; it will come back", job["id"])
            return
        state, result, error = answer
        self.transport.buffer_result(int(job["id"]), state, result, error)
        if state == "failed":
            self.folder.retire_rejection(self.folder.file_name(str(job["reference"]), str(job["payload"])))
        await self.send_exports()  # so that ShopBridge's lookups see what the answer says
        await self.transport.flush()
        LOG.info("job %s: %s %s", job["id"], state, error or result)

    def import_once(self, job: dict[str, Any]) -> tuple[str, dict[str, Any], str] | None:
        """Adopt what Mamut already holds for this reference; otherwise write the file, once, and wait."""
        reference, payload = str(job["reference"]), str(job["payload"])
        self.refresh_exports()
        found = self.lookup(job)
        if found is not None:
            LOG.info("job %s: Mamut already has %s as %s; adopting", job["id"], reference, found["number"])
            return "done", found | {"adopted": True}, ""
        name = self.folder.file_name(reference, payload)
        rejected = self.folder.rejection(name)
        if rejected is not None:
            return "failed", {}, rejected
        if self.command is not None:
            return self.import_by_command(self.command, job, name)
        if not self.folder.pending(reference):
            self.folder.write(name, payload)
            LOG.info("job %s: wrote %s for Mamut", job["id"], name)
        return self.await_import(job, name)

    def await_import(self, job: dict[str, Any], name: str) -> tuple[str, dict[str, Any], str] | None:
        deadline = time.monotonic() + self.config.import_timeout_seconds
        while time.monotonic() < deadline:
            found = self.lookup(job)
            if found is not None:
                return "done", found | {"adopted": False}, ""
            rejected = self.folder.rejection(name)
            if rejected is not None and not self.folder.pending(str(job["reference"])):
                return "failed", {}, rejected
            time.sleep(self.config.poll_seconds)
        return None

    def import_by_command(
        self, command: ImportExportCommand, job: dict[str, Any], name: str
    ) -> tuple[str, dict[str, Any], str] | None:
        """Run the import, then fresh exports: the export, not the exit code, says what Mamut holds."""
        staged = self.config.state_dir / "outgoing" / name
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(str(job["payload"]).encode("iso-8859-1"))
        imported, output = command.import_file(str(job["kind"]), staged)
        LOG.info("job %s: ImportExport %s: %s", job["id"], "ok" if imported else "refused", output)
        self.refresh_exports()
        found = self.lookup(job)
        if found is not None:
            return "done", found | {"adopted": False}, ""
        return None if imported else ("failed", {}, output)

    def refresh_exports(self) -> None:
        if self.command is not None:
            self.command.refresh_exports(self.folder.root / "export")
            self._last_refresh = time.monotonic()

    def lookup(self, job: dict[str, Any]) -> dict[str, str] | None:
        if job["kind"] == "order":
            return self.folder.find_order(str(job["reference"]))
        if job["kind"] == "customer":
            return self.folder.find_customer(email_in(str(job["payload"])))
        return None

    async def send_exports(self) -> None:
        """Send each export file that changed since it was last sent."""
        for kind in ("orders", "customers", "products", "stock"):
            body = self.folder.export(kind)
            digest = hashlib.sha256(body.encode()).hexdigest() if body is not None else ""
            if body is not None and self._sent_exports.get(kind) != digest:
                await self.transport.put_export(kind, body)
                self._sent_exports[kind] = digest

    async def heartbeat(self) -> None:
        if time.monotonic() - self._last_heartbeat < self.config.heartbeat_seconds:
            return
        info = {"version": VERSION, "mamut_dir": str(self.config.mamut_dir),
                "mamut_dir_ok": self.folder.import_dir.is_dir(), "buffered": len(self.transport.buffered()),
                "waiting_in_import": len(list(self.folder.import_dir.glob("*.xml")))}  # fmt: skip
        await self.transport.heartbeat(info)
        self._last_heartbeat = time.monotonic()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
