"""Generate large, legal OpenAPI 3.0 documents for benchmarks.

``generate_large_spec(n)`` returns a document with exactly ``n`` paths. Paths come in pairs per
resource, a collection (``GET`` list, ``POST`` create) and an item (``GET``, ``PUT``, ``PATCH``,
``DELETE``), with path, query and header parameters, request bodies, several responses each, and
``$ref``s to shared and per-resource ``components`` (schemas, parameters, responses, headers).
The output is deterministic: the same ``n`` always gives the same document.

    python bench/generate.py 6000 /tmp/large.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

AREAS = ["billing", "catalog", "identity", "logistics", "messaging", "payments", "reporting"]
NOUNS = [
    "account",
    "invoice",
    "customer",
    "shipment",
    "product",
    "order",
    "refund",
    "webhook",
    "report",
    "ticket",
    "subscription",
    "warehouse",
]
STATUSES = ["draft", "active", "suspended", "archived"]
GROUP = 8  # resources per group; each refers to its group's first resource

Json = dict[str, Any]


def _ref(kind: str, name: str) -> Json:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json_content(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _resource(k: int) -> tuple[str, str, str]:
    """(area, noun, schema base name) of resource number ``k``."""
    area = AREAS[k % len(AREAS)]
    noun = NOUNS[(k // len(AREAS)) % len(NOUNS)]
    return area, noun, f"{noun.capitalize()}{k}"


def _paths_for(k: int) -> tuple[str, str]:
    area, noun, _ = _resource(k)
    collection = f"/v1/{area}/{noun}s-{k}"
    return collection, f"{collection}/{{{noun}Id}}"


def _schemas_for(k: int) -> Json:
    base = _resource(k)[2]
    properties: Json = {
        "id": {"type": "string", "readOnly": True},
        "name": {"type": "string", "maxLength": 200},
        "status": _ref("schemas", "Status"),
        "amount": {"type": "number", "minimum": 0},
        "createdAt": {"type": "string", "format": "date-time"},
        "metadata": _ref("schemas", "Metadata"),
    }
    head = k - k % GROUP
    if k != head:
        # A link to the first resource of its group: the $ref graph is not a forest of stars,
        # yet stays shallow like real APIs (a chain through every resource would make tools that
        # expand references do quadratic work, which is not what this benchmark is about).
        properties["parent"] = _ref("schemas", _resource(head)[2])
    return {
        base: {
            "type": "object",
            "required": ["id", "name", "status"],
            "properties": properties,
        },
    }


def _collection_item(k: int) -> Json:
    area, noun, base = _resource(k)
    return {
        "get": {
            "operationId": f"list{base}s",
            "tags": [area],
            "parameters": [
                _ref("parameters", "Limit"),
                _ref("parameters", "Cursor"),
            ],
            "responses": {
                "200": {
                    "description": f"A page of {noun}s.",
                    "content": _json_content({"type": "array", "items": _ref("schemas", base)}),
                },
                "default": _ref("responses", "Error"),
            },
        },
        "post": {
            "operationId": f"create{base}",
            "tags": [area],
            "requestBody": {
                "required": True,
                "content": _json_content(_ref("schemas", base)),
            },
            "responses": {
                "201": {
                    "description": "Created.",
                    "headers": {"Location": _ref("headers", "Location")},
                    "content": _json_content(_ref("schemas", base)),
                },
                "400": _ref("responses", "BadRequest"),
            },
        },
    }


def _item_item(k: int) -> Json:
    area, noun, base = _resource(k)
    return {
        "parameters": [
            {
                "name": f"{noun}Id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
        ],
        "get": {
            "operationId": f"get{base}",
            "tags": [area],
            "responses": {
                "200": {"description": "Found.", "content": _json_content(_ref("schemas", base))},
                "404": _ref("responses", "NotFound"),
            },
        },
        "put": {
            "operationId": f"replace{base}",
            "tags": [area],
            "requestBody": {
                "required": True,
                "content": _json_content(_ref("schemas", base)),
            },
            "responses": {
                "200": {"description": "Replaced."},
                "404": _ref("responses", "NotFound"),
            },
        },
        "delete": {
            "operationId": f"delete{base}",
            "responses": {
                "204": {"description": "Deleted."},
                "404": _ref("responses", "NotFound"),
            },
        },
    }


def _components(n_resources: int) -> Json:
    def error_response(description: str) -> Json:
        return {"description": description, "content": _json_content(_ref("schemas", "Error"))}

    schemas: Json = {
        "Status": {"type": "string", "enum": list(STATUSES)},
        "Metadata": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 500},
            "maxProperties": 50,
        },
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        },
    }
    for k in range(n_resources):
        schemas.update(_schemas_for(k))
    return {
        "schemas": schemas,
        "parameters": {
            "Limit": {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            },
            "Cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "schema": {"type": "string", "maxLength": 64},
            },
        },
        "headers": {
            "Location": {"description": "URL of the new resource.", "schema": {"type": "string"}}
        },
        "responses": {
            "BadRequest": error_response("The request is malformed."),
            "Unauthorized": error_response("Authentication is required."),
            "NotFound": error_response("No such resource."),
            "Conflict": error_response("The resource already exists."),
            "Error": error_response("Unexpected error."),
        },
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }


def generate_large_spec(n_paths: int) -> dict[str, Any]:
    """A legal OpenAPI 3.0.3 document with exactly ``n_paths`` paths."""
    if n_paths < 1:
        raise ValueError("n_paths must be at least 1")
    n_resources = (n_paths + 1) // 2
    paths: Json = {}
    for j in range(n_paths):
        k = j // 2
        collection, item = _paths_for(k)
        if j % 2 == 0:
            paths[collection] = _collection_item(k)
        else:
            paths[item] = _item_item(k)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"Generated fleet API ({n_paths} paths)",
            "version": "1.0.0",
            "description": "Synthetic document for apigov benchmarks.",
        },
        "servers": [{"url": "https://api.example.com"}],
        "security": [{"bearer": []}],
        "tags": [{"name": area} for area in AREAS],
        "paths": paths,
        "components": _components(n_resources),
    }


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper (libyaml when present) that never writes anchors/aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_spec(spec: dict[str, Any], path: Path) -> Path:
    """Write as JSON when ``path`` ends in ``.json``, as block-style YAML otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8") as fh:
            yaml.dump(spec, fh, Dumper=_Dumper, sort_keys=False, width=100)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a generated OpenAPI 3.0 document.")
    parser.add_argument("paths", type=int, help="number of paths")
    parser.add_argument("output", type=Path, help="file to write (.yaml or .json)")
    args = parser.parse_args(argv)
    out = write_spec(generate_large_spec(args.paths), args.output)
    print(f"{out}: {args.paths} paths, {out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
