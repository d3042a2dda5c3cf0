"""What two pact files must share to be the same contract, whichever tool wrote them.

`canonical(pact)` keeps every part of every interaction that a provider is verified against
(description, provider states, request method/path/query/headers/body, response
status/headers/body, message contents and metadata, matching rules and generators) and drops or
evens out only what the writing tool chose on its own:

- `metadata` (which library and version wrote the file; the specification version is compared
  separately), and the order of interactions and of keys;
- a V4 interaction's `key` (a hash the writing tool derives, or not, from the interaction) and
  `pending: false` (the default);
- V3/V4 matcher lists' `"combine": "AND"` (the default combination);
- a V4 body's `contentTypeHint: "TEXT"` (the default for JSON) and `encoded: false`;
- a V2 query string's parameter order (`a=1&b=2` and `b=2&a=1` are the same query).
"""

from __future__ import annotations

import copy
import urllib.parse
from typing import Any


def specification_version(pact: dict[str, Any]) -> str:
    meta = pact.get("metadata", {})
    version = (meta.get("pactSpecification") or meta.get("pact-specification") or {}).get(
        "version", "1.0.0"
    )
    return str(version).split(".")[0]


def canonical(pact: dict[str, Any]) -> dict[str, Any]:
    interactions = [_interaction(i) for i in pact.get("interactions", [])]
    interactions += [_interaction(m) for m in pact.get("messages", [])]
    return {
        "consumer": pact["consumer"]["name"],
        "provider": pact["provider"]["name"],
        "specification": specification_version(pact),
        "interactions": sorted(interactions, key=lambda i: str(i.get("description"))),
    }


def _interaction(raw: dict[str, Any]) -> dict[str, Any]:
    interaction = copy.deepcopy(raw)
    interaction.pop("key", None)
    if interaction.get("pending") is False:
        interaction.pop("pending")
    for part in ("request", "response"):
        if isinstance(interaction.get(part), dict):
            _part(interaction[part])
    if isinstance(interaction.get("contents"), dict):
        _body(interaction, "contents")
    _rules(interaction)
    return interaction


def _part(part: dict[str, Any]) -> None:
    if "body" in part:
        _body(part, "body")
    query = part.get("query")
    if isinstance(query, str):
        parsed: dict[str, list[str]] = {}
        for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            parsed.setdefault(name, []).append(value)
        part["query"] = {"v2-query": sorted(parsed.items())}
    _rules(part)


def _body(holder: dict[str, Any], key: str) -> None:
    body = holder[key]
    if isinstance(body, dict) and "content" in body and "contentType" in body:
        if body.get("contentTypeHint") == "TEXT":
            body.pop("contentTypeHint")
        if body.get("encoded") is False:
            body.pop("encoded")


def _rules(holder: dict[str, Any]) -> None:
    rules = holder.get("matchingRules")
    if isinstance(rules, dict):
        _drop_default_combine(rules)


def _drop_default_combine(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("combine") == "AND" and "matchers" in node:
            node.pop("combine")
        for value in node.values():
            _drop_default_combine(value)
    elif isinstance(node, list):
        for value in node:
            _drop_default_combine(value)
