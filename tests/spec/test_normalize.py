"""Swagger 2.0 -> OpenAPI 3.0.3 normalisation: shapes, origins, safety, and the OAI examples."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from openapi_spec_validator import validate

from apigov.spec import pointer
from apigov.spec.normalize import Normalized, OriginMap, normalize_swagger2

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
OAI_EXAMPLES = CORPUS / "specs" / "oai-examples"


def local_resolver(doc: dict[str, Any]) -> Callable[[str], Any]:
    def resolve(ref: str) -> Any:
        assert ref.startswith("#"), f"unexpected external ref {ref}"
        return pointer.resolve(doc, unquote(ref[1:]))

    return resolve


def no_resolver(ref: str) -> Any:
    raise AssertionError(f"resolve_ref must not be called, got {ref}")


def normalize(doc: dict[str, Any]) -> Normalized:
    return normalize_swagger2(doc, local_resolver(doc))


# --------------------------------------------------------------------------- a full document

PETSTORE: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Pets", "version": "1.0", "x-audience": "internal"},
    "host": "pets.example.com",
    "basePath": "/v1",
    "schemes": ["https", "http"],
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "tags": [{"name": "pets", "description": "Everything about pets"}],
    "x-owner": "team-a",
    "security": [{"apiKey": []}],
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "parameters": [
                    {"$ref": "#/parameters/limit"},
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "multi",
                    },
                    {
                        "name": "X-Request-Id",
                        "in": "header",
                        "required": True,
                        "type": "string",
                        "format": "uuid",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of pets",
                        "headers": {"X-Next": {"type": "string", "description": "next page"}},
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                        "examples": {"application/json": [{"id": 1, "name": "Rex"}]},
                    },
                    "default": {"$ref": "#/responses/Error"},
                },
            },
            "post": {
                "operationId": "createPet",
                "parameters": [
                    {
                        "name": "pet",
                        "in": "body",
                        "description": "The pet",
                        "required": True,
                        "schema": {"$ref": "#/definitions/Pet"},
                    }
                ],
                "responses": {"201": {"description": "Created"}},
                "x-internal": True,
            },
        },
        "x-paths-note": {"kept": True},
    },
    "definitions": {
        "Pet": {
            "type": "object",
            "required": ["id", "name"],
            "discriminator": "petType",
            "properties": {
                "id": {"type": "integer", "format": "int64"},
                "name": {"type": "string", "x-nullable": True},
                "petType": {"type": "string"},
                "photo": {"type": "file"},
                "tags": {"type": "array", "items": {"type": "string", "x-nullable": True}},
            },
        },
        "Error": {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "x-error": True,
        },
    },
    "parameters": {
        "limit": {
            "name": "limit",
            "in": "query",
            "description": "page size",
            "type": "integer",
            "format": "int32",
            "minimum": 1,
            "maximum": 100,
            "default": 20,
        }
    },
    "responses": {"Error": {"description": "An error", "schema": {"$ref": "#/definitions/Error"}}},
    "securityDefinitions": {
        "basicAuth": {"type": "basic", "description": "HTTP basic"},
        "apiKey": {"type": "apiKey", "name": "X-API-Key", "in": "header"},
        "implicit": {
            "type": "oauth2",
            "flow": "implicit",
            "authorizationUrl": "https://auth.example.com/authorize",
            "scopes": {"read": "read pets"},
        },
        "password": {
            "type": "oauth2",
            "flow": "password",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {},
        },
        "application": {
            "type": "oauth2",
            "flow": "application",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {"admin": "everything"},
            "x-vendor": 1,
        },
        "accessCode": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://auth.example.com/authorize",
            "tokenUrl": "https://auth.example.com/token",
            "scopes": {"write": "write pets"},
        },
    },
}

PETSTORE_30: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0", "x-audience": "internal"},
    "servers": [{"url": "https://pets.example.com/v1"}, {"url": "http://pets.example.com/v1"}],
    "tags": [{"name": "pets", "description": "Everything about pets"}],
    "x-owner": "team-a",
    "security": [{"apiKey": []}],
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "parameters": [
                    {"$ref": "#/components/parameters/limit"},
                    {
                        "name": "tags",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                        "style": "form",
                        "explode": True,
                    },
                    {
                        "name": "X-Request-Id",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of pets",
                        "headers": {
                            "X-Next": {"description": "next page", "schema": {"type": "string"}}
                        },
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Pet"},
                                },
                                "example": [{"id": 1, "name": "Rex"}],
                            }
                        },
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
            },
            "post": {
                "operationId": "createPet",
                "requestBody": {
                    "description": "The pet",
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    },
                },
                "responses": {"201": {"description": "Created"}},
                "x-internal": True,
            },
        },
        "x-paths-note": {"kept": True},
    },
    "components": {
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["id", "name"],
                "discriminator": {"propertyName": "petType"},
                "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "name": {"type": "string", "nullable": True},
                    "petType": {"type": "string"},
                    "photo": {"type": "string", "format": "binary"},
                    "tags": {"type": "array", "items": {"type": "string", "nullable": True}},
                },
            },
            "Error": {
                "type": "object",
                "properties": {"message": {"type": "string"}},
                "x-error": True,
            },
        },
        "parameters": {
            "limit": {
                "name": "limit",
                "in": "query",
                "description": "page size",
                "schema": {
                    "type": "integer",
                    "format": "int32",
                    "minimum": 1,
                    "maximum": 100,
                    "default": 20,
                },
            }
        },
        "responses": {
            "Error": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
        "securitySchemes": {
            "basicAuth": {"type": "http", "scheme": "basic", "description": "HTTP basic"},
            "apiKey": {"type": "apiKey", "name": "X-API-Key", "in": "header"},
            "implicit": {
                "type": "oauth2",
                "flows": {
                    "implicit": {
                        "authorizationUrl": "https://auth.example.com/authorize",
                        "scopes": {"read": "read pets"},
                    }
                },
            },
            "password": {
                "type": "oauth2",
                "flows": {"password": {"tokenUrl": "https://auth.example.com/token", "scopes": {}}},
            },
            "application": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://auth.example.com/token",
                        "scopes": {"admin": "everything"},
                    }
                },
                "x-vendor": 1,
            },
            "accessCode": {
                "type": "oauth2",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "https://auth.example.com/authorize",
                        "tokenUrl": "https://auth.example.com/token",
                        "scopes": {"write": "write pets"},
                    }
                },
            },
        },
    },
}


def test_petstore_converts_to_the_expected_document() -> None:
    assert normalize(PETSTORE).document == PETSTORE_30


def test_petstore_result_is_valid_openapi_30() -> None:
    validate(normalize(PETSTORE).document)


@pytest.mark.parametrize(
    ("normalized", "original"),
    [
        ("/openapi", "/swagger"),
        ("/info/title", "/info/title"),
        ("/servers", "/host"),
        ("/servers/1", "/schemes/1"),
        ("/servers/1/url", "/schemes/1"),
        ("/components/schemas", "/definitions"),
        ("/components/schemas/Pet/properties/id/format", "/definitions/Pet/properties/id/format"),
        (
            "/components/schemas/Pet/properties/name/nullable",
            "/definitions/Pet/properties/name/x-nullable",
        ),
        (
            "/components/schemas/Pet/properties/tags/items/nullable",
            "/definitions/Pet/properties/tags/items/x-nullable",
        ),
        ("/components/schemas/Pet/discriminator/propertyName", "/definitions/Pet/discriminator"),
        (
            "/components/schemas/Pet/properties/photo/format",
            "/definitions/Pet/properties/photo/type",
        ),
        ("/components/parameters/limit/schema", "/parameters/limit"),
        ("/components/parameters/limit/schema/maximum", "/parameters/limit/maximum"),
        ("/components/parameters/limit/description", "/parameters/limit/description"),
        ("/components/responses/Error/description", "/responses/Error/description"),
        (
            "/components/responses/Error/content/application~1json/schema",
            "/responses/Error/schema",
        ),
        ("/components/securitySchemes", "/securityDefinitions"),
        ("/components/securitySchemes/basicAuth/scheme", "/securityDefinitions/basicAuth/type"),
        (
            "/components/securitySchemes/application/flows/clientCredentials/tokenUrl",
            "/securityDefinitions/application/tokenUrl",
        ),
        (
            "/components/securitySchemes/implicit/flows/implicit/scopes/read",
            "/securityDefinitions/implicit/scopes/read",
        ),
        ("/paths/~1pets/get/parameters/0", "/paths/~1pets/get/parameters/0"),
        ("/paths/~1pets/get/parameters/1/schema", "/paths/~1pets/get/parameters/1"),
        (
            "/paths/~1pets/get/parameters/1/schema/items/type",
            "/paths/~1pets/get/parameters/1/items/type",
        ),
        ("/paths/~1pets/get/parameters/1/style", "/paths/~1pets/get/parameters/1/collectionFormat"),
        ("/paths/~1pets/get/parameters/2/schema/format", "/paths/~1pets/get/parameters/2/format"),
        (
            "/paths/~1pets/get/responses/200/content/application~1json/schema",
            "/paths/~1pets/get/responses/200/schema",
        ),
        (
            "/paths/~1pets/get/responses/200/content/application~1json/schema/items/$ref",
            "/paths/~1pets/get/responses/200/schema/items/$ref",
        ),
        (
            "/paths/~1pets/get/responses/200/content/application~1json/example",
            "/paths/~1pets/get/responses/200/examples/application~1json",
        ),
        (
            "/paths/~1pets/get/responses/200/headers/X-Next/schema",
            "/paths/~1pets/get/responses/200/headers/X-Next",
        ),
        (
            "/paths/~1pets/get/responses/200/headers/X-Next/schema/type",
            "/paths/~1pets/get/responses/200/headers/X-Next/type",
        ),
        (
            "/paths/~1pets/get/responses/200/description",
            "/paths/~1pets/get/responses/200/description",
        ),
        ("/paths/~1pets/post/requestBody", "/paths/~1pets/post/parameters/0"),
        (
            "/paths/~1pets/post/requestBody/description",
            "/paths/~1pets/post/parameters/0/description",
        ),
        ("/paths/~1pets/post/requestBody/content/application~1json", "/consumes/0"),
        (
            "/paths/~1pets/post/requestBody/content/application~1json/schema",
            "/paths/~1pets/post/parameters/0/schema",
        ),
        (
            "/paths/~1pets/post/requestBody/content/application~1json/schema/$ref",
            "/paths/~1pets/post/parameters/0/schema/$ref",
        ),
    ],
)
def test_petstore_origins(normalized: str, original: str) -> None:
    result = normalize(PETSTORE)
    assert result.origins.original(normalized) == original


def test_every_pointer_of_the_result_maps_into_the_original() -> None:
    """Every node of the result maps to a node of the original, or to a place just below one
    (a renamed leaf: its parent exists)."""
    result = normalize(PETSTORE)
    for where, _ in walk(result.document):
        original = result.origins.original(where)
        assert exists(PETSTORE, original) or exists(PETSTORE, parent(original)), (where, original)


# --------------------------------------------------------------------------- parameters


def test_body_parameter_moves_out_and_the_others_keep_their_origins() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "consumes": ["application/json", "application/xml"],
                    "parameters": [
                        {"name": "thing", "in": "body", "schema": {"type": "object"}},
                        {"name": "dryRun", "in": "query", "type": "boolean"},
                        {
                            "name": "ids",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "integer"},
                        },
                        {
                            "name": "ids",
                            "in": "path",
                            "required": True,
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "csv",
                        },
                        {
                            "name": "X-Ssv",
                            "in": "header",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "ssv",
                        },
                    ],
                    "responses": {"204": {"description": "done"}},
                }
            }
        },
    }
    result = normalize(doc)
    assert result.document["paths"]["/things"]["post"] == {
        "parameters": [
            {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}},
            # 2.0's default collectionFormat is csv: comma-separated, not exploded
            {
                "name": "ids",
                "in": "query",
                "schema": {"type": "array", "items": {"type": "integer"}},
                "style": "form",
                "explode": False,
            },
            {
                "name": "ids",
                "in": "path",
                "required": True,
                "schema": {"type": "array", "items": {"type": "string"}},
                "style": "simple",
            },
            # a header cannot be space-delimited in 3.0: said in an extension
            {
                "name": "X-Ssv",
                "in": "header",
                "schema": {"type": "array", "items": {"type": "string"}},
                "x-collectionFormat": "ssv",
            },
        ],
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "object"}},
            }
        },
        "responses": {"204": {"description": "done"}},
    }
    original = result.origins.original
    op = "/paths/~1things/post"
    assert original(f"{op}/parameters/0") == f"{op}/parameters/1"
    assert original(f"{op}/parameters/0/name") == f"{op}/parameters/1/name"
    assert original(f"{op}/parameters/0/schema") == f"{op}/parameters/1"
    assert original(f"{op}/parameters/0/schema/type") == f"{op}/parameters/1/type"
    assert original(f"{op}/parameters/1/style") == f"{op}/parameters/2"
    assert original(f"{op}/parameters/2/style") == f"{op}/parameters/3/collectionFormat"
    assert (
        original(f"{op}/parameters/3/x-collectionFormat") == f"{op}/parameters/4/collectionFormat"
    )
    assert original(f"{op}/requestBody") == f"{op}/parameters/0"
    assert original(f"{op}/requestBody/content/application~1xml") == f"{op}/consumes/1"
    assert original(f"{op}/requestBody/content/application~1xml/schema/type") == (
        f"{op}/parameters/0/schema/type"
    )


def test_form_data_with_a_file_becomes_multipart() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "consumes": ["application/json"],
        "paths": {
            "/upload": {
                "post": {
                    "parameters": [
                        {"name": "id", "in": "query", "type": "string"},
                        {
                            "name": "file",
                            "in": "formData",
                            "type": "file",
                            "required": True,
                            "description": "the upload",
                        },
                        {"name": "note", "in": "formData", "type": "string", "maxLength": 80},
                    ],
                    "responses": {"201": {"description": "stored"}},
                }
            }
        },
    }
    result = normalize(doc)
    assert result.document["paths"]["/upload"]["post"] == {
        "parameters": [{"name": "id", "in": "query", "schema": {"type": "string"}}],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "the upload",
                            },
                            "note": {"type": "string", "maxLength": 80},
                        },
                        "required": ["file"],
                    }
                }
            },
        },
        "responses": {"201": {"description": "stored"}},
    }
    original = result.origins.original
    schema = "/paths/~1upload/post/requestBody/content/multipart~1form-data/schema"
    assert original("/paths/~1upload/post/requestBody") == "/paths/~1upload/post/parameters/1"
    assert original(f"{schema}/properties/note") == "/paths/~1upload/post/parameters/2"
    assert original(f"{schema}/properties/note/maxLength") == (
        "/paths/~1upload/post/parameters/2/maxLength"
    )
    assert original(f"{schema}/properties/file/format") == "/paths/~1upload/post/parameters/1/type"
    assert original(f"{schema}/required/0") == "/paths/~1upload/post/parameters/1/required"
    validate(result.document)


def test_form_data_without_a_file_is_urlencoded_unless_consumes_says_multipart() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/login": {
                "post": {
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "user", "in": "formData", "type": "string", "required": True},
                        {"name": "remember", "in": "formData", "type": "boolean", "default": False},
                        {
                            "name": "roles",
                            "in": "formData",
                            "type": "array",
                            "items": {"type": "string"},
                            "x-hint": "roles",
                        },
                        {
                            "name": "teams",
                            "in": "formData",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "multi",
                        },
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/profile": {
                "put": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [{"name": "bio", "in": "formData", "type": "string"}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    result = normalize(doc)
    paths = result.document["paths"]
    assert paths["/login"]["post"] == {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "user": {"type": "string"},
                            "remember": {"type": "boolean", "default": False},
                            "roles": {
                                "type": "array",
                                "items": {"type": "string"},
                                "x-hint": "roles",
                            },
                            "teams": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["user"],
                    },
                    # csv (the 2.0 default) is not what a form sends by default in 3.0
                    "encoding": {"roles": {"style": "form", "explode": False}},
                }
            },
        },
        "responses": {"200": {"description": "ok"}},
    }
    assert paths["/profile"]["put"] == {
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"bio": {"type": "string"}}}
                }
            }
        },
        "responses": {"200": {"description": "ok"}},
    }
    validate(result.document)


def test_path_level_parameters() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/items/{id}": {
                "parameters": [
                    {"name": "item", "in": "body", "schema": {"$ref": "#/definitions/Item"}},
                    {"name": "id", "in": "path", "required": True, "type": "integer"},
                ],
                "put": {"responses": {"204": {"description": "replaced"}}},
                "patch": {
                    "consumes": ["application/merge-patch+json"],
                    "responses": {"204": {"description": "patched"}},
                },
                "post": {
                    "parameters": [
                        {
                            "name": "note",
                            "in": "body",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"204": {"description": "noted"}},
                },
            }
        },
        "definitions": {"Item": {"type": "object", "x-nullable": True}},
    }
    result = normalize(doc)
    item = result.document["paths"]["/items/{id}"]
    assert item == {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "put": {
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
            },
            "responses": {"204": {"description": "replaced"}},
        },
        "patch": {
            "requestBody": {
                "content": {
                    "application/merge-patch+json": {
                        "schema": {"$ref": "#/components/schemas/Item"}
                    }
                }
            },
            "responses": {"204": {"description": "patched"}},
        },
        "post": {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "string"}}},
            },
            "responses": {"204": {"description": "noted"}},
        },
    }
    original = result.origins.original
    at = "/paths/~1items~1{id}"
    assert original(f"{at}/parameters/0") == f"{at}/parameters/1"
    assert original(f"{at}/parameters/0/schema/type") == f"{at}/parameters/1/type"
    assert original(f"{at}/put/requestBody") == f"{at}/parameters/0"
    assert original(f"{at}/patch/requestBody/content/application~1merge-patch+json/schema") == (
        f"{at}/parameters/0/schema"
    )
    assert original(f"{at}/patch/requestBody/content/application~1merge-patch+json") == (
        f"{at}/patch/consumes/0"
    )
    assert original(f"{at}/post/requestBody/content/application~1json/schema") == (
        f"{at}/post/parameters/0/schema"
    )
    validate(result.document)


def test_shared_body_and_response_follow_the_operations_media_types() -> None:
    """A `$ref`'d body or response is global-media-typed; an operation with other media types
    gets it inlined (the converted schema is shared, not copied)."""
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/a": {
                "post": {
                    "parameters": [{"$ref": "#/parameters/Thing"}],
                    "responses": {"200": {"$ref": "#/responses/Ok"}},
                }
            },
            "/b": {
                "post": {
                    "consumes": ["application/xml", "application/json"],
                    "produces": ["text/csv"],
                    "parameters": [{"$ref": "#/parameters/Thing"}],
                    "responses": {
                        "200": {"$ref": "#/responses/Ok"},
                        "204": {"$ref": "#/responses/Empty"},
                    },
                }
            },
        },
        "parameters": {
            "Thing": {
                "name": "thing",
                "in": "body",
                "required": True,
                "schema": {
                    "type": "object",
                    "properties": {"n": {"type": "integer", "x-nullable": True}},
                },
            }
        },
        "responses": {
            "Ok": {"description": "ok", "schema": {"type": "string"}},
            "Empty": {"description": "nothing"},
        },
    }
    result = normalize(doc)
    thing = {"type": "object", "properties": {"n": {"type": "integer", "nullable": True}}}
    document = result.document
    assert document["components"] == {
        "requestBodies": {
            "Thing": {"required": True, "content": {"application/json": {"schema": thing}}}
        },
        "responses": {
            "Ok": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "string"}}},
            },
            "Empty": {"description": "nothing"},
        },
    }
    assert document["paths"]["/a"]["post"] == {
        "requestBody": {"$ref": "#/components/requestBodies/Thing"},
        "responses": {"200": {"$ref": "#/components/responses/Ok"}},
    }
    assert document["paths"]["/b"]["post"] == {
        "requestBody": {
            "required": True,
            "content": {
                "application/xml": {"schema": thing},
                "application/json": {"schema": thing},
            },
        },
        "responses": {
            "200": {"description": "ok", "content": {"text/csv": {"schema": {"type": "string"}}}},
            "204": {"$ref": "#/components/responses/Empty"},
        },
    }
    # converted once, shared
    content = document["paths"]["/b"]["post"]["requestBody"]["content"]
    assert content["application/xml"]["schema"] is content["application/json"]["schema"]
    assert (
        content["application/xml"]["schema"]
        is document["components"]["requestBodies"]["Thing"]["content"]["application/json"]["schema"]
    )

    original = result.origins.original
    body = "/paths/~1b/post/requestBody"
    assert original("/paths/~1a/post/requestBody") == "/paths/~1a/post/parameters/0"
    assert original(body) == "/paths/~1b/post/parameters/0"
    assert original(f"{body}/required") == "/parameters/Thing/required"
    assert original(f"{body}/content/application~1xml") == "/paths/~1b/post/consumes/0"
    assert original(f"{body}/content/application~1xml/schema/properties/n/nullable") == (
        "/parameters/Thing/schema/properties/n/x-nullable"
    )
    assert original(f"{body}/content/application~1json/schema/properties/n/type") == (
        "/parameters/Thing/schema/properties/n/type"
    )
    assert original("/components/requestBodies/Thing/content/application~1json/schema") == (
        "/parameters/Thing/schema"
    )
    response = "/paths/~1b/post/responses/200"
    assert original(response) == response
    assert original(f"{response}/description") == "/responses/Ok/description"
    assert original(f"{response}/content/text~1csv") == "/paths/~1b/post/produces/0"
    assert original(f"{response}/content/text~1csv/schema/type") == "/responses/Ok/schema/type"
    validate(document)


# --------------------------------------------------------------------------- refs, files, safety


def test_external_references() -> None:
    """External refs stay, but a body or form parameter from another file is inlined, with the
    refs inside it rewritten to be relative to this document."""
    files: dict[str, Any] = {
        "shared/common.yaml": {
            "bodyParam": {
                "name": "body",
                "in": "body",
                "schema": {
                    "type": "object",
                    "properties": {
                        "thing": {"$ref": "#/definitions/Thing"},
                        "other": {"$ref": "models/Other.yaml"},
                        "remote": {"$ref": "https://example.com/schemas/Remote.json"},
                    },
                },
            },
            "pageParam": {"name": "page", "in": "query", "type": "integer"},
            "fileParam": {"name": "file", "in": "formData", "type": "file", "required": True},
        }
    }
    calls: list[str] = []

    def resolve(ref: str) -> Any:
        calls.append(ref)
        file, _, fragment = ref.partition("#")
        return pointer.resolve(files[file], fragment)

    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "put": {
                    "parameters": [
                        {"$ref": "shared/common.yaml#/bodyParam"},
                        {"$ref": "shared/common.yaml#/pageParam"},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"$ref": "shared/common.yaml#/definitions/Result"},
                        }
                    },
                },
                "patch": {
                    "parameters": [{"$ref": "shared/common.yaml#/bodyParam"}],
                    "responses": {"204": {"description": "ok"}},
                },
                "post": {
                    "parameters": [
                        {"$ref": "shared/common.yaml#/fileParam"},
                        {"name": "note", "in": "formData", "type": "string"},
                    ],
                    "responses": {"204": {"description": "ok"}},
                },
            }
        },
    }
    result = normalize_swagger2(doc, resolve)
    body_schema = {
        "type": "object",
        "properties": {
            "thing": {"$ref": "shared/common.yaml#/definitions/Thing"},
            "other": {"$ref": "shared/models/Other.yaml"},
            "remote": {"$ref": "https://example.com/schemas/Remote.json"},
        },
    }
    assert result.document["paths"]["/x"] == {
        "put": {
            "parameters": [{"$ref": "shared/common.yaml#/pageParam"}],
            "requestBody": {"content": {"application/json": {"schema": body_schema}}},
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "shared/common.yaml#/definitions/Result"}
                        }
                    },
                }
            },
        },
        "patch": {
            "requestBody": {"content": {"application/json": {"schema": body_schema}}},
            "responses": {"204": {"description": "ok"}},
        },
        "post": {
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "note": {"type": "string"},
                            },
                            "required": ["file"],
                        }
                    }
                },
            },
            "responses": {"204": {"description": "ok"}},
        },
    }
    # one call per distinct parameter reference, none for schema refs
    assert sorted(calls) == [
        "shared/common.yaml#/bodyParam",
        "shared/common.yaml#/fileParam",
        "shared/common.yaml#/pageParam",
    ]
    original = result.origins.original
    # content from another file maps to the $ref that pulled it in, at each place
    assert original("/paths/~1x/put/requestBody") == "/paths/~1x/put/parameters/0"
    assert original("/paths/~1x/put/requestBody/content/application~1json/schema") == (
        "/paths/~1x/put/parameters/0"
    )
    assert original("/paths/~1x/patch/requestBody/content/application~1json/schema") == (
        "/paths/~1x/patch/parameters/0"
    )
    assert original("/paths/~1x/put/parameters/0") == "/paths/~1x/put/parameters/1"
    form = "/paths/~1x/post/requestBody/content/multipart~1form-data/schema"
    assert original(f"{form}/properties/file") == "/paths/~1x/post/parameters/0"
    assert original(f"{form}/properties/note/type") == "/paths/~1x/post/parameters/1/type"


def test_resolve_ref_errors_propagate() -> None:
    class MissingError(Exception):
        pass

    def resolve(ref: str) -> Any:
        raise MissingError(ref)

    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "parameters": [{"$ref": "gone.yaml#/p"}],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    with pytest.raises(MissingError):
        normalize_swagger2(doc, resolve)


def test_recursive_definitions_terminate_without_following_refs() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/tree": {
                "get": {
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Node"}}
                    }
                }
            }
        },
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                    "parent": {"$ref": "#/definitions/Node"},
                    "pair": {"$ref": "#/definitions/Pair"},
                },
            },
            "Pair": {
                "allOf": [{"$ref": "#/definitions/Node"}],
                "additionalProperties": {"$ref": "#/definitions/Pair"},
            },
        },
    }
    result = normalize_swagger2(doc, no_resolver)
    assert result.document["components"]["schemas"] == {
        "Node": {
            "type": "object",
            "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"$ref": "#/components/schemas/Node"},
                "pair": {"$ref": "#/components/schemas/Pair"},
            },
        },
        "Pair": {
            "allOf": [{"$ref": "#/components/schemas/Node"}],
            "additionalProperties": {"$ref": "#/components/schemas/Pair"},
        },
    }
    validate(result.document)


def test_the_input_is_not_mutated_and_shares_nothing_with_the_result() -> None:
    doc = copy.deepcopy(PETSTORE)
    before = copy.deepcopy(doc)
    result = normalize(doc)
    assert doc == before
    inputs = {id(node) for _, node in walk(doc) if isinstance(node, dict | list)}
    shared = [where for where, node in walk(result.document) if id(node) in inputs]
    assert shared == []


def test_servers() -> None:
    def servers(**fields: Any) -> Any:
        doc = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}, **fields}
        result = normalize(doc)
        return result.document["servers"], result.origins.original("/servers/0/url")

    assert servers(host="api.example.com", basePath="/v2", schemes=["https"]) == (
        [{"url": "https://api.example.com/v2"}],
        "/schemes/0",
    )
    assert servers(host="api.example.com") == ([{"url": "//api.example.com"}], "/host")
    assert servers(basePath="/v2") == ([{"url": "/v2"}], "/basePath")
    assert servers() == ([{"url": "/"}], "")


def test_operation_schemes_become_operation_servers() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.example.com",
        "schemes": ["https"],
        "paths": {
            "/legacy": {
                "get": {"schemes": ["http"], "responses": {"200": {"description": "ok"}}},
                "put": {"schemes": ["https"], "responses": {"200": {"description": "ok"}}},
            }
        },
    }
    result = normalize(doc)
    item = result.document["paths"]["/legacy"]
    assert item["get"]["servers"] == [{"url": "http://api.example.com"}]
    assert "servers" not in item["put"]
    assert result.origins.original("/paths/~1legacy/get/servers/0") == (
        "/paths/~1legacy/get/schemes/0"
    )


def test_not_swagger_2() -> None:
    with pytest.raises(ValueError, match=r"not a Swagger 2\.0 document"):
        normalize_swagger2({"openapi": "3.0.3"}, no_resolver)


# --------------------------------------------------------------------------- OriginMap


def test_origin_map_longest_prefix_on_whole_tokens() -> None:
    origins = OriginMap()
    origins.add("/a", "/x")
    origins.add("/a/b", "/y")
    origins.add("/a/b/c", "/z/0")
    assert origins.original("/a") == "/x"
    assert origins.original("/a/q/r") == "/x/q/r"
    assert origins.original("/a/b") == "/y"
    assert origins.original("/a/bc") == "/x/bc"  # /a/b is not a prefix of /a/bc
    assert origins.original("/a/b/c/d") == "/z/0/d"
    assert origins.original("/other/thing") == "/other/thing"
    assert origins.original("") == ""


def test_origin_map_root_and_aliases() -> None:
    origins = OriginMap()
    origins.add("", "/root")
    origins.add("/home/s", "/orig/s")
    origins.alias("/copy/s", "/home/s")
    assert origins.original("/anything") == "/root/anything"
    assert origins.original("/copy/s/p/q") == "/orig/s/p/q"
    assert dict(origins) == {"": "/root", "/home/s": "/orig/s"}


# --------------------------------------------------------------------------- the OAI examples


def swagger_documents() -> Iterator[Path]:
    """Every Swagger 2.0 document of the OAI examples. Found by loading, not by grep: three of
    them put `swagger:` under a `---` with indentation."""
    for path in sorted(OAI_EXAMPLES.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        doc = load(path)
        if isinstance(doc, dict) and str(doc.get("swagger")) == "2.0":
            yield path


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def file_resolver(path: Path, doc: Any) -> Callable[[str], Any]:
    """Resolves `other.yaml#/x` relative to `path`, `#/x` in `doc`."""

    def resolve(ref: str) -> Any:
        file, _, fragment = ref.partition("#")
        target = load(path.parent / file) if file else doc
        return pointer.resolve(target, unquote(fragment))

    return resolve


SWAGGER_DOCUMENTS = list(swagger_documents()) if OAI_EXAMPLES.is_dir() else []


@pytest.mark.corpus
def test_the_oai_examples_are_found() -> None:
    names = {p.relative_to(OAI_EXAMPLES).as_posix() for p in SWAGGER_DOCUMENTS}
    assert {
        "examples/v2.0/yaml/api-with-examples.yaml",
        "examples/v2.0/yaml/petstore-expanded.yaml",
        "examples/v2.0/yaml/petstore-minimal.yaml",
        "examples/v2.0/yaml/petstore-separate/spec/swagger.yaml",
        "examples/v2.0/yaml/petstore-simple.yaml",
        "examples/v2.0/yaml/petstore-with-external-docs.yaml",
        "examples/v2.0/yaml/petstore.yaml",
        "examples/v2.0/yaml/uber.yaml",
    } <= names


@pytest.mark.corpus
@pytest.mark.parametrize(
    "path",
    SWAGGER_DOCUMENTS,
    ids=[p.relative_to(OAI_EXAMPLES).as_posix() for p in SWAGGER_DOCUMENTS],
)
def test_oai_example_normalises_to_valid_openapi_30(path: Path) -> None:
    doc = load(path)
    before = copy.deepcopy(doc)
    result = normalize_swagger2(doc, file_resolver(path, doc))
    assert doc == before
    assert result.document["openapi"] == "3.0.3"
    validate(result.document, base_uri=path.resolve().as_uri())
    for where, _ in walk(result.document):
        original = result.origins.original(where)
        assert exists(doc, original) or exists(doc, parent(original)), (where, original)


@pytest.mark.corpus
def test_the_validator_is_not_vacuous() -> None:
    """The unconverted petstore, merely relabelled 3.0.3, must fail: the check above means
    something."""
    path = OAI_EXAMPLES / "examples" / "v2.0" / "yaml" / "petstore.yaml"
    doc = load(path)
    del doc["swagger"]
    doc["openapi"] = "3.0.3"
    with pytest.raises(Exception, match="valid"):
        validate(doc)


# --------------------------------------------------------------------------- helpers


def walk(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, pointer.child(where, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, pointer.child(where, i))


def exists(doc: Any, where: str) -> bool:
    try:
        pointer.resolve(doc, where)
    except pointer.PointerError:
        return False
    return True


def parent(where: str) -> str:
    return where[: where.rfind("/")] if "/" in where else ""


# --------------------------------------------------------------------------- size and depth


def test_deep_schema_at_the_parser_depth_limit() -> None:
    from apigov.spec.limits import DEFAULT_LIMITS

    schema: dict[str, Any] = {"type": "string", "x-nullable": True}
    for _ in range(DEFAULT_LIMITS.max_depth - 4):
        schema = {"type": "array", "items": schema}
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "definitions": {"Deep": schema},
    }
    result = normalize_swagger2(doc, no_resolver)
    depth = DEFAULT_LIMITS.max_depth - 4
    node = result.document["components"]["schemas"]["Deep"]
    for _ in range(depth):
        node = node["items"]
    assert node == {"type": "string", "nullable": True}
    leaf = "/items" * depth
    assert result.origins.original(f"/components/schemas/Deep{leaf}/nullable") == (
        f"/definitions/Deep{leaf}/x-nullable"
    )


def test_shared_subtrees_cost_one_origin_entry_per_place() -> None:
    """A big shared response inlined into many operations is converted once, and each place
    adds a constant number of origin entries, not one per node of the response."""
    properties = {f"p{i}": {"type": "string", "x-nullable": True} for i in range(200)}
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "produces": ["application/json"],
        "paths": {
            f"/r{i}": {
                "get": {
                    "produces": ["application/xml", "text/plain"],
                    "responses": {"200": {"$ref": "#/responses/Big"}},
                }
            }
            for i in range(300)
        },
        "responses": {
            "Big": {"description": "big", "schema": {"type": "object", "properties": properties}}
        },
    }
    result = normalize_swagger2(doc, no_resolver)
    assert len(result.origins) < 300 * 10 + 2 * 200
    first = result.document["paths"]["/r0"]["get"]["responses"]["200"]
    last = result.document["paths"]["/r299"]["get"]["responses"]["200"]
    assert first["content"]["text/plain"]["schema"] is last["content"]["application/xml"]["schema"]
    at = "/paths/~1r299/get/responses/200/content/text~1plain/schema/properties/p7/nullable"
    assert result.origins.original(at) == "/responses/Big/schema/properties/p7/x-nullable"


def test_items_lists_become_one_schema_or_any_of() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "definitions": {
            "One": {"type": "array", "items": [{"type": "string"}]},
            "Two": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
            "Bare": {"type": "array"},
        },
    }
    result = normalize_swagger2(doc, no_resolver)
    assert result.document["components"]["schemas"] == {
        "One": {"type": "array", "items": {"type": "string"}},
        "Two": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "Bare": {"type": "array", "items": {}},
    }
    original = result.origins.original
    assert original("/components/schemas/One/items/type") == "/definitions/One/items/0/type"
    assert original("/components/schemas/Two/items/anyOf/1") == "/definitions/Two/items/1"
    assert original("/components/schemas/Bare/items") == "/definitions/Bare/type"
