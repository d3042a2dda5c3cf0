"""The pytest plugin's `replies=`: a provider's suite answers synchronous messages in Python."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

# One V4 synchronous message: a quote request answered with a quote whose total is an integer.
PACT = {
    "consumer": {"name": "checkout"},
    "provider": {"name": "pricing"},
    "interactions": [
        {
            "type": "Synchronous/Messages",
            "description": "a quote for two widgets",
            "providerStates": [{"name": "a product is sold", "params": {"unitPrice": 250}}],
            "request": {
                "contents": {
                    "content": {"sku": "WID-1", "quantity": 2},
                    "contentType": "application/json",
                    "encoded": False,
                }
            },
            "response": [
                {
                    "contents": {
                        "content": {"sku": "WID-1", "total": 500},
                        "contentType": "application/json",
                        "encoded": False,
                    },
                    "metadata": {"messageType": "quote"},
                    "matchingRules": {
                        "body": {"$.total": {"combine": "AND", "matchers": [{"match": "integer"}]}}
                    },
                }
            ],
        }
    ],
    "metadata": {"pactSpecification": {"version": "4.0"}},
}

# The provider's suite: its state handler records the unit price, its reply function computes
# the quote from the request message it is given. TOTAL turns the total into a defect.
SUITE = """
import pytest
from starlette.applications import Starlette

PRICES = {{}}
ASKED = []


def product_is_sold(params):
    PRICES["WID-1"] = params["unitPrice"]


def quote(description, states, request):
    ASKED.append(description)
    content = request["contents"]["content"]
    total = PRICES[content["sku"]] * content["quantity"]
    return {{"sku": content["sku"], "total": {total}}}, {{"messageType": "quote"}}


@pytest.fixture
def apigov_asgi_app():
    return Starlette()


@pytest.mark.apigov_provider(
    name="pricing",
    pacts="contracts",
    states={{"a product is sold": product_is_sold}},
    replies=quote,
)
def test_quotes_hold(apigov_verify):
    run = apigov_verify()
    assert run.passed
    assert ASKED == ["a quote for two widgets"]
"""


def suite(pytester: pytest.Pytester, total: str) -> None:
    # The contracts layout: the consumer's folder holds its pacts.
    pacts = pytester.path / "contracts" / "checkout" / "pacts"
    pacts.mkdir(parents=True)
    (pacts / "checkout-pricing.json").write_text(json.dumps(PACT, indent=2), encoding="utf-8")
    pytester.makepyfile(test_pricing=SUITE.format(total=total))


def test_a_reply_function_that_honours_the_pact_passes(pytester: pytest.Pytester) -> None:
    # 250 x 2 = 500, an integer: the pact's integer matcher holds.
    suite(pytester, "total")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_reply_function_that_breaks_the_pact_fails_naming_the_field(
    pytester: pytest.Pytester,
) -> None:
    # The total as text ("500.00") breaks the integer matcher on $.total.
    suite(pytester, 'f"{total}.00"')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pricing does not honour its consumers' pacts:*",
            "*verify-body-mismatch: 'a quote for two widgets'*body at $.total*500.00*",
        ]
    )


def test_replies_must_be_a_function(pytester: pytest.Pytester) -> None:
    suite(pytester, "total")
    test_file = pytester.path / "test_pricing.py"
    test_file.write_text(
        test_file.read_text(encoding="utf-8").replace("replies=quote", 'replies="quote"'),
        encoding="utf-8",
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*replies=... must be a function*"])
