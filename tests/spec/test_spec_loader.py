"""Loading: sources (file, folder, stdin, git revision, URL), $ref resolution, caching, 2.0."""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import apigov.spec.loader as loader_module
from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile, ServiceFile
from apigov.spec.validate import validate_spec
from helpers import MINIMAL_30, run_apigov, write

SPLIT_ROOT = """\
openapi: 3.1.0
info:
  title: Split
  version: 1.0.0
paths:
  /orders:
    get:
      operationId: listOrders
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                $ref: ../shared/schemas.yaml#/Order
"""
SPLIT_SHARED = """\
Order:
  type: object
  properties:
    id:
      type: string
    total:
      $ref: "#/Money"
Money:
  type: integer
  default: "zero"
"""


def test_relative_file_refs_are_loaded_and_findings_point_into_them(tmp_path: Path) -> None:
    write(tmp_path, "api/openapi.yaml", SPLIT_ROOT)
    write(tmp_path, "shared/schemas.yaml", SPLIT_SHARED)
    spec = Loader(root=tmp_path).load(str(tmp_path / "api" / "openapi.yaml"))
    assert isinstance(spec, ApiSpec)
    assert len(spec.files) == 2
    findings = validate_spec(spec)
    assert [f.id for f in findings] == ["oas-invalid-default"]
    location = findings[0].location
    assert location is not None
    assert location.file.endswith("shared/schemas.yaml")
    assert (location.pointer, location.line) == ("/Money/default", 10)


