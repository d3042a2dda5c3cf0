"""apigov:oas rules on documents built to break them, with the findings worked out by hand."""

from __future__ import annotations

from lint_helpers import LintText, ids_and_pointers

BROKEN_30 = """\
openapi: 3.0.3
info:
  title: Shop
  version: "1"
  description: "<script>alert(1)</script>"
servers:
  - url: https://api.example.org/{region}/
    variables:
      region: {enum: [eu, us], default: asia}
      unused: {default: x}
tags:
  - {name: orders, description: d}
  - {name: orders, description: again}
paths:
  /orders/{orderId}/:
    get:
      operationId: get order
      tags: [orders, undeclared]
      description: d
      parameters:
        - {name: orderId, in: path, schema: {type: string}}
        - {name: q, in: query, schema: {type: string}}
        - {name: q, in: query, schema: {type: string, enum: [a, a]}}
      responses:
        "404": {description: missing}
  /orders:
    post:
      operationId: get order
      tags: [orders]
      description: d
      security: [{nope: []}]
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: integer}
                  status: {type: string, enum: [open, 3]}
              example: {id: "seven"}
components:
  schemas:
    Unused: {type: string}
    List: {type: array}
"""


def test_oas3_rules(lint_text: LintText) -> None:
    found = ids_and_pointers(lint_text(BROKEN_30, "spectral:oas"))
    media = "/paths/~1orders/post/responses/201/content/application~1json"
    get = "/paths/~1orders~1{orderId}~1/get"
    assert found == {
        ("info-contact", "/info"),
        ("no-script-tags-in-markdown", "/info/description"),
        ("oas3-server-trailing-slash", "/servers/0/url"),
        ("oas3-server-variables", "/servers/0/variables/unused"),
        ("oas3-server-variables", "/servers/0/variables/region/default"),
        ("openapi-tags-uniqueness", "/tags/1/name"),
        ("path-keys-no-trailing-slash", "/paths/~1orders~1{orderId}~1"),
        ("path-params", "/paths/~1orders~1{orderId}~1/get/parameters/0"),
        ("operation-operationId-valid-in-url", "/paths/~1orders~1{orderId}~1/get/operationId"),
        ("operation-operationId-valid-in-url", "/paths/~1orders/post/operationId"),
        ("operation-operationId-unique", "/paths/~1orders/post/operationId"),
        ("operation-tag-defined", "/paths/~1orders~1{orderId}~1/get/tags/1"),
        ("operation-parameters", "/paths/~1orders~1{orderId}~1/get/parameters/2"),
        ("operation-success-response", "/paths/~1orders~1{orderId}~1/get/responses"),
        ("oas3-operation-security-defined", "/paths/~1orders/post/security/0/nope"),
        ("typed-enum", f"{media}/schema/properties/status/enum/1"),
        ("duplicated-entry-in-enum", f"{get}/parameters/2/schema/enum"),
        # the document is invalid too: a path parameter must say `required: true`
        ("oas3-schema", f"{get}/parameters/0"),
        ("oas3-valid-media-example", f"{media}/example/id"),
        ("oas3-unused-component", "/components/schemas/Unused"),
        ("oas3-unused-component", "/components/schemas/List"),
        ("array-items", "/components/schemas/List"),
    }


BROKEN_20 = """\
swagger: "2.0"
info: {title: Shop, version: "1", description: d, contact: {name: c}}
host: api.example.org/
basePath: /
schemes: [https]
paths:
  /pets:
    post:
      operationId: addPet
      tags: [pets]
      description: d
      consumes: [application/json]
      parameters:
        - {name: name, in: formData, type: string}
        - {name: body, in: body, schema: {$ref: "#/definitions/Pet"}}
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/Pet"}}
definitions:
  Pet:
    type: object
    discriminator: kind
    properties:
      name: {type: string, example: 12}
      alt: {anyOf: [{type: string}]}
  Lonely: {type: string}
"""


def test_oas2_rules(lint_text: LintText) -> None:
    found = ids_and_pointers(lint_text(BROKEN_20, "spectral:oas"))
    assert found == {
        ("oas2-host-trailing-slash", "/host"),
        ("oas2-schema", "/host"),  # a host is a name and an optional port, nothing more
        ("operation-tag-defined", "/paths/~1pets/post/tags/0"),
        ("oas2-operation-formData-consume-check", "/paths/~1pets/post"),
        # body + formData: reported on the parameters list itself
        ("operation-parameters", "/paths/~1pets/post/parameters"),
        # `kind` is not among the properties (reported there) nor required (which is missing,
        # so the finding points at the closest place that exists: the schema)
        ("oas2-discriminator", "/definitions/Pet/properties"),
        ("oas2-discriminator", "/definitions/Pet"),
        ("oas2-valid-schema-example", "/definitions/Pet/properties/name/example"),
        ("oas2-anyOf", "/definitions/Pet/properties/alt/anyOf"),
        ("oas2-unused-definition", "/definitions/Lonely"),
    }


def test_all_mode_turns_on_rules_that_are_not_recommended(lint_text: LintText) -> None:
    ruleset = "extends: [[spectral:oas, all]]\n"
    found = ids_and_pointers(lint_text(BROKEN_20, ruleset))
    assert ("contact-properties", "/info/contact") in found
    assert ("info-license", "/info") in found
    assert ("oas2-parameter-description", "/paths/~1pets/post/parameters/0") in found
    recommended_only = ids_and_pointers(lint_text(BROKEN_20, "extends: spectral:oas\n"))
    assert not any(rule == "info-license" for rule, _ in recommended_only)
