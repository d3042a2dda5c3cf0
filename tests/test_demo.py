"""The README's main job (`make demo` -> demo/run.sh) runs end to end and says what it should."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO


def test_demo_runs_the_main_job_end_to_end() -> None:
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "APIGOV": str(bin_dir / "apigov"),
        "PYTHON": sys.executable,
        "FUZZ_SECONDS": "3",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    result = subprocess.run(
        ["bash", str(REPO / "demo" / "run.sh")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # 1. every service of the fleet published and deployed
    for service in ("inventory", "notifications", "orders", "payments", "shipping"):
        assert f"Published {service}@1.0.0" in output
    # 2. the fleet itself is clean of errors
    assert "0 errors, " in output.split("== 2.")[1].split("== 3.")[0]
    # 3. the pull request's diff names both consumers and their interactions
    diff = output.split("== 3.")[1].split("== 4.")[0]
    assert "breaks notifications (1 interaction), shipping (1)" in diff
    assert "shipping 'a request for paid orders waiting to be shipped'" in diff
    # 4. the gate says no for exactly the two consumers deployed in production
    gate = output.split("== 4.")[1].split("== 5.")[0]
    assert "deploy-pair-incompatible  notifications@1.0.0 -> orders@2.0.0" in gate
    assert "deploy-pair-incompatible  shipping@1.0.0 -> orders@2.0.0" in gate
    assert "2 errors, 0 warnings, 2 info" in gate
    # 5. the payments example service was fuzzed and found clean
    fuzz = output.split("== 5.")[1]
    assert "0 distinct failures" in fuzz
    assert "No problems found in 1 document." in fuzz
