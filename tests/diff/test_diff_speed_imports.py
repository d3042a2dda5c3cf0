"""What `apigov diff` of two YAML files does not need: a rapidyaml tree for its positions, the
registry (its refs, or its token option). Run in a fresh interpreter, so that the modules it
loads are its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import REPO

ORDERS = "contracts/orders/openapi.yaml"
ORDERS_HEAD = "tests/diff/data/orders-head.yaml"
CODE = """
import json, sys
from apigov.cli.app import main
try:
    main(["diff", sys.argv[1], sys.argv[2], "--format", "json", "--output", sys.argv[3]])
except SystemExit as exit:
    code = exit.code
loaded = [name for name in ("ryml", "apigov.registry") if name in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}))
"""


def test_a_yaml_diff_locates_its_findings_without_rapidyaml_or_the_registry(
    tmp_path: Path,
) -> None:
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-c", CODE, ORDERS, ORDERS_HEAD, str(report_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(result.stdout)
    assert outcome == {"code": 1, "loaded": []}
    report = json.loads(report_path.read_text(encoding="utf-8"))
    places = {
        (f["id"], f["location"]["file"], f["location"]["line"], f["location"]["column"])
        for f in report["findings"]
    }
    # orders-head.yaml line 62 is `        - name: customerId` (the item's first key, column 11);
    # the removed property is `        customerEmail:` at line 445 of the base (column 9).
    assert ("request-query-parameter-became-required", ORDERS_HEAD, 62, 11) in places
    assert ("response-optional-property-removed", ORDERS, 445, 9) in places
