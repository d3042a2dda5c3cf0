"""The command-line contract: exit codes, formats, --output, --fail-on, the fleet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from helpers import CONTRACTS, REPO, SHARED, run_apigov

REPORT_SCHEMA = REPO / "src" / "apigov" / "report" / "schemas" / "report.schema.json"
SARIF_SCHEMA = SHARED / "conformance" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture
def broken_fleet(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A copy of the example fleet with three problems; returns it and the lines, found by hand."""
    fleet = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, fleet)
    payments = fleet / "payments" / "openapi.yaml"
    text = payments.read_text(encoding="utf-8")
    assert "operationId: getPayment\n" in text
    text = text.replace("operationId: getPayment\n", "operationId: listPayments\n", 1)
    payments.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    duplicate_line = [
        i for i, ln in enumerate(lines, 1) if ln.strip() == "operationId: listPayments"
    ][1]

    service = fleet / "inventory" / "service.yaml"
    service_text = service.read_text(encoding="utf-8")
    service.write_text(service_text.replace("tier: ", "tier: 7 # was ", 1), encoding="utf-8")
    tier_line = next(
        i for i, ln in enumerate(service_text.splitlines(), 1) if ln.startswith("tier:")
    )

    pact = next((fleet / "orders" / "pacts").glob("orders-payments.json"))
    data = json.loads(pact.read_text(encoding="utf-8"))
    del data["consumer"]["name"]
    pact.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return fleet, {"payments": duplicate_line, "inventory": tier_line, "pact": 2}


def test_the_example_fleet_is_valid() -> None:
    result = run_apigov("validate", "contracts/")
    assert result.code == 0, result.stdout + result.stderr
    # 5 OpenAPI documents, orders' AsyncAPI document, 5 service.yaml files, 5 pacts.
    assert result.stdout == "No problems found in 16 documents.\n"


def test_a_broken_copy_reports_each_problem_with_file_and_line(
    broken_fleet: tuple[Path, dict[str, int]],
) -> None:
    fleet, lines = broken_fleet
    result = run_apigov("validate", "contracts", cwd=fleet.parent)
    assert result.code == 1, result.stderr
    out = result.stdout
    assert f"contracts/payments/openapi.yaml:{lines['payments']}:7" in out
    assert f"contracts/inventory/service.yaml:{lines['inventory']}:" in out
    assert f"contracts/orders/pacts/orders-payments.json:{lines['pact']}:" in out
    assert out.rstrip().endswith("3 errors, 0 warnings, 0 info in 16 documents")


