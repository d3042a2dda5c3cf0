"""bundle(): a multi-file spec as one document with only local references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apigov.spec import pointer as jp
from apigov.spec.bundle import BUNDLED, bundle
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import CONTRACTS, write


def refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            found.extend(refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(refs(value))
    return found


def load(path: Path | str) -> ApiSpec:
    spec = Loader().load(str(path))
    assert isinstance(spec, ApiSpec)
    return spec


@pytest.mark.parametrize(
    "path",
    [
        "orders/openapi.yaml",
        "payments/openapi.yaml",
        "inventory/openapi.yaml",
        "shipping/openapi.yaml",
        "notifications/openapi.json",
    ],
)
def test_fleet_specs_bundle_to_local_references_that_all_resolve(path: str) -> None:
    document = bundle(load(CONTRACTS / path))
    found = refs(document)
    assert found, "every fleet spec refers to _shared/"
    for ref in found:
        assert ref.startswith("#/"), ref
        jp.resolve(document, ref[1:])  # raises if the bundle lost a target


def test_a_shared_node_is_copied_once_and_its_own_refs_follow_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shared.yaml",
        "Money:\n  type: object\n  properties:\n    currency: {$ref: '#/Currency'}\n"
        "Currency: {type: string, pattern: '^[A-Z]{3}$'}\n",
    )
    spec_path = write(
        tmp_path,
        "openapi.yaml",
        """\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  price: {$ref: 'shared.yaml#/Money'}
                  total: {$ref: 'shared.yaml#/Money'}
                  local: {$ref: '#/components/schemas/Local'}
components:
  schemas:
    Local: {type: integer}
""",
    )
    document = bundle(load(spec_path))
    properties = document["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]["properties"]
    assert properties["price"] == {"$ref": f"#/{BUNDLED}/shared.yaml-Money"}
    assert properties["total"] == properties["price"]
    assert properties["local"] == {"$ref": "#/components/schemas/Local"}
    assert document[BUNDLED] == {
        "shared.yaml-Money": {
            "type": "object",
            "properties": {"currency": {"$ref": f"#/{BUNDLED}/shared.yaml-Currency"}},
        },
        "shared.yaml-Currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }


def test_recursive_schema_in_another_file_stays_recursive(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tree.yaml",
        "Node:\n  type: object\n  properties:\n    children:\n      type: array\n"
        "      items: {$ref: '#/Node'}\n",
    )
    spec_path = write(
        tmp_path,
        "openapi.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    Tree: {$ref: 'tree.yaml#/Node'}\n",
    )
    document = bundle(load(spec_path))
    node = document[BUNDLED]["tree.yaml-Node"]
    assert node["properties"]["children"]["items"] == {"$ref": f"#/{BUNDLED}/tree.yaml-Node"}
    assert document["components"]["schemas"]["Tree"] == {"$ref": f"#/{BUNDLED}/tree.yaml-Node"}


def test_single_file_spec_is_an_equal_copy_not_the_same_object() -> None:
    spec = load(CONTRACTS / "orders" / "openapi.yaml")
    document = bundle(spec)
    document["info"]["title"] = "changed"
    assert spec.document["info"]["title"] != "changed"


def test_same_name_from_two_files_gets_two_entries(tmp_path: Path) -> None:
    write(tmp_path / "a", "types.yaml", "Id: {type: string}\n")
    write(tmp_path / "b", "types.yaml", "Id: {type: integer}\n")
    spec_path = write(
        tmp_path,
        "openapi.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: 'a/types.yaml#/Id'}\n    B: {$ref: 'b/types.yaml#/Id'}\n",
    )
    document = bundle(load(spec_path))
    assert document[BUNDLED] == {
        "types.yaml-Id": {"type": "string"},
        "types.yaml-Id-2": {"type": "integer"},
    }
