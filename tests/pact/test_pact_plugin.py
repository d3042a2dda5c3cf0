"""The pytest plugin, as a provider's own test suite uses it (run with pytester)."""

from __future__ import annotations

import shutil
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from verify_support import ORDERS_PAYMENTS

from apigov.pytest_plugin import serve_asgi
from helpers import CONTRACTS

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parents[1]

# A provider's application module (named to the plugin as "payments_app:app") and its test
# module: state handlers, and one test using the plugin.
PROVIDER_APP = """
from verify_support import PaymentsProvider

provider = PaymentsProvider(defects=frozenset({defects}))
app = provider.app()
"""

PROVIDER_SUITE = """
import pytest
from payments_app import provider


def authorised(params):
    provider.set_up("a payment is authorised", params)


def captured(params):
    provider.set_up("a payment is captured", params)


STATES = {{
    "the payment provider accepts the card token": lambda params: None,
    "the payment provider declines the card token": lambda params: None,
    "a payment is authorised": authorised,
    "a payment is captured": captured,
}}


@pytest.mark.apigov_provider(
    name="payments", pacts={pacts!r}, app="payments_app:app", states=STATES
)
def test_pacts_hold_live(apigov_verify):
    run = apigov_verify()
    assert run.passed
"""


def importable_support(pytester: pytest.Pytester) -> None:
    """The inner suite imports the test provider (verify_support) from this folder."""
    folders = [str(Path(__file__).parent), str(TESTS)]
    pytester.makeconftest(f"import sys\nsys.path[:0] = {folders!r}\n")


def provider_suite(pytester: pytest.Pytester, defects: set[str]) -> None:
    importable_support(pytester)
    pytester.makepyfile(
        payments_app=PROVIDER_APP.format(defects=sorted(defects)),
        test_provider=PROVIDER_SUITE.format(pacts=str(ORDERS_PAYMENTS)),
    )


def test_a_provider_that_honours_its_pacts_passes(pytester: pytest.Pytester) -> None:
    provider_suite(pytester, set())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_broken_provider_fails_with_the_mismatch(pytester: pytest.Pytester) -> None:
    provider_suite(pytester, {"missing-field"})
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*payments does not honour its consumers' pacts:*",
            "*orders-payments.json:210:7: verify-body-mismatch: "
            "'a request for an authorised payment' given 'a payment is authorised': "
            "body at $: Actual map is missing the following keys: method*",
        ]
    )


def test_a_state_without_a_handler_fails_its_interactions(pytester: pytest.Pytester) -> None:
    importable_support(pytester)
    pytester.makepyfile(
        test_provider=f"""
import pytest
from verify_support import PaymentsProvider

provider = PaymentsProvider()


@pytest.mark.apigov_provider(name="payments", pacts={str(ORDERS_PAYMENTS)!r})
def test_pacts(apigov_verify):
    apigov_verify(states={{}})


@pytest.fixture
def apigov_asgi_app():
    return provider.app()
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*verify-state-change-failed: 'a request for an authorised payment' given "
            "'a payment is authorised': provider state set-up failed: 'a payment is authorised': "
            "no state handler for 'a payment is authorised' (add it to states=...)*"
        ]
    )


COMPAT_SUITE = """
import pytest


@pytest.mark.apigov_provider(name="payments", pacts={pacts!r}, spec={spec!r})
def test_pacts_fit_the_spec(apigov_compat):
    findings = apigov_compat()
    # Three fields the consumer relies on are not marked required: warnings, not failures.
    assert sorted(f.id for f in findings) == ["compat-response-field-optional"] * 3
"""


def test_static_compatibility_passes_for_the_real_spec(pytester: pytest.Pytester) -> None:
    spec = CONTRACTS / "payments" / "openapi.yaml"
    pytester.makepyfile(
        test_provider=COMPAT_SUITE.format(pacts=str(ORDERS_PAYMENTS), spec=str(spec))
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_static_compatibility_failures_name_the_interaction(pytester: pytest.Pytester) -> None:
    text = (CONTRACTS / "payments" / "openapi.yaml").read_text(encoding="utf-8")
    # The spec renames the void operation's path: the pact's void request fits no operation.
    assert text.count("  /payments/{paymentId}/void:") == 1
    # Next to a copy of the shared files its $refs name (../_shared/...).
    shutil.copytree(CONTRACTS / "_shared", pytester.path / "_shared")
    renamed = pytester.path / "payments" / "openapi.yaml"
    renamed.parent.mkdir()
    renamed.write_text(
        text.replace("  /payments/{paymentId}/void:", "  /payments/{paymentId}/cancel:"),
        encoding="utf-8",
    )
    pytester.makepyfile(
        test_provider=COMPAT_SUITE.format(pacts=str(ORDERS_PAYMENTS), spec=str(renamed))
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*pacts for payments do not fit {renamed}:*",
            "*orders-payments.json:*: compat-request-path-or-method-unknown: *",
        ]
    )


def test_the_plugin_is_registered_and_its_marker_known(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.apigov_provider(name, pacts='contracts'*"])


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The smallest ASGI app: 200 "hello" for any request, no lifespan support needed."""
    if scope["type"] == "lifespan":
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def broken_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app whose start-up fails (a database it cannot reach, say)."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "no database"})


def test_serve_asgi_serves_on_a_free_local_port_and_stops() -> None:
    with serve_asgi(hello) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        with urllib.request.urlopen(base_url + "/anything", timeout=10) as response:
            assert (response.status, response.read()) == (200, b"hello")
    # Stopped: nothing listens on that port any more.
    with pytest.raises(ConnectionRefusedError), socket.create_connection((host, int(port)), 5):
        pass


def test_serve_asgi_reports_an_app_that_does_not_start() -> None:
    with (
        pytest.raises(RuntimeError, match=r"did not start \(uvicorn exited with 3\)"),
        serve_asgi(broken_start),
    ):
        pass
