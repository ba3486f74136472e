"""A stand-in for `Mamut ImportExport.exe "<op>" "<clientNo>" "<path>" "<CompareKey>" "<UserID>" ".F."` (spec §2).

Choices: it needs the emulator running on the company folder (`--dir` or $MAMUT_EMULATOR_DIR); an
import op hands the file to that emulator's import folder and waits for it to be taken; an
export op copies the emulator's current export file to `<path>`. Exit 0 on success, 1 when Mamut
refused the file (its log line on stderr), 2 on wrong arguments.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

IMPORTS = {"IO": "GBAOX10", "IC": "GBACX10", "IP": "GBAPX10"}
EXPORTS = {"EO": "orders.xml", "EC": "customers.xml", "EPR": "products.xml"}
WAIT_SECONDS = 60.0


def main(argv: list[str]) -> int:
    directory = Path(os.environ.get("MAMUT_EMULATOR_DIR", "."))
    if len(argv) != 6 or argv[5] != ".F." or argv[0] not in IMPORTS | EXPORTS:
        print('usage: "<IO|IC|IP|EO|EC|EPR>" "<clientNo>" "<path>" "<CompareKey>" "<UserID>" ".F."', file=sys.stderr)
        return 2
    operation, path = argv[0], Path(argv[2])
    if operation in EXPORTS:
        shutil.copyfile(directory / "export" / EXPORTS[operation], path)
        return 0
    return hand_over(directory, path)


def hand_over(directory: Path, path: Path) -> int:
    name = f"cli-{time.time_ns()}-{path.name}"
    staged = directory / "import" / f"{name}.tmp"
    shutil.copyfile(path, staged)
    os.replace(staged, directory / "import" / name)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if (directory / "done" / name).exists():
            return 0
        log = (directory / "error" / name).with_suffix(".log")
        if log.exists():
            print(log.read_text(encoding="iso-8859-1").strip(), file=sys.stderr)
            return 1
        time.sleep(0.02)
    print("Mamut did not take the file in time", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
