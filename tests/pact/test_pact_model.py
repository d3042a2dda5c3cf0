"""Reading pacts of every version into typed interactions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apigov.pact.model import Kind, Matcher, RuleList, normalise_rules, read_pact
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import PactFile
from helpers import CONTRACTS, write


def load(folder: Path, data: dict[str, Any], name: str = "pact.json") -> PactFile:
    path = write(folder, name, json.dumps(data, indent=2))
    pact = Loader().load(str(path))
    assert isinstance(pact, PactFile)
    return pact


def pact_of(version: str, interactions: list[Any], key: str = "interactions") -> dict[str, Any]:
    return {
        "consumer": {"name": "web"},
        "provider": {"name": "api"},
        key: interactions,
        "metadata": {"pactSpecification": {"version": version}},
    }


def test_v2_rules_become_categories(tmp_path: Path) -> None:
    data = pact_of(
        "2.0.0",
        [
            {
                "description": "get pets",
                "providerState": "pets exist",
                "request": {"method": "get", "path": "/pets", "query": "a=1&a=2&b="},
                "response": {
                    "status": 200,
                    "headers": {"Content-Type": "application/json"},
                    "body": {"pets": [{"id": 1}]},
                    "matchingRules": {
                        "$.body.pets": {"min": 1, "match": "type"},
                        "$.body.pets[*].id": {"match": "integer"},
                        "$.headers.Content-Type": {"regex": "application/json.*"},
                    },
                },
            }
        ],
    )
    pact = read_pact(load(tmp_path, data))
    assert pact.major == 2
    (interaction,) = pact.interactions
    assert interaction.kind is Kind.HTTP
    assert [s.name for s in interaction.states] == ["pets exist"]
    request = interaction.request
    assert request is not None
    assert request.method == "GET"
    assert request.query == {"a": ["1", "2"], "b": [""]}
    response = interaction.response
    assert response is not None
    assert response.rules == {
        "body": {
            "$.pets": RuleList((Matcher("type", {"min": 1}),)),
            "$.pets[*].id": RuleList((Matcher("integer", {}),)),
        },
        "header": {"Content-Type": RuleList((Matcher("regex", {"regex": "application/json.*"}),))},
    }


def test_v3_rules_keep_combine_and_path_category() -> None:
    rules = normalise_rules(
        {
            "path": {"matchers": [{"match": "regex", "regex": "/pets/\\d+"}]},
            "body": {
                "$.name": {
                    "matchers": [{"match": "type"}, {"match": "null"}],
                    "combine": "OR",
                }
            },
        }
    )
    assert rules["path"]["$"] == RuleList((Matcher("regex", {"regex": "/pets/\\d+"}),))
    assert rules["body"]["$.name"].combine == "OR"
    assert [m.kind for m in rules["body"]["$.name"].matchers] == ["type", "null"]


def test_v4_shapes(tmp_path: Path) -> None:
    data = pact_of(
        "4.0",
        [
            {
                "type": "Synchronous/HTTP",
                "description": "create",
                "pending": True,
                "comments": {"text": ["flaky"]},
                "providerStates": [{"name": "empty", "params": {"id": 7}}],
                "request": {
                    "method": "POST",
                    "path": "/pets",
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {"content": {"name": "Rex"}, "contentType": "application/json"},
                },
                "response": {
                    "status": 201,
                    "body": {
                        "content": "aGVsbG8=",
                        "contentType": "text/plain",
                        "encoded": "base64",
                    },
                },
            },
            {
                "type": "Asynchronous/Messages",
                "description": "created event",
                "contents": {"content": {"id": 7}, "contentType": "application/json"},
                "metadata": {"topic": "pets"},
                "matchingRules": {"content": {"$.id": {"matchers": [{"match": "integer"}]}}},
            },
            {
                "type": "Synchronous/Messages",
                "description": "rpc",
                "request": {"contents": {"content": "ping", "contentType": "text/plain"}},
                "response": [{"contents": {"content": "pong", "contentType": "text/plain"}}],
            },
        ],
    )
    http, message, rpc = read_pact(load(tmp_path, data)).interactions
    assert http.pending is True and http.comments == {"text": ["flaky"]}
    assert http.states[0].params == {"id": 7}
    assert http.request is not None and http.request.body.value == {"name": "Rex"}
    assert http.response is not None and http.response.body.value == "hello"
    assert message.kind is Kind.MESSAGE and message.message is not None
    assert message.message.contents.value == {"id": 7}
    assert message.message.metadata == {"topic": "pets"}
    assert message.message.rules["body"]["$.id"].matchers[0].kind == "integer"
    assert rpc.kind is Kind.SYNC_MESSAGE
    assert rpc.message is not None and rpc.message.contents.value == "ping"
    assert [reply.contents.value for reply in rpc.replies] == ["pong"]


def test_v3_messages_list(tmp_path: Path) -> None:
    data = pact_of(
        "3.0.0",
        [
            {
                "description": "evt",
                "contents": {"a": 1},
                "metaData": {"contentType": "application/json"},
            }
        ],
        key="messages",
    )
    (interaction,) = read_pact(load(tmp_path, data)).interactions
    assert interaction.kind is Kind.MESSAGE
    assert interaction.message is not None
    assert interaction.message.contents.content_type == "application/json"


def test_unknown_fields_and_types_warn(tmp_path: Path) -> None:
    data = pact_of(
        "4.0",
        [
            {"type": "Plugin/Thing", "description": "?"},
            {
                "type": "Synchronous/HTTP",
                "description": "x",
                "colour": "red",
                "request": {"method": "GET", "path": "/"},
                "response": {"status": 200},
            },
        ],
    )
    pact = read_pact(load(tmp_path, data))
    assert len(pact.interactions) == 1
    ids = sorted((f.id, f.location.pointer if f.location else "") for f in pact.warnings)
    assert ids == [
        ("pact-unknown-field", "/interactions/1/colour"),
        ("pact-unknown-interaction-type", "/interactions/0/type"),
    ]


@pytest.mark.parametrize(
    ("interaction", "message"),
    [
        ({"description": "x", "request": {"path": "/"}, "response": {}}, "'method'"),
        ({"description": "x", "request": "GET /", "response": {}}, "'request' must be an object"),
        (
            {"description": "x", "request": {"method": "GET"}, "response": {"status": "200"}},
            "'status' must be an integer",
        ),
    ],
)
def test_broken_structure_is_an_input_error(
    tmp_path: Path, interaction: dict[str, Any], message: str
) -> None:
    pact = load(tmp_path, pact_of("3.0.0", [interaction]))
    with pytest.raises(InputError, match=message) as raised:
        read_pact(pact)
    assert raised.value.line is not None


def test_the_example_fleet_reads_cleanly() -> None:
    loader = Loader()
    for path in sorted(CONTRACTS.glob("*/pacts/*.json")):
        pact_file = loader.load(str(path))
        assert isinstance(pact_file, PactFile)
        pact = read_pact(pact_file)
        assert pact.interactions, path
        assert pact.warnings == [], path
