"""`shopbridge demo` run as the real executable: the configured port, a busy port, and stopping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shopbridge.sandbox.server import free_port

SHOPBRIDGE = str(Path(sys.executable).parent / "shopbridge")


def demo_env(tmp_path: Path, web_port: int) -> dict[str, str]:
    env = {**os.environ, "SHOPBRIDGE_WEB_PORT": str(web_port), "TMPDIR": str(tmp_path)}
    env.pop("SHOPBRIDGE_TEMPORAL_ADDRESS", None)
    return env


def temporal_left_in(directory: Path) -> bool:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any("start-dev" in line and str(directory) in line for line in listing.splitlines())


def wait_for_health(port: int, process: subprocess.Popen[str], timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            time.sleep(0.3)
    return False


def test_demo_serves_on_shopbridge_web_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen([SHOPBRIDGE, "demo", "--every", "5"], env=demo_env(tmp_path, port), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:  # fmt: skip
        try:
            assert wait_for_health(port, process)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=40) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert not temporal_left_in(tmp_path)


def test_demo_on_a_busy_port_fails_clearly_and_leaves_nothing_running(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with subprocess.Popen([SHOPBRIDGE, "demo"], env=demo_env(tmp_path, port), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:  # fmt: skip
            try:
                output, _ = process.communicate(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
    assert process.returncode != 0
    assert f"port {port}" in output and "in use" in output
    assert not temporal_left_in(tmp_path)