def test_git_revision_reads_the_document_and_its_refs_from_that_revision(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    write(tmp_path, "api/openapi.yaml", SPLIT_ROOT)
    write(tmp_path, "shared/schemas.yaml", SPLIT_SHARED.replace('"zero"', "0"))
    git("add", "-A")
    git("commit", "-qm", "valid")
    # The working tree is now broken in both files; HEAD is not.
    write(
        tmp_path,
        "api/openapi.yaml",
        SPLIT_ROOT.replace("openapi: 3.1.0", "openapi: 3.1.0\nx: [unclosed"),
    )
    write(tmp_path, "shared/schemas.yaml", SPLIT_SHARED)
    at_head = run_apigov("validate", "HEAD:api/openapi.yaml", cwd=tmp_path)
    assert at_head.code == 0, at_head.stderr + at_head.stdout
    assert "No problems found in 1 document" in at_head.stdout
    assert run_apigov("validate", "api/openapi.yaml", cwd=tmp_path).code == 2
    missing = run_apigov("validate", "HEAD:api/nope.yaml", cwd=tmp_path)
    assert missing.code == 2
    assert missing.stderr.startswith("apigov: error: HEAD:api/nope.yaml: cannot read from git")


def test_stdin(tmp_path: Path) -> None:
    ok = run_apigov("validate", "-", stdin=MINIMAL_30.encode(), cwd=tmp_path)
    assert ok.code == 0, ok.stderr
    broken = MINIMAL_30.replace("operationId: getPet", "operationId: [getPet]")
    bad = run_apigov("validate", "-", "--format", "github", stdin=broken.encode(), cwd=tmp_path)
    assert bad.code == 1
    assert bad.stdout.startswith("::error file=<stdin>,line=8,col=7,title=oas-schema::")


def test_folder_walks_the_contracts_layout(tmp_path: Path) -> None:
    write(tmp_path, "orders/openapi.yaml", MINIMAL_30)
    write(tmp_path, "orders/service.yaml", "name: orders\n")
    write(
        tmp_path,
        "orders/pacts/orders-payments.json",
        '{"consumer": {"name": "orders"}, "provider": {"name": "payments"}, '
        '"interactions": [], "metadata": {"pactSpecification": {"version": "3.0.0"}}}',
    )
    write(tmp_path, "orders/notes.yaml", "not: a contract\n")
    write(tmp_path, "_shared/openapi.yaml", "ignored: true\n")
    write(tmp_path, ".hidden/openapi.yaml", "ignored: true\n")
    loader = Loader()
    targets = loader.expand([str(tmp_path)])
    assert sorted(Path(t).relative_to(tmp_path).as_posix() for t in targets) == [
        "orders/openapi.yaml",
        "orders/pacts/orders-payments.json",
        "orders/service.yaml",
    ]
    kinds = {type(loader.load(t)) for t in targets}
    assert kinds == {ApiSpec, PactFile, ServiceFile}
    pact = loader.load(str(tmp_path / "orders/pacts/orders-payments.json"))
    assert isinstance(pact, PactFile)
    assert (pact.consumer, pact.provider, pact.version) == ("orders", "payments", "3.0.0")


def test_identical_content_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a/openapi.yaml", MINIMAL_30)
    write(tmp_path, "b/openapi.yaml", MINIMAL_30)
    calls: list[str] = []
    real = loader_module.parse_bytes

    def counting(raw: bytes, name: str, limits: Limits) -> object:
        calls.append(name)
        return real(raw, name, limits)

    monkeypatch.setattr(loader_module, "parse_bytes", counting)
    loader = Loader()
    first = loader.load(str(tmp_path / "a/openapi.yaml"))
    second = loader.load(str(tmp_path / "b/openapi.yaml"))
    again = loader.load(str(tmp_path / "a/openapi.yaml"))
    assert len(calls) == 1
    assert first is again and first is not second
    assert isinstance(second, ApiSpec) and second.name.endswith("b/openapi.yaml")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[str]:
    served = tmp_path / "served"
    served.mkdir()
    write(served, "pet.yaml", "type: object\nproperties:\n  id:\n    type: string\n")

    def handler(*args: object, **kwargs: object) -> _Quiet:
        return _Quiet(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_remote_refs_only_when_allowed(tmp_path: Path, local_server: str) -> None:
    text = MINIMAL_30.replace(
        '"#/components/schemas/Pet"\ncomponents', f'"{local_server}/pet.yaml"\ncomponents'
    )
    path = write(tmp_path, "remote.yaml", text)
    with pytest.raises(InputError, match=r"remote \$ref .* refused"):
        Loader().load(str(path))
    spec = Loader(Limits(allow_remote_refs=True)).load(str(path))
    assert isinstance(spec, ApiSpec)
    assert f"{local_server}/pet.yaml" in spec.files
    assert validate_spec(spec) == []
    missing = text.replace("/pet.yaml", "/missing.yaml")
    write(tmp_path, "missing.yaml", missing)
    with pytest.raises(InputError, match="cannot fetch"):
        Loader(Limits(allow_remote_refs=True)).load(str(tmp_path / "missing.yaml"))


SWAGGER = """\
swagger: "2.0"
info:
  title: Legacy
  version: "1.0"
paths:
  /items/{itemId}:
    get:
      operationId: getItem
      parameters:
        - name: itemId
          in: path
          required: true
          type: string
      responses:
        200:
          description: ok
          schema:
            $ref: "#/definitions/Item"
    delete:
      operationId: getItem
      responses:
        204:
          description: gone
definitions:
  Item:
    type: object
    properties:
      size:
        type: integer
        default: large
"""


def test_swagger2_is_normalised_and_findings_keep_original_lines(tmp_path: Path) -> None:
    spec = Loader().load(str(write(tmp_path, "legacy.yaml", SWAGGER)))
    assert isinstance(spec, ApiSpec)
    assert spec.is_swagger2
    assert spec.document["openapi"] == "3.0.3"
    assert "Item" in spec.document["components"]["schemas"]
    found = {f.id: f.location for f in validate_spec(spec)}
    assert set(found) == {
        "oas-duplicate-operation-id",
        "oas-path-parameter-undeclared",
        "oas-invalid-default",
    }
    duplicate = found["oas-duplicate-operation-id"]
    assert duplicate is not None and duplicate.line == 20  # `operationId: getItem` of delete
    undeclared = found["oas-path-parameter-undeclared"]
    assert undeclared is not None and undeclared.line == 19  # `delete:`
    default = found["oas-invalid-default"]
    assert default is not None
    assert (default.pointer, default.line) == ("/definitions/Item/properties/size/default", 30)


def test_root_folder_can_be_the_filesystem_root(tmp_path: Path) -> None:
    write(tmp_path, "api/openapi.yaml", SPLIT_ROOT)
    write(tmp_path, "shared/schemas.yaml", SPLIT_SHARED)
    spec = Loader(root=Path("/")).load(str(tmp_path / "api" / "openapi.yaml"))
    assert isinstance(spec, ApiSpec)
    assert len(spec.files) == 2
    with pytest.raises(InputError, match="escapes the root folder"):
        Loader(root=tmp_path / "api").load(str(tmp_path / "api" / "openapi.yaml"))


def test_a_target_found_under_one_root_is_checked_again_under_another(tmp_path: Path) -> None:
    # x/a.yaml refers to y/b.yaml, which refers to ../c.yaml: inside x (a's root folder, its
    # own folder here), outside x/y (b's, when b is the document loaded).
    spec = "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\n"
    spec += "components:\n  schemas:\n    S:\n      $ref: '{}'\n"
    write(tmp_path, "x/a.yaml", spec.format("y/b.yaml#/components/schemas/S"))
    write(tmp_path, "x/y/b.yaml", spec.format("../c.yaml#/C"))
    write(tmp_path, "x/c.yaml", "C:\n  type: string\n")
    loader = Loader()
    first = loader.load(str(tmp_path / "x" / "a.yaml"))
    assert isinstance(first, ApiSpec)
    assert len(first.files) == 3
    with pytest.raises(InputError, match=r"\$ref '\.\./c\.yaml#/C' escapes the root folder"):
        loader.load(str(tmp_path / "x" / "y" / "b.yaml"))
