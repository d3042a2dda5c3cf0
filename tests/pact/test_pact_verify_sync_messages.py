"""Synchronous message verification (V4 `Synchronous/Messages`) against a real provider.

The provider is a small pricing service served on 127.0.0.1: it answers a quote request
message with a quote message through Pact's message endpoint convention for synchronous
messages (POST {description, providerStates, request}; the reply in the answer's body, its
metadata base64-encoded in Pact-Message-Metadata), and sets up provider states at its own
state-change endpoint.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apigov.findings import Finding, Level
from apigov.pact.verify import VerifySettings, verify_pacts
from apigov.pytest_plugin import serve_asgi
from apigov.spec.loader import Loader
from apigov.spec.model import PactFile
from helpers import run_apigov, write

# The Pact core phones home after each verification unless told not to; never in tests.
os.environ["PACT_DO_NOT_TRACK"] = "true"

MESSAGES_PATH = "/_pact/messages"
STATES_PATH = "/_pact/provider-states"
QUOTE = "a quote for two widgets"
UNKNOWN = "a quote for a product that is not sold"

QUOTE_REQUEST: dict[str, Any] = {
    "contents": {
        "content": {"sku": "WID-1", "quantity": 2},
        "contentType": "application/json",
        "encoded": False,
    },
    "metadata": {"replyTo": "pricing.quotes"},
}

PACT: dict[str, Any] = {
    "consumer": {"name": "checkout"},
    "provider": {"name": "pricing"},
    "interactions": [
        {
            "type": "Synchronous/Messages",
            "description": QUOTE,
            "providerStates": [
                {"name": "a product is sold", "params": {"sku": "WID-1", "unitPrice": 250}}
            ],
            "request": QUOTE_REQUEST,
            "response": [
                {
                    "contents": {
                        "content": {"sku": "WID-1", "total": 500, "currency": "EUR"},
                        "contentType": "application/json",
                        "encoded": False,
                    },
                    "metadata": {"messageType": "quote"},
                    "matchingRules": {
                        "body": {"$.total": {"combine": "AND", "matchers": [{"match": "integer"}]}}
                    },
                }
            ],
        },
        {
            "type": "Synchronous/Messages",
            "description": UNKNOWN,
            "request": {
                "contents": {
                    "content": {"sku": "NOPE-9", "quantity": 1},
                    "contentType": "application/json",
                    "encoded": False,
                }
            },
            "response": [
                {
                    "contents": {
                        "content": {"error": "unknown sku NOPE-9"},
                        "contentType": "application/json",
                        "encoded": False,
                    },
                    "metadata": {"messageType": "quote-refused"},
                }
            ],
        },
    ],
    "metadata": {"pactSpecification": {"version": "4.0"}},
}


@dataclass
class PricingService:
    """The provider: a price list, the quotes it computes, and what it was asked."""

    prices: dict[str, int] = field(default_factory=dict)
    asked: list[dict[str, Any]] = field(default_factory=list)
    total_as_text: bool = False
    """A defect to verify against: totals written as decimal strings ("500.00")."""
    message_type: str = "quote"

    def reply(self, request: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        content = request["contents"]["content"]
        sku, quantity = content["sku"], content["quantity"]
        if sku not in self.prices:
            return {"error": f"unknown sku {sku}"}, {"messageType": "quote-refused"}
        total = self.prices[sku] * quantity
        quote = {"sku": sku, "total": f"{total}.00" if self.total_as_text else total}
        return {**quote, "currency": "EUR"}, {"messageType": self.message_type}

    def app(self) -> Starlette:
        async def messages(request: Request) -> Response:
            body = await request.json()
            self.asked.append(body)
            if "request" not in body:
                return JSONResponse({"error": "pricing only answers requests"}, status_code=400)
            contents, metadata = self.reply(body["request"])
            encoded = base64.b64encode(json.dumps(metadata).encode()).decode()
            return JSONResponse(contents, headers={"Pact-Message-Metadata": encoded})

        async def states(request: Request) -> Response:
            body = await request.json()
            if body.get("state") == "a product is sold" and body.get("action") == "setup":
                params = body["params"]
                self.prices[params["sku"]] = params["unitPrice"]
            return JSONResponse({})

        return Starlette(
            routes=[
                Route(MESSAGES_PATH, messages, methods=["POST"]),
                Route(STATES_PATH, states, methods=["POST"]),
            ]
        )


@pytest.fixture
def pricing() -> PricingService:
    return PricingService()


@pytest.fixture
def pricing_url(pricing: PricingService) -> Iterator[str]:
    with serve_asgi(pricing.app()) as url:
        yield url


@pytest.fixture
def pact_path(tmp_path: Path) -> Path:
    return write(tmp_path, "checkout-pricing.json", json.dumps(PACT, indent=2))


def load(path: Path) -> PactFile:
    document = Loader().load(str(path))
    assert isinstance(document, PactFile)
    return document


def by_description(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.message.split("'")[1]: finding for finding in findings}


def settings(url: str) -> VerifySettings:
    return VerifySettings(
        "pricing", "", state_change_url=url + STATES_PATH, message_url=url + MESSAGES_PATH
    )


def test_the_provider_gets_the_request_message_and_its_replies_pass(
    pricing: PricingService, pricing_url: str, pact_path: Path
) -> None:
    run = run_apigov(
        "verify",
        "--provider",
        "pricing",
        "--message-url",
        pricing_url + MESSAGES_PATH,
        "--state-change-url",
        pricing_url + STATES_PATH,
        "--pact",
        str(pact_path),
        "--format",
        "json",
    )
    assert run.code == 0, run.stdout + run.stderr
    verdicts = {
        f["message"].split("'")[1]: (f["id"], f["level"])
        for f in json.loads(run.stdout)["findings"]
    }
    assert verdicts == {
        QUOTE: ("verify-interaction-passed", "info"),
        UNKNOWN: ("verify-interaction-passed", "info"),
    }
    # What Pact's verifier sends for a synchronous message: the request as the pact writes it.
    assert pricing.asked == [
        {
            "description": QUOTE,
            "providerStates": [
                {"name": "a product is sold", "params": {"sku": "WID-1", "unitPrice": 250}}
            ],
            "request": QUOTE_REQUEST,
        },
        {
            "description": UNKNOWN,
            "providerStates": [],
            "request": PACT["interactions"][1]["request"],
        },
    ]


def test_a_reply_of_the_wrong_type_fails_with_the_field_that_differs(
    pricing: PricingService, pricing_url: str, pact_path: Path
) -> None:
    pricing.total_as_text = True
    run = verify_pacts([load(pact_path)], settings(pricing_url))
    assert not run.passed
    found = by_description(run.findings())
    quote = found[QUOTE]
    assert (quote.id, quote.level) == ("verify-body-mismatch", Level.ERROR)
    # The integer matcher at $.total: "500.00" is a string, not an integer.
    assert "body at $.total" in quote.message
    assert "500.00" in quote.message
    assert quote.location is not None and quote.location.pointer == "/interactions/0"
    assert quote.consumers == ("checkout",)
    # The refusal carries no total: it still passes.
    assert found[UNKNOWN].id == "verify-interaction-passed"


def test_reply_metadata_is_matched(
    pricing: PricingService, pricing_url: str, pact_path: Path
) -> None:
    pricing.message_type = "price"
    found = by_description(verify_pacts([load(pact_path)], settings(pricing_url)).findings())
    assert found[QUOTE].id == "verify-metadata-mismatch"
    assert 'metadata messageType: expected "quote", found "price"' in found[QUOTE].message


def test_a_refusal_instead_of_the_expected_reply_fails_body_and_metadata(
    pricing_url: str, tmp_path: Path
) -> None:
    # A state the provider does not know sets up no price: it refuses the quote.
    pact = copy.deepcopy(PACT)
    del pact["interactions"][1]
    pact["interactions"][0]["providerStates"] = [{"name": "the price list is empty"}]
    pact_file = load(write(tmp_path, "p.json", json.dumps(pact, indent=2)))
    quote = by_description(verify_pacts([pact_file], settings(pricing_url)).findings())[QUOTE]
    # The body is the most fundamental mismatch; every mismatch is in the message.
    assert (quote.id, quote.level) == ("verify-body-mismatch", Level.ERROR)
    assert "body at $.sku: expected key 'sku'" in quote.message
    assert 'metadata messageType: expected "quote", found "quote-refused"' in quote.message


def test_an_error_status_is_a_failed_request(tmp_path: Path) -> None:
    async def broken(request: Request) -> Response:
        return Response("pricing database is down", status_code=503)

    app = Starlette(routes=[Route(MESSAGES_PATH, broken, methods=["POST"])])
    pact = copy.deepcopy(PACT)
    del pact["interactions"][0]
    with serve_asgi(app) as url:
        run = verify_pacts(
            [load(write(tmp_path, "p.json", json.dumps(pact)))],
            VerifySettings("pricing", "", message_url=url + MESSAGES_PATH),
        )
    finding = by_description(run.findings())[UNKNOWN]
    assert (finding.id, finding.level) == ("verify-request-failed", Level.ERROR)
    assert f"{url}{MESSAGES_PATH} answered 503: pricing database is down" in finding.message


def test_a_python_reply_producer_gets_the_description_states_and_request(
    pact_path: Path,
) -> None:
    calls: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = []
    service = PricingService(prices={"WID-1": 250})

    def reply(
        description: str, states: Sequence[Mapping[str, Any]], request: Mapping[str, Any]
    ) -> tuple[Any, Any]:
        calls.append((description, [dict(s) for s in states], dict(request)))
        return service.reply(request)

    run = verify_pacts([load(pact_path)], VerifySettings("pricing", ""), reply_producer=reply)
    assert run.passed
    assert calls[0] == (
        QUOTE,
        [{"name": "a product is sold", "params": {"sku": "WID-1", "unitPrice": 250}}],
        QUOTE_REQUEST,
    )
    assert [c[0] for c in calls] == [QUOTE, UNKNOWN]


def test_without_a_message_url_synchronous_messages_stay_not_verified(pact_path: Path) -> None:
    found = by_description(
        verify_pacts([load(pact_path)], VerifySettings("pricing", "")).findings()
    )
    assert (found[QUOTE].id, found[QUOTE].level) == ("verify-interaction-not-verified", Level.INFO)
    assert "--message-url" in found[QUOTE].message