def test_json_output_follows_its_schema_and_names_the_service(
    broken_fleet: tuple[Path, dict[str, int]],
) -> None:
    fleet, lines = broken_fleet
    result = run_apigov("validate", "contracts", "--format", "json", cwd=fleet.parent)
    assert result.code == 1
    report = json.loads(result.stdout)
    jsonschema.validate(report, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")))
    assert report["command"] == "validate"
    assert report["summary"] == {"error": 3, "warning": 0, "info": 0}
    by_id = {f["id"]: f for f in report["findings"]}
    duplicate = by_id["oas-duplicate-operation-id"]
    assert duplicate["service"] == "payments"
    assert duplicate["operation"] == "GET /payments/{paymentId}"
    assert duplicate["location"]["line"] == lines["payments"]
    assert by_id["service-structure"]["service"] == "inventory"
    assert by_id["pact-structure"]["service"] == "orders"


def test_sarif_output_is_valid_sarif(broken_fleet: tuple[Path, dict[str, int]]) -> None:
    fleet, _ = broken_fleet
    result = run_apigov("validate", "contracts", "--format", "sarif", cwd=fleet.parent)
    assert result.code == 1
    sarif = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert len(sarif["runs"][0]["results"]) == 3


def test_junit_and_markdown(broken_fleet: tuple[Path, dict[str, int]]) -> None:
    fleet, _ = broken_fleet
    junit = run_apigov("validate", "contracts", "--format", "junit", cwd=fleet.parent)
    root = ET.fromstring(junit.stdout)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("16", "3")
    markdown = run_apigov("validate", "contracts", "--format", "markdown", cwd=fleet.parent)
    assert markdown.code == 1
    assert "oas-duplicate-operation-id" in markdown.stdout
    assert markdown.stdout.count("\n| ") >= 4  # header, separator, three rows


def test_output_file_and_fail_on(tmp_path: Path, broken_fleet: tuple[Path, dict[str, int]]) -> None:
    fleet, _ = broken_fleet
    target = tmp_path / "out" / "report.json"
    result = run_apigov("validate", "contracts", "-f", "json", "-o", str(target), cwd=fleet.parent)
    assert result.code == 1
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["error"] == 3
    assert not list(target.parent.glob(".*.tmp"))
    assert run_apigov("validate", "contracts", "--fail-on", "never", cwd=fleet.parent).code == 0


def test_usage_errors_exit_2() -> None:
    assert run_apigov().code in (0, 2)  # help
    assert run_apigov("validate").code == 2
    bad_format = run_apigov("validate", "contracts", "--format", "xml")
    assert bad_format.code == 2
    assert "Traceback" not in bad_format.stderr
    assert run_apigov("validate", "contracts", "--max-size", "lots").code == 2
    assert run_apigov("nonsense").code == 2


def test_version() -> None:
    result = run_apigov("--version")
    assert result.code == 0
    from apigov import __version__

    assert result.stdout.strip() == f"apigov {__version__}"


def modules_after(argv: list[str], prefixes: tuple[str, ...]) -> tuple[int, list[str]]:
    """Run `apigov ARGV` in a fresh interpreter: its exit code and the modules it loaded whose
    names start with one of `prefixes`."""
    script = (
        "import json, sys\n"
        "from apigov.cli.app import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as end:\n"
        "    code = end.code\n"
        f"loaded = sorted(m for m in sys.modules if m.startswith({prefixes!r}))\n"
        "print(json.dumps([code, loaded]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    code, loaded = json.loads(result.stdout.splitlines()[-1])
    return code, loaded


def test_version_loads_no_command() -> None:
    # `apigov --version` is answered by the root option: no command module, no analyzer.
    # (registry_options gives --registry-token to the commands that take --registry: none.)
    code, loaded = modules_after(["--version"], ("apigov.cli.", "apigov.diff", "apigov.lint"))
    assert (code, loaded) == (0, ["apigov.cli.app", "apigov.cli.registry_options"])


def test_the_lazy_command_table_names_every_command() -> None:
    import typer.main

    from apigov.cli.app import COMMAND_GROUPS, COMMANDS, build_app

    def names(app: typer.Typer) -> set[str]:
        group = typer.main.get_command(app)
        assert isinstance(group, typer.main.TyperGroup)
        return set(group.commands)

    table = set(COMMANDS) | {name for names in COMMAND_GROUPS.values() for name in names}
    assert names(build_app()) == table
    for name in table:  # each command alone is there when the app is built for it
        assert name in names(build_app(name))


def test_a_command_imports_only_what_it_needs(tmp_path: Path) -> None:
    # One run of `apigov lint` does not import the registry, the fuzzer or the diff engine.
    heavy = ("apigov.registry", "apigov.fuzz", "apigov.diff", "apigov.pact", "sqlalchemy")
    argv = ["lint", str(CONTRACTS / "orders" / "openapi.yaml"), "-o", "/dev/null"]
    assert modules_after(argv, heavy) == (0, [])


def test_output_to_a_pipe_or_a_link_writes_through_it(tmp_path: Path) -> None:
    import os
    import threading

    # A FIFO stands for /dev/null, /dev/stderr or a pipe another process reads: the report is
    # written into it, and it is still a FIFO afterwards (renaming over it would replace it).
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    run = run_apigov("validate", str(CONTRACTS / "orders" / "openapi.yaml"), "-o", str(fifo))
    reader.join(timeout=60)
    assert run.code == 0, run.stderr
    assert fifo.is_fifo()
    assert received == [b"No problems found in 1 document.\n"]

    # A symbolic link stays a link; the file it points to gets the report.
    target = tmp_path / "reports" / "latest.txt"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "latest-link.txt"
    link.symlink_to(target)
    run = run_apigov("validate", str(CONTRACTS / "orders" / "openapi.yaml"), "-o", str(link))
    assert run.code == 0, run.stderr
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == received[0].decode("utf-8")


def _main_in_a_process(argv: list[str], *, before: str = "") -> subprocess.CompletedProcess[str]:
    """`apigov ARGV` as the console command runs it (`main()` reading sys.argv), with `before`
    run first in the same interpreter."""
    script = (
        "import sys\n"
        f"{before}\n"
        f"sys.argv = ['apigov', *{argv!r}]\n"
        "from apigov.cli.app import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


# Set up before the command runs: an exit handler, and an object whose finalizer only runs
# when the interpreter is torn down (module globals are cleared at shutdown).
_WATCHERS = (
    "import atexit, gc\n"
    "atexit.register(lambda: print('exit handler ran', gc.isenabled(), file=sys.stderr))\n"
    "class Teardown:\n"
    "    def __del__(self): print('torn down', file=sys.stderr)\n"
    "watcher = Teardown()\n"
)


def test_a_reporting_command_ends_without_tearing_down_and_loses_nothing(tmp_path: Path) -> None:
    # Findings at the failing level: exit 1, and every byte of a report larger than a pipe's
    # buffer (64 KiB) arrives, though the process ends with os._exit.
    spec = tmp_path / "openapi.yaml"
    operations = "".join(
        f"  /items{n}:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        for n in range(600)
    )
    spec.write_text(
        f"openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\npaths:\n{operations}", "utf-8"
    )
    result = _main_in_a_process(
        ["lint", str(spec), "--ruleset", "apigov:oas", "--format", "json", "--fail-on", "warning"],
        before=_WATCHERS,
    )
    assert result.returncode == 1, result.stderr
    assert len(result.stdout) > 65536
    report = json.loads(result.stdout)
    # 600 operations without operationId, description or tags: three warnings each
    per_rule = {rule: 0 for rule in ("operation-operationId", "operation-description")}
    for finding in report["findings"]:
        if finding["id"] in per_rule:
            per_rule[finding["id"]] += 1
    assert per_rule == {"operation-operationId": 600, "operation-description": 600}
    # ... and the cycle collector was paused from the start (the process ends with the command)
    assert "exit handler ran False" in result.stderr
    assert "torn down" not in result.stderr


def test_an_input_error_keeps_its_exit_code_and_line(tmp_path: Path) -> None:
    result = _main_in_a_process(["lint", str(tmp_path / "missing.yaml")], before=_WATCHERS)
    assert result.returncode == 2
    assert result.stderr.startswith("apigov: error: ")
    assert "missing.yaml" in result.stderr
    assert "torn down" not in result.stderr


def test_commands_that_serve_or_write_are_torn_down_as_usual() -> None:
    # `registry serve` and the registry writes are not in the list: their process ends the
    # ordinary way (here, a usage error of `publish`).
    result = _main_in_a_process(["publish"], before=_WATCHERS)
    assert result.returncode == 2
    assert "torn down" in result.stderr
    assert "exit handler ran True" in result.stderr


def test_in_process_callers_get_system_exit() -> None:
    # Tests and other Python callers pass argv: they get SystemExit, never a process exit.
    with pytest.raises(SystemExit) as ended:
        from apigov.cli.app import main

        main(["--version"])
    assert ended.value.code == 0
