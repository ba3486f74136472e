"""The chaos benchmark's short run: separate processes, faults on both sides, a killed worker and
a restarted Temporal, and still every paid order transferred once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"
ORDERS = 30


@pytest.mark.chaos
@pytest.mark.long
@pytest.mark.timeout(240)
def test_short_chaos_run_loses_and_doubles_nothing() -> None:
    # Late commits and late listing included: the transfer waits for the ERP to settle after an
    # unknown write outcome, so they must double nothing.
    command = [sys.executable, str(BENCH), "--orders", str(ORDERS), "--short"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=230, check=False)
    lines = finished.stdout.strip().splitlines()
    assert lines, finished.stderr[-2000:]
    result = json.loads(lines[-1])
    assert finished.returncode == 0, result
    assert result["placed"] == ORDERS and result["triggered"] == result["transferred"] + result["parked"]
    assert result["lost"] == result["duplicates"] == result["unpaid_transferred"] == 0
    assert result["worker_kills"] >= 1 and result["temporal_restarts"] == 1
    assert result["faults_fired"]["shop"] > 0 and result["faults_fired"]["erp"] > 0
    assert result["late_commit_faults"] is True and result["stray_documents"] == 0
