"""Every fleet rule: a fleet that breaks it and the same fleet fixed, plus levels and limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from governance_support import pact, service_yaml, spec, write_service

from apigov.findings import Finding, Level
from apigov.governance.graph import build_graph
from apigov.governance.rules import CATALOGUE, FleetSettings, fleet_findings, settings_from_data
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import REPO

TODAY = dt.date(2026, 11, 25)
Fleet = Callable[[Path, bool], None]


def _two(root: Path, consumer_pact: list[str], **provider_ops: dict[str, object]) -> None:
    write_service(
        root,
        "orders",
        service=service_yaml("orders", "checkout"),
        openapi=spec("orders", provider_ops),
    )
    write_service(
        root,
        "shipping",
        service=service_yaml("shipping", "logistics"),
        openapi=spec("shipping", {"GET /shipments": {}}),
        pacts=[pact("shipping", "orders", consumer_pact)],
    )


def cycle(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    calls_back = ["GET /v1/shipments"] if broken else ["message: a shipment was booked"]
    write_service(root, "orders", pacts=[pact("orders", "shipping", calls_back)])


def internal(root: Path, broken: bool) -> None:
    _two(
        root,
        ["POST /v1/orders/7/recalculate"],
        **{"POST /orders/{orderId}/recalculate": {"x-internal": broken}},
    )


def sunset(root: Path, broken: bool) -> None:
    day = "2026-06-30" if broken else "2027-06-30"
    _two(
        root,
        ["GET /v1/orders/search"],
        **{"GET /orders/search": {"x-sunset": day, "deprecated": True}},
    )


def deprecated(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders/search"], **{"GET /orders/search": {"deprecated": broken}})


def owner(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    if broken:
        (root / "orders" / "service.yaml").unlink()


def provider_unknown(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    if broken:
        write_service(root, "shipping", pacts=[pact("shipping", "billing", ["GET /v1/invoices"])])


def provider_without_spec(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    write_service(root, "billing", service=service_yaml("billing"))
    # A message-only pact needs no OpenAPI document; an HTTP one does.
    requests = ["GET /v1/invoices"] if broken else ["message: an invoice was sent"]
    write_service(root, "shipping", pacts=[pact("shipping", "billing", requests)])


def fan_in(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    if broken:
        write_service(
            root,
            "notifications",
            service=service_yaml("notifications"),
            pacts=[pact("notifications", "orders", ["GET /v1/orders"])],
        )


def fan_out(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    if broken:
        write_service(
            root,
            "billing",
            service=service_yaml("billing"),
            openapi=spec("billing", {"GET /invoices": {}}),
        )
        write_service(root, "shipping", pacts=[pact("shipping", "billing", ["GET /v1/invoices"])])


def shared_owner(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    write_service(
        root,
        "orders",
        service=service_yaml("orders", "checkout", datastores={"owns": ["orders-db"]}),
    )
    mine = ["orders-db"] if broken else ["shipping-db"]
    write_service(
        root, "shipping", service=service_yaml("shipping", "logistics", datastores={"owns": mine})
    )


def read_without_owner(root: Path, broken: bool) -> None:
    _two(root, ["GET /v1/orders"], **{"GET /orders": {}})
    write_service(
        root,
        "orders",
        service=service_yaml("orders", "checkout", datastores={"owns": ["orders-db"]}),
    )
    reads = ["orders-db"] if broken else ["shipping-db"]
    stores = {"owns": ["shipping-db"], "reads": reads}
    write_service(
        root, "shipping", service=service_yaml("shipping", "logistics", datastores=stores)
    )


FLEETS: dict[str, Fleet] = {
    "fleet-dependency-cycle": cycle,
    "fleet-internal-operation-used": internal,
    "fleet-sunset-operation-used": sunset,
    "fleet-deprecated-operation-used": deprecated,
    "fleet-service-without-owner": owner,
    "fleet-pact-provider-unknown": provider_unknown,
    "fleet-pact-provider-without-spec": provider_without_spec,
    "fleet-fan-in-exceeded": fan_in,
    "fleet-fan-out-exceeded": fan_out,
    "fleet-datastore-shared-owner": shared_owner,
    "fleet-datastore-read-without-owner": read_without_owner,
}
# fleet-used-operation-removed-without-deprecation needs a base revision: tested below.
SETTINGS = FleetSettings(fan_in=1, fan_out=1)


def findings_for(root: Path, **kwargs: object) -> list[Finding]:
    graph = build_graph(root, Loader())
    return fleet_findings(graph, SETTINGS, today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_every_rule_has_a_failing_and_passing_fleet() -> None:
    tested = {*FLEETS, "fleet-used-operation-removed-without-deprecation"}
    assert tested == set(CATALOGUE)
    for rule in CATALOGUE.values():
        assert rule.doc and rule.failing and rule.passing


@pytest.mark.parametrize("rule_id", sorted(FLEETS))
def test_rule_fails_then_passes(tmp_path: Path, rule_id: str) -> None:
    FLEETS[rule_id](tmp_path / "broken", True)
    FLEETS[rule_id](tmp_path / "fixed", False)
    broken = [f for f in findings_for(tmp_path / "broken") if f.id == rule_id]
    fixed = [f for f in findings_for(tmp_path / "fixed") if f.id == rule_id]
    assert broken, f"{rule_id} found nothing in the broken fleet"
    assert all(f.level is CATALOGUE[rule_id].level for f in broken)
    assert fixed == []


def test_cycle_names_the_services_in_order(tmp_path: Path) -> None:
    cycle(tmp_path, True)
    (found,) = [f for f in findings_for(tmp_path) if f.id == "fleet-dependency-cycle"]
    assert found.message == "services call each other in a cycle: orders -> shipping -> orders"
    assert found.consumers == ("orders", "shipping")


def test_internal_use_names_consumer_operation_and_interaction(tmp_path: Path) -> None:
    internal(tmp_path, True)
    (found,) = [f for f in findings_for(tmp_path) if f.id == "fleet-internal-operation-used"]
    assert found.service == "orders"
    assert found.operation == "POST /orders/{orderId}/recalculate"
    assert found.consumers == ("shipping",)
    assert "'a POST of /v1/orders/7/recalculate'" in found.message
    assert found.location is not None
    assert found.location.file.endswith("shipping/pacts/shipping-orders.json")
    assert found.location.pointer == "/interactions/0"


def test_internal_operation_used_by_its_own_team_is_fine(tmp_path: Path) -> None:
    internal(tmp_path, True)
    write_service(tmp_path, "shipping", service=service_yaml("shipping", "checkout"))
    assert [f for f in findings_for(tmp_path) if f.id == "fleet-internal-operation-used"] == []


def test_service_declared_internal_is_internal_for_every_operation(tmp_path: Path) -> None:
    _two(tmp_path, ["GET /v1/orders"], **{"GET /orders": {}})
    write_service(tmp_path, "orders", service=service_yaml("orders", "checkout", internal=True))
    (found,) = [f for f in findings_for(tmp_path) if f.id == "fleet-internal-operation-used"]
    assert "orders, a service declared internal in its service.yaml" in found.message


def test_sunset_on_the_day_itself_is_not_past(tmp_path: Path) -> None:
    _two(tmp_path, ["GET /v1/orders/search"], **{"GET /orders/search": {"x-sunset": "2026-11-25"}})
    assert [f for f in findings_for(tmp_path) if f.id == "fleet-sunset-operation-used"] == []


def test_fan_in_message_counts_distinct_consumers(tmp_path: Path) -> None:
    fan_in(tmp_path, True)
    (found,) = [f for f in findings_for(tmp_path) if f.id == "fleet-fan-in-exceeded"]
    assert found.message == (
        "orders has 2 consumers, more than the fan-in limit of 1: notifications, shipping"
    )
    assert found.consumers == ("notifications", "shipping")


def test_datastore_read_names_the_owner(tmp_path: Path) -> None:
    read_without_owner(tmp_path, True)
    (found,) = [f for f in findings_for(tmp_path) if f.id == "fleet-datastore-read-without-owner"]
    assert found.service == "shipping"
    assert "reads datastore orders-db (owned by orders)" in found.message
    assert found.location is not None and found.location.pointer == "/datastores/reads/0"


def test_removed_operation_without_deprecation(tmp_path: Path) -> None:
    operations: dict[str, dict[str, object]] = {"GET /orders/{id}": {}, "GET /orders": {}}
    _two(tmp_path / "base", ["GET /v1/orders/7"], **operations)
    _two(tmp_path / "head", ["GET /v1/orders/7"], **{"GET /orders": {}})
    base = Loader().load(str(tmp_path / "base" / "orders" / "openapi.yaml"))
    assert isinstance(base, ApiSpec)
    (found,) = [
        f
        for f in findings_for(tmp_path / "head", base_specs={"orders": base})
        if f.id == "fleet-used-operation-removed-without-deprecation"
    ]
    assert found.operation == "GET /orders/{id}"
    assert found.consumers == ("shipping",)
    # Deprecated first, then removed: allowed.
    _two(
        tmp_path / "deprecated",
        ["GET /v1/orders/7"],
        **{**operations, "GET /orders/{id}": {"deprecated": True}},
    )
    base = Loader().load(str(tmp_path / "deprecated" / "orders" / "openapi.yaml"))
    assert isinstance(base, ApiSpec)
    later = findings_for(tmp_path / "head", base_specs={"orders": base})
    assert [f for f in later if f.id == "fleet-used-operation-removed-without-deprecation"] == []


def test_levels_and_limits_from_data(tmp_path: Path) -> None:
    fan_in(tmp_path, True)
    graph = build_graph(tmp_path, Loader())
    settings = settings_from_data(
        {
            "levels": {"fleet-fan-in-exceeded": "error", "fleet-fan-out-exceeded": "off"},
            "limits": {"fan-in": 1},
        },
        "fleet.yaml",
    )
    found = fleet_findings(graph, settings, today=TODAY)
    assert [(f.id, f.level) for f in found] == [("fleet-fan-in-exceeded", Level.ERROR)]
    relaxed = settings.merged({"limits": {"fan-in": 2}}, "apigov.yaml")
    assert fleet_findings(graph, relaxed, today=TODAY) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"levels": {"fleet-nope": "error"}}, "unknown fleet rule 'fleet-nope'"),
        ({"levels": {"fleet-dependency-cycle": "fatal"}}, "must be error, warning, info or off"),
        ({"limits": {"fan-in": 0}}, "fan-in: must be a whole number of at least 1"),
        ({"limits": {"fan-up": 3}}, "unknown limit 'fan-up'"),
        ({"level": {}}, "unknown key 'level'"),
    ],
)
def test_settings_mistakes_are_input_errors(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        settings_from_data(data, "fleet.yaml")


def test_shipped_fleet_yaml_restates_the_catalogue() -> None:
    loaded = Loader().source(str(REPO / "rules" / "fleet.yaml")).data
    settings = settings_from_data(loaded, "rules/fleet.yaml")
    assert set(settings.levels) == set(CATALOGUE)
    assert all(settings.level(rule_id) is rule.level for rule_id, rule in CATALOGUE.items())
    assert (settings.fan_in, settings.fan_out) == (10, 8)
