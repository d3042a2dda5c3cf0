"""Message verification: the fleet's real message pacts against the real orders provider."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from examples.services import orders

from apigov.findings import Finding, Level
from apigov.pact.verify import VerifySettings, verify_pacts
from apigov.pact.verify_messages import url_producer
from apigov.pytest_plugin import serve_asgi
from apigov.spec.loader import Loader
from apigov.spec.model import PactFile
from helpers import CONTRACTS, REPO, run_apigov

# The Pact core phones home after each verification unless told not to; never in tests.
os.environ["PACT_DO_NOT_TRACK"] = "true"

pytest_plugins = ["pytester"]

NOTIFICATIONS_ORDERS = CONTRACTS / "notifications" / "pacts" / "notifications-orders.json"
PACT_ARGUMENT = "contracts/notifications/pacts/notifications-orders.json"
CREATED = "an order.created event"
CANCELLED = "an order.cancelled event"
SHIPPED_REQUEST = "a request for a shipped order"
STATES_PATH = "/_pact/provider-states"
MESSAGES_PATH = "/_pact/messages"


@pytest.fixture
def orders_url() -> Iterator[str]:
    """The fleet's orders provider with its Pact endpoints, served on 127.0.0.1."""
    with serve_asgi(orders.create_app(provider_states=True)) as url:
        yield url


def load_pact() -> PactFile:
    document = Loader().load(str(NOTIFICATIONS_ORDERS))
    assert isinstance(document, PactFile)
    return document


def by_description(findings: list[Finding]) -> dict[str, Finding]:
    found: dict[str, Finding] = {}
    for finding in findings:
        description = finding.message.split("'")[1]
        found[description] = finding
    return found


def pact_message(description: str) -> tuple[Any, dict[str, Any]]:
    """The example message the pact itself holds (its contents match their own rules)."""
    data = json.loads(NOTIFICATIONS_ORDERS.read_text(encoding="utf-8"))
    for node in data["interactions"]:
        if node["description"] == description:
            return node["contents"]["content"], dict(node["metadata"])
    raise AssertionError(description)


def test_the_real_producer_passes_every_message_of_the_pact(orders_url: str) -> None:
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--base-url",
        orders_url,
        "--state-change-url",
        orders_url + STATES_PATH,
        "--message-url",
        orders_url + MESSAGES_PATH,
        "--pact",
        PACT_ARGUMENT,
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    verdicts = {f["message"].split("'")[1]: (f["id"], f["level"]) for f in findings}
    # Two messages and one HTTP interaction, all verified now (none "not verified").
    assert verdicts == {
        CREATED: ("verify-interaction-passed", "info"),
        CANCELLED: ("verify-interaction-passed", "info"),
        SHIPPED_REQUEST: ("verify-interaction-passed", "info"),
    }


