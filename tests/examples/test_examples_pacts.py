"""The consumer tests in examples/consumers/ regenerate the fleet's pacts, equivalent to contracts/.

They run as a user runs them (`make pacts` does the same into contracts/), in a separate pytest
process, into a temporary folder; each pact they write must be the same contract as the
committed one (examples_pact_equivalence.py says what "the same" allows).
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from examples_pact_equivalence import canonical

from helpers import CONTRACTS, REPO

# Every pact of the fleet, with the specification version its consumer test must write (V2
# included: pact-python 4 writes V2 through the Rust core).
PACTS = {
    "orders/pacts/orders-payments.json": "3",
    "orders/pacts/orders-inventory.json": "4",
    "shipping/pacts/shipping-orders.json": "2",
    "notifications/pacts/notifications-orders.json": "4",
    "notifications/pacts/notifications-shipping.json": "3",
}


def generate(folder: Path) -> None:
    env = {
        **os.environ,
        "APIGOV_PACT_DIR": str(folder),
        "PACT_DO_NOT_TRACK": "true",
        # The consumer tests use no pytest plugin; importing the installed ones (hypothesis,
        # schemathesis, apigov's own) tripled this run's time.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/consumers"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # 6 + 5 + 3 + 3 + 2 interactions, one test each.
    assert "19 passed" in result.stdout, result.stdout[-2000:]


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_consumer_tests_regenerate_the_committed_pacts(tmp_path: Path) -> None:
    # One test for all five pacts: the consumer run costs a pytest start-up, and parametrised
    # tests spread over xdist workers would each pay it.
    generate(tmp_path)
    committed = {str(p.relative_to(CONTRACTS)) for p in CONTRACTS.glob("*/pacts/*.json")}
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.glob("*/pacts/*.json")}
    assert committed == set(PACTS)
    assert written == set(PACTS)
    different = []
    for name, version in sorted(PACTS.items()):
        mine, theirs = canonical(read(tmp_path / name)), canonical(read(CONTRACTS / name))
        assert mine["specification"] == version, name
        if mine != theirs:
            different.append(f"{name}:\n" + _diff(theirs, mine))
    assert not different, "\n".join(different)


def _diff(committed: dict[str, Any], generated: dict[str, Any]) -> str:
    return "\n".join(
        difflib.unified_diff(
            json.dumps(committed, indent=1, sort_keys=True).splitlines(),
            json.dumps(generated, indent=1, sort_keys=True).splitlines(),
            "committed",
            "generated",
            lineterm="",
        )
    )


def test_the_generated_pacts_hold_every_interaction_and_matcher() -> None:
    """Spot checks on the committed side, counted by hand from the files, so that an
    equivalence of two empty or truncated files cannot pass."""
    payments = canonical(read(CONTRACTS / "orders/pacts/orders-payments.json"))
    assert len(payments["interactions"]) == 6
    events = canonical(read(CONTRACTS / "notifications/pacts/notifications-orders.json"))
    kinds = sorted(i["type"] for i in events["interactions"])
    assert kinds == ["Asynchronous/Messages", "Asynchronous/Messages", "Synchronous/HTTP"]
    created = next(
        i for i in events["interactions"] if i["description"] == "an order.created event"
    )
    assert created["matchingRules"]["body"]["$.order.items"] == {
        "matchers": [{"match": "type", "min": 1}]
    }
