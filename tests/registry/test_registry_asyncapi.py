"""A service folder with an AsyncAPI document publishes it (and the files it refers to)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from apigov.registry.domain import Role
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from helpers import CONTRACTS, REPO, write

EVENTS = REPO / "tests" / "pact" / "data" / "asyncapi" / "orders-events-3.yaml"


def orders_with_events(tmp_path: Path) -> Path:
    folder = tmp_path / "contracts" / "orders"
    shutil.copytree(CONTRACTS / "orders", folder)
    shutil.copytree(CONTRACTS / "_shared", tmp_path / "contracts" / "_shared")
    # The money schema moves to its own file so the event contract has a part to publish.
    text = EVENTS.read_text().replace(
        "unitPrice: {$ref: '#/components/schemas/Money'}", "unitPrice: {$ref: 'money.yaml'}"
    )
    write(folder, "asyncapi.yaml", text)
    write(
        folder,
        "money.yaml",
        "type: object\nrequired: [amount, currency]\nproperties:\n"
        "  amount: {type: integer}\n  currency: {type: string}\n",
    )
    return folder


def test_asyncapi_and_its_parts_are_collected_with_their_roles(tmp_path: Path) -> None:
    folder = orders_with_events(tmp_path)
    collected = collect_service_folder(folder, "orders", Loader(root=tmp_path))
    roles = {f.path: f.role for f in collected.files}
    assert roles["asyncapi.yaml"] is Role.ASYNCAPI
    assert roles["money.yaml"] is Role.ASYNCAPI_PART
    assert roles["openapi.yaml"] is Role.SPEC
    assert {f.kind for f in collected.files if f.path.startswith("asyncapi")} == {"asyncapi"}


def test_published_asyncapi_reads_back_with_its_role(tmp_path: Path, registry: SqlRegistry) -> None:
    folder = orders_with_events(tmp_path)
    collected = collect_service_folder(folder, "orders", Loader(root=tmp_path))
    registry.publish("orders", "1.0.0", collected.files, metadata=collected.metadata)
    version = registry.version("orders", "1.0.0")
    assert version is not None
    stored = {f.path: f.role for f in version.files}
    assert stored["asyncapi.yaml"] is Role.ASYNCAPI
    assert stored["money.yaml"] is Role.ASYNCAPI_PART
    # The event contract is not part of the OpenAPI spec's files (nor of its digest).
    assert "asyncapi.yaml" not in {f.path for f in version.spec_files}


def test_two_asyncapi_documents_in_one_folder_are_refused(tmp_path: Path) -> None:
    folder = orders_with_events(tmp_path)
    write(folder, "asyncapi.json", '{"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"}}')
    with pytest.raises(InputError, match="one AsyncAPI document"):
        collect_service_folder(folder, "orders", Loader(root=tmp_path))
