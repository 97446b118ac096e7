"""deploy/load.py (issue 15): it refuses anything but loopback, and a one-level run against its own
replica measures real formula edits (each edit is checked in the URL state the server sends back)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOAD = [sys.executable, str(ROOT / "deploy" / "load.py")]


@pytest.mark.parametrize("url", ["http://192.0.2.10:8501", "http://example.com"])
def test_load_script_stays_on_loopback(url):
    result = subprocess.run([*LOAD, "--url", url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "loopback URLs only" in result.stderr


@pytest.mark.slow
def test_load_script_measures_formula_edits():
    result = subprocess.run([*LOAD, "--levels", "1", "--window", "4", "--think", "0.2,0.5", "--max-minutes", "3"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    rows = re.findall(r"^\|\s+1 \|\s+(\d+) \|\s+([\d.]+) s \|", result.stdout, re.M)
    assert rows, result.stdout
    edits, median = int(rows[0][0]), float(rows[0][1])
    assert edits >= 2 and 0 < median < 120, result.stdout
