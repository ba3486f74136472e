"""The Mamut emulator's runner: watches the import folder, imports each file, rewrites the export files."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from shopbridge.sandbox.mamut.documents import ImportRejected, exports as render_exports
from shopbridge.sandbox.mamut.imports import apply_file
from shopbridge.sandbox.mamut.state import MamutState

LOG = logging.getLogger("shopbridge.sandbox.mamut")
IMPORT, EXPORT, DONE, ERROR = "import", "export", "done", "error"
DEFAULT_POLL_SECONDS = 1.0


@dataclass
class MamutRunner:
    """One company's folders: `import/` is watched; `export/` always shows the database as it is."""

    state: MamutState
    directory: Path
    poll_seconds: float = DEFAULT_POLL_SECONDS
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        for name in (IMPORT, EXPORT, DONE, ERROR):
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        self.write_exports()

    def pending(self) -> list[Path]:
        # Writers drop `name.xml.tmp` and rename; only finished `.xml` files are picked up.
        return sorted((self.directory / IMPORT).glob("*.xml"), key=lambda path: (path.stat().st_mtime, path.name))

    def run_once(self) -> int:
        """Import every waiting file; returns how many were handled (imported or rejected)."""
        handled = 0
        for path in self.pending():
            self.import_file(path)
            handled += 1
        return handled

    def import_file(self, path: Path) -> None:
        try:
            log = apply_file(self.state, path.read_bytes())
        except ImportRejected as exc:
            self.reject(path, str(exc))
            return
        # Exports first, then the file leaves the import folder: whoever no longer sees the file
        # is sure to find its result in the export.
        self.write_exports()
        os.replace(path, self.directory / DONE / path.name)
        LOG.info("imported %s: %s", path.name, "; ".join(log))

    def reject(self, path: Path, reason: str) -> None:
        """What Mamut leaves behind for a refused file: the file and its log, side by side in `error/`."""
        target = self.directory / ERROR / path.name
        target.with_suffix(".log").write_text(f"{path.name}: import failed: {reason}\n", encoding="iso-8859-1",
                                              errors="replace")  # fmt: skip
        os.replace(path, target)
        with self.state.lock:
            self.state.rejected.append((path.name, reason))
        LOG.warning("rejected %s: %s", path.name, reason)

    def write_exports(self) -> None:
        for name, data in render_exports(self.state).items():
            temporary = self.directory / EXPORT / f"{name}.tmp"
            temporary.write_bytes(data)
            os.replace(temporary, self.directory / EXPORT / name)

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.poll_seconds)

    def start(self) -> MamutRunner:
        self._stop.clear()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="mamut-runner")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def create_app(state: MamutState, directory: Path, poll_seconds: float = DEFAULT_POLL_SECONDS) -> MamutRunner:
    return MamutRunner(state, directory, poll_seconds)