def test_a_renamed_field_fails_the_messages_that_carry_it(
    orders_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish = orders.OrdersStore.publish

    def publish_with_renamed_email(store: orders.OrdersStore, event: dict[str, Any]) -> None:
        # The defect under test: the producer calls the field `email` instead of
        # `customerEmail` (order.created nests it in the order, order.cancelled carries it).
        event = json.loads(json.dumps(event))
        holder = event.get("order", event)
        if "customerEmail" in holder:
            holder["email"] = holder.pop("customerEmail")
        publish(store, event)

    monkeypatch.setattr(orders.OrdersStore, "publish", publish_with_renamed_email)
    settings = VerifySettings(
        "orders",
        orders_url,
        state_change_url=orders_url + STATES_PATH,
        message_url=orders_url + MESSAGES_PATH,
    )
    run = verify_pacts([load_pact()], settings)
    assert not run.passed
    found = by_description(run.findings())
    created, cancelled = found[CREATED], found[CANCELLED]
    assert (created.id, created.level) == ("verify-body-mismatch", Level.ERROR)
    assert "body at $.order.customerEmail: expected key 'customerEmail'" in created.message
    assert (cancelled.id, cancelled.level) == ("verify-body-mismatch", Level.ERROR)
    assert "body at $.customerEmail: expected key 'customerEmail'" in cancelled.message
    assert created.location is not None and created.location.file.endswith(PACT_ARGUMENT)
    assert created.consumers == ("notifications",)
    # The HTTP interaction does not carry events: it still passes.
    assert found[SHIPPED_REQUEST].id == "verify-interaction-passed"


def test_a_python_producer_gets_the_description_and_the_states_with_params() -> None:
    calls: list[tuple[str, list[dict[str, Any]]]] = []

    def produce(description: str, states: Sequence[Mapping[str, Any]]) -> tuple[Any, Any]:
        calls.append((description, [dict(s) for s in states]))
        contents, metadata = pact_message(description)
        if description == CANCELLED:
            metadata["eventType"] = "order.deleted"  # the defect: another event type
        return contents, metadata

    with serve_asgi(orders.create_app(provider_states=True)) as url:
        run = verify_pacts(
            [load_pact()],
            VerifySettings("orders", url, state_change_url=url + STATES_PATH),
            message_producer=produce,
        )
    order_id = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
    email = "ada.lovelace@example.com"
    assert calls == [
        (
            CREATED,
            [
                {
                    "name": "an order was placed",
                    "params": {"orderId": order_id, "customerEmail": email},
                }
            ],
        ),
        (
            CANCELLED,
            [
                {
                    "name": "a paid order was cancelled by the customer",
                    "params": {"orderId": order_id, "customerEmail": email},
                }
            ],
        ),
    ]
    found = by_description(run.findings())
    assert found[CREATED].id == "verify-interaction-passed"
    assert found[CANCELLED].id == "verify-metadata-mismatch"
    assert 'metadata eventType: expected "order.cancelled", found "order.deleted"' in (
        found[CANCELLED].message
    )


def test_a_producer_with_nothing_to_send_fails_the_interaction(orders_url: str) -> None:
    # No state set-up: orders published nothing, and its endpoint answers 404.
    settings = VerifySettings("orders", orders_url, message_url=orders_url + MESSAGES_PATH)
    found = by_description(verify_pacts([load_pact()], settings).findings())
    created = found[CREATED]
    assert (created.id, created.level) == ("verify-request-failed", Level.ERROR)
    assert f"{orders_url}{MESSAGES_PATH} answered 404" in created.message
    assert "nothing was published" in created.message


def test_a_failing_state_set_up_fails_the_message_before_it_is_asked_for() -> None:
    asked: list[str] = []

    def refuse(state: str, action: str, params: Mapping[str, Any]) -> None:
        raise RuntimeError("database is down")

    def produce(description: str, states: Sequence[Mapping[str, Any]]) -> tuple[Any, Any]:
        asked.append(description)
        return pact_message(description)

    with serve_asgi(orders.create_app(provider_states=True)) as url:
        run = verify_pacts(
            [load_pact()],
            VerifySettings("orders", url),
            state_handler=refuse,
            message_producer=produce,
        )
    found = by_description(run.findings())
    assert found[CREATED].id == "verify-state-change-failed"
    assert "'an order was placed': database is down" in found[CREATED].message
    assert asked == []


def test_metadata_comes_from_the_pact_message_metadata_header(orders_url: str) -> None:
    # Set up the state through the provider's own endpoint, then ask as the verifier does.
    state = {"state": "an order was placed", "params": {"orderId": "x", "customerEmail": "a@b"}}

    request = urllib.request.Request(
        orders_url + STATES_PATH,
        data=json.dumps({**state, "action": "setup"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    contents, metadata = url_producer(orders_url + MESSAGES_PATH, 10)(CREATED, [])
    assert json.loads(contents)["eventType"] == "order.created"
    assert metadata == {
        "contentType": "application/json",
        "topic": "shop.orders.v1",
        "eventType": "order.created",
    }


def test_without_a_message_url_messages_stay_not_verified(orders_url: str) -> None:
    settings = VerifySettings("orders", orders_url, state_change_url=orders_url + STATES_PATH)
    found = by_description(verify_pacts([load_pact()], settings).findings())
    assert (found[CREATED].id, found[CREATED].level) == (
        "verify-interaction-not-verified",
        Level.INFO,
    )
    assert "--message-url" in found[CREATED].message


PLUGIN_SUITE = """
import pytest
from examples.services.orders import create_app


@pytest.mark.apigov_provider(
    name="orders",
    pacts={pacts!r},
    app=create_app(provider_states=True),
    states={{
        "an order was placed": lambda params: None,
        "a paid order was cancelled by the customer": lambda params: None,
        "an order was shipped": lambda params: None,
    }},
)
def test_messages(apigov_verify):
    def produce(description, states):
        contents = {{"eventType": "order.created", "order": {{}}}}
        return contents, {{"contentType": "application/json"}}

    apigov_verify(messages=produce)
"""


def test_the_plugin_fails_a_provider_whose_messages_lack_fields(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"import sys\nsys.path[:0] = {[str(REPO)]!r}\n")
    pytester.makepyfile(test_provider=PLUGIN_SUITE.format(pacts=str(NOTIFICATIONS_ORDERS)))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*orders does not honour its consumers' pacts:*",
            "*notifications-orders.json:10:7: verify-body-mismatch: 'an order.created event' "
            "given 'an order was placed': body at $.eventId: expected key 'eventId'*",
        ]
    )


def test_a_message_only_provider_needs_no_base_url(orders_url: str) -> None:
    result = run_apigov(
        "verify",
        "--provider",
        "orders",
        "--state-change-url",
        orders_url + STATES_PATH,
        "--message-url",
        orders_url + MESSAGES_PATH,
        "--pact",
        PACT_ARGUMENT,
        "--format",
        "json",
    )
    # The pact's HTTP interaction cannot be replayed without one: an error that says why.
    assert result.code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    verdicts = {f["message"].split("'")[1]: (f["id"], f["level"]) for f in findings}
    assert verdicts == {
        CREATED: ("verify-interaction-passed", "info"),
        CANCELLED: ("verify-interaction-passed", "info"),
        SHIPPED_REQUEST: ("verify-interaction-not-verified", "error"),
    }
    shipped = next(f for f in findings if SHIPPED_REQUEST in f["message"])
    assert "no base URL to replay it against (--base-url)" in shipped["message"]


def test_without_base_url_or_message_url_the_command_refuses() -> None:
    result = run_apigov("verify", "--provider", "orders", "--pact", PACT_ARGUMENT)
    assert result.code == 2
    assert "--base-url is required (or --message-url" in result.stderr


PLUGIN_PATH_SUITE = """
import pytest
from examples.services.orders import _states, create_app

app = create_app(provider_states=True)
known = _states(app.state.store)


def state(name):
    def set_up(params):
        assert known.apply(name, params), name
    return set_up


NAMES = [
    "an order was placed",
    "a paid order was cancelled by the customer",
    "an order was shipped",
]


@pytest.mark.apigov_provider(
    name="orders", pacts={pacts!r}, app=app, states={{n: state(n) for n in NAMES}}
)
def test_messages(apigov_verify):
    run = apigov_verify(messages="/_pact/messages")
    assert run.passed
    assert [o.verified for o in run.pacts[0].interactions] == [True, True, True]
"""


def test_the_plugin_verifies_messages_at_a_path_of_the_served_app(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(f"import sys\nsys.path[:0] = {[str(REPO)]!r}\n")
    pytester.makepyfile(test_provider=PLUGIN_PATH_SUITE.format(pacts=str(NOTIFICATIONS_ORDERS)))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
