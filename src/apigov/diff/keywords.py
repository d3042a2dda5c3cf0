"""The schema keywords the engine compares in a way of their own, shared by the engine
(`schemas.py`) and the catalogue (which builds an id family and an example for each)."""

from __future__ import annotations

from typing import Any

_STRING: dict[str, Any] = {"type": "string"}

# Keywords compared as a whole (by content, `$ref`s by name): any change may reject values
# that were accepted before, so "changed" breaks both ways; adding one constrains, removing
# one loosens. keyword -> (family name, an example value, another example value).
OPAQUE_KEYWORDS: dict[str, tuple[str, Any, Any]] = {
    "contains": ("contains", {"type": "string"}, {"type": "integer"}),
    "prefixItems": ("prefix-items", [{"type": "string"}], [{"type": "string"}, _STRING]),
    "propertyNames": ("property-names", {"maxLength": 5}, {"maxLength": 3}),
    "patternProperties": ("pattern-properties", {"^x-": _STRING}, {"^y-": _STRING}),
    "dependentRequired": ("dependent-required", {"a": ["b"]}, {"a": ["c"]}),
    "dependentSchemas": (
        "dependent-schemas",
        {"a": {"required": ["b"]}},
        {"c": {"required": ["b"]}},
    ),
    "if": ("if", {"required": ["a"]}, {"required": ["b"]}),
    "then": ("then", {"required": ["b"]}, {"required": ["c"]}),
    "else": ("else", {"required": ["b"]}, {"required": ["c"]}),
    "not": ("not", {"type": "integer"}, {"type": "boolean"}),
    "unevaluatedProperties": ("unevaluated-properties", False, {"type": "string"}),
    "unevaluatedItems": ("unevaluated-items", False, {"type": "string"}),
    "contentMediaType": ("content-media-type", "application/json", "application/xml"),
    "contentEncoding": ("content-encoding", "base64", "base32"),
    "contentSchema": ("content-schema", {"type": "object"}, {"type": "array"}),
    "x-extensible-enum": ("x-extensible-enum", ["a", "b"], ["a"]),
}


# Subschemas whose constraints point the same way as their parent's: compared recursively when
# both sides have one, so they have no "-changed" id of their own (`not` and `if`/`then`/`else`
# invert or condition them and are compared whole).
NESTED_SCHEMA_KEYWORDS = frozenset(
    {"contains", "propertyNames", "contentSchema", "unevaluatedItems", "unevaluatedProperties"}
)
