"""What `apigov diff` of two files does not need: a rapidyaml tree for its positions, the
registry (its refs, or its token option), the catalogue's docs and examples, rich, and for JSON
the YAML parser. Run in a fresh interpreter, so that the modules it loads are its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson

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
loaded = [
    name
    for name in ("ryml", "apigov.registry", "apigov.diff.catalogue", "rich", "yaml_rs")
    if name in sys.modules
]
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
    assert outcome == {"code": 1, "loaded": ["yaml_rs"]}
    report = json.loads(report_path.read_text(encoding="utf-8"))
    places = {
        (f["id"], f["location"]["file"], f["location"]["line"], f["location"]["column"])
        for f in report["findings"]
    }
    # orders-head.yaml line 62 is `        - name: customerId` (the item's first key, column 11);
    # the removed property is `        customerEmail:` at line 445 of the base (column 9).
    assert ("request-query-parameter-became-required", ORDERS_HEAD, 62, 11) in places
    assert ("response-optional-property-removed", ORDERS, 445, 9) in places


def test_a_json_diff_needs_no_yaml_parser(tmp_path: Path) -> None:
    def document(required: bool) -> bytes:
        parameter = {"name": "q", "in": "query", "required": required, "schema": {"type": "string"}}
        operation = {"parameters": [parameter], "responses": {"200": {"description": "ok"}}}
        info = {"title": "t", "version": "1"}
        return orjson.dumps({"openapi": "3.0.3", "info": info, "paths": {"/a": {"get": operation}}})

    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_bytes(document(required=False))
    head.write_bytes(document(required=True))
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-c", CODE, str(base), str(head), str(report_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout) == {"code": 1, "loaded": []}
    ids = [f["id"] for f in json.loads(report_path.read_text(encoding="utf-8"))["findings"]]
    assert ids == ["request-query-parameter-became-required"]
