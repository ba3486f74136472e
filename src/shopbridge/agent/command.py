"""Mamut's ImportExport command line, for installations where the agent runs imports itself (spec §2)."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

IMPORT_OPERATIONS = {"order": "IO", "customer": "IC", "product": "IP"}
EXPORT_OPERATIONS = {"orders": "EO", "customers": "EC", "products": "EPR"}
COMPARE_BY_NUMBER = "1"  # contacts matched by ContID; order import ignores it


@dataclass(frozen=True)
class ImportExportCommand:
    """`"<exe>" "<op>" "<clientNo>" "<path>" "<CompareKey>" "<UserID>" ".F."`: all six parameters, always."""

    command: str  # the executable, with any leading arguments (split like a shell would)
    company: str = "001"
    user_id: str = "1"
    timeout_seconds: float = 300.0

    def run(self, operation: str, path: Path) -> tuple[bool, str]:
        argv = [*shlex.split(self.command), operation, self.company, str(path), COMPARE_BY_NUMBER, self.user_id, ".F."]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=self.timeout_seconds, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"ImportExport could not run: {exc}"
        output = (done.stderr or done.stdout).decode("iso-8859-1", errors="replace").strip()
        return done.returncode == 0, output or f"ImportExport exited with {done.returncode}"

    def import_file(self, kind: str, path: Path) -> tuple[bool, str]:
        return self.run(IMPORT_OPERATIONS[kind], path)

    def refresh_exports(self, export_dir: Path) -> None:
        """Ask Mamut for fresh order, customer and product exports where the agent reads them."""
        export_dir.mkdir(parents=True, exist_ok=True)
        for kind, operation in EXPORT_OPERATIONS.items():
            self.run(operation, export_dir / f"{kind}.xml")
