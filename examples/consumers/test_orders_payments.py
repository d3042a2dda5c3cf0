"""orders as a consumer of payments (Pact V3): authorise, read, capture, void, refund."""

from __future__ import annotations

import pytest
from pact import match

from examples.clients.payments import Money, PaymentDeclinedError, PaymentsClient
from examples.consumers.support import BEARER, TOKEN, UUID, PactWriter, datetime

ORDER_ID = "8f14e45f-ceea-4d6b-9f3a-2b9c1d0e7a11"
PAYMENT_ID = "c9f0f895-fb98-4b91-8e6a-7d3c2a1b0e33"
AUTHORISED: dict[str, object] = {"paymentId": PAYMENT_ID, "orderId": ORDER_ID, "amount": 6492}
TOTAL = Money(6492, "EUR")
BEARER_TOKEN = match.regex(f"Bearer {TOKEN}", regex=BEARER)


@pytest.fixture(scope="module")
def pacts() -> PactWriter:
    return PactWriter("orders", "payments", "V3")


def test_authorise_a_card_payment(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to authorise a card payment for an order")
        .given("the payment provider accepts the card token", {"paymentToken": "tok_visa_4242"})
        .with_request("POST", "/v1/payments")
        .with_header("Authorization", BEARER_TOKEN)
        .with_header(
            "Idempotency-Key",
            match.regex("order-8f14e45f-authorize", regex=r"^[A-Za-z0-9_-]{8,64}$"),
        )
        .with_body(
            {
                "orderId": match.regex(ORDER_ID, regex=UUID),
                "amount": {"amount": match.int(6492), "currency": "EUR"},
                "method": "card",
                "paymentToken": "tok_visa_4242",
                "capture": False,
                "customerEmail": "ada.lovelace@example.com",
            },
            "application/json",
        )
        .will_respond_with(201)
        .with_body(
            {
                "id": match.regex(PAYMENT_ID, regex=UUID),
                "orderId": match.regex(ORDER_ID, regex=UUID),
                "status": "authorized",
                "amount": {"amount": match.int(6492), "currency": "EUR"},
                "method": "card",
                "authorizedAt": datetime("2025-11-20T10:15:31Z"),
                "createdAt": datetime("2025-11-20T10:15:30Z"),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, PaymentsClient(f"{server.url}/v1", TOKEN) as payments:
        payment = payments.authorize(
            order_id=ORDER_ID,
            amount=TOTAL,
            method="card",
            payment_token="tok_visa_4242",
            idempotency_key="order-8f14e45f-authorize",
            capture=False,
            customer_email="ada.lovelace@example.com",
        )
    assert payment.status == "authorized"
    assert payment.amount == TOTAL
    pacts.write(pact)


def test_a_declined_card_is_reported_with_its_reason(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to authorise a payment with a card that is declined")
        .given("the payment provider declines the card token", {"paymentToken": "tok_declined"})
        .with_request("POST", "/v1/payments")
        .with_header("Authorization", BEARER_TOKEN)
        .with_header("Idempotency-Key", "order-8f14e45f-authorize-2")
        .with_body(
            {
                "orderId": ORDER_ID,
                "amount": {"amount": 6492, "currency": "EUR"},
                "method": "card",
                "paymentToken": "tok_declined",
            },
            "application/json",
        )
        .will_respond_with(402)
        .with_body(
            {
                "type": "https://problems.shop.example.com/payments/card-declined",
                "title": match.type("Card declined"),
                "status": 402,
                "detail": match.type("The card issuer declined the authorisation."),
            },
            "application/problem+json",
        )
    )
    with (
        pact.serve("127.0.0.1") as server,
        PaymentsClient(f"{server.url}/v1", TOKEN) as payments,
        pytest.raises(PaymentDeclinedError) as declined,
    ):
        payments.authorize(
            order_id=ORDER_ID,
            amount=TOTAL,
            method="card",
            payment_token="tok_declined",
            idempotency_key="order-8f14e45f-authorize-2",
        )
    assert declined.value.reason.endswith("/card-declined")
    pacts.write(pact)


def test_read_an_authorised_payment(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request for an authorised payment")
        .given("a payment is authorised", AUTHORISED)
        .with_request(
            "GET",
            match.regex(f"/v1/payments/{PAYMENT_ID}", regex=r"^/v1/payments/[0-9a-f-]{36}$"),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {
                "id": match.regex(PAYMENT_ID, regex=UUID),
                "orderId": match.regex(ORDER_ID, regex=UUID),
                "status": "authorized",
                "amount": {"amount": 6492, "currency": "EUR"},
                "method": "card",
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, PaymentsClient(f"{server.url}/v1", TOKEN) as payments:
        payment = payments.get(PAYMENT_ID)
    assert (payment.id, payment.order_id, payment.status) == (PAYMENT_ID, ORDER_ID, "authorized")
    pacts.write(pact)


def test_capture_an_authorised_payment_in_full(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to capture an authorised payment in full")
        .given("a payment is authorised", AUTHORISED)
        .with_request(
            "POST",
            match.regex(
                f"/v1/payments/{PAYMENT_ID}/capture", regex=r"^/v1/payments/[0-9a-f-]{36}/capture$"
            ),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .with_body({"amount": {"amount": 6492, "currency": "EUR"}}, "application/json")
        .will_respond_with(200)
        .with_body(
            {
                "id": match.regex(PAYMENT_ID, regex=UUID),
                "status": "captured",
                "capturedAmount": {"amount": 6492, "currency": "EUR"},
                "capturedAt": datetime("2025-11-20T10:20:00Z"),
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, PaymentsClient(f"{server.url}/v1", TOKEN) as payments:
        payment = payments.capture(PAYMENT_ID, TOTAL)
    assert payment.status == "captured"
    assert payment.captured_amount == TOTAL
    pacts.write(pact)


def test_void_an_authorised_payment(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to void an authorised payment")
        .given("a payment is authorised", AUTHORISED)
        .with_request(
            "POST",
            match.regex(
                f"/v1/payments/{PAYMENT_ID}/void", regex=r"^/v1/payments/[0-9a-f-]{36}/void$"
            ),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .will_respond_with(200)
        .with_body(
            {"id": match.regex(PAYMENT_ID, regex=UUID), "status": "voided"}, "application/json"
        )
    )
    with pact.serve("127.0.0.1") as server, PaymentsClient(f"{server.url}/v1", TOKEN) as payments:
        assert payments.void(PAYMENT_ID).status == "voided"
    pacts.write(pact)


def test_refund_a_captured_payment(pacts: PactWriter) -> None:
    pact = pacts.new()
    (
        pact.upon_receiving("a request to refund a captured payment for a cancelled order")
        .given("a payment is captured", AUTHORISED)
        .with_request(
            "POST",
            match.regex(
                f"/v1/payments/{PAYMENT_ID}/refunds",
                regex=r"^/v1/payments/[0-9a-f-]{36}/refunds$",
            ),
        )
        .with_header("Authorization", BEARER_TOKEN)
        .with_header(
            "Idempotency-Key",
            match.regex("order-8f14e45f-refund-1", regex=r"^[A-Za-z0-9_-]{8,64}$"),
        )
        .with_body(
            {"amount": {"amount": 6492, "currency": "EUR"}, "reason": "order_cancelled"},
            "application/json",
        )
        .will_respond_with(201)
        .with_body(
            {
                "id": match.regex("a87ff679-a2f3-4e71-9181-a67b7542122c", regex=UUID),
                "paymentId": match.regex(PAYMENT_ID, regex=UUID),
                "status": "pending",
                "amount": {"amount": 6492, "currency": "EUR"},
                "reason": "order_cancelled",
            },
            "application/json",
        )
    )
    with pact.serve("127.0.0.1") as server, PaymentsClient(f"{server.url}/v1", TOKEN) as payments:
        refund = payments.refund(
            PAYMENT_ID,
            amount=TOTAL,
            reason="order_cancelled",
            idempotency_key="order-8f14e45f-refund-1",
        )
    assert (refund.payment_id, refund.status, refund.amount) == (PAYMENT_ID, "pending", TOTAL)
    pacts.write(pact)
