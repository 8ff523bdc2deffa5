"""Every JSON response the contract suite sees, checked against the schema Codat's spec declares for
that operation and status code.

The SDK's pydantic models are lenient where the spec is strict: they accept `null` for any optional
field, so `{"id": null}` where the spec says `id: {type: string}` passes them. Validating the raw
body against the spec's own JSON Schema catches what they let through.

The spec says `openapi: 3.1.0`, whose schemas are JSON Schema 2020-12, where `nullable` is not a
keyword. Codat's file is written in OpenAPI 3.0 style all the same: nowhere does it spell null the
3.1 way (`type: [string, "null"]`), and it marks fields `nullable: true` (and some
`nullable: false`) on purpose. The SDK generated from it honours those marks, and so does this
check: a `nullable: true` schema also accepts null; without the mark, null is a violation.

`format` is left as an annotation (JSON Schema's default): Codat's own date-times carry no zone
and would fail RFC 3339, which the spec's examples show is intended.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:codat:sync-for-expenses"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _as_json_schema(spec: dict) -> dict:
    """A copy of the spec in plain JSON Schema 2020-12:

    * every `nullable: true` schema becomes `{"anyOf": [<the schema>, {"type": "null"}]}`. The
      spec's `$ref`s point into schemas as well as at them
      (`#/components/schemas/X/properties/date/allOf/1`), so a pointer that passes through a
      wrapped schema gets `/anyOf/0` inserted after it;
    * `additionalProperties: false` beside an `allOf` and no `properties` of its own (the spec's
      `Transactions`: results plus paging info) would refuse every property, the spec's own
      example included; what it means is `unevaluatedProperties: false`, which sees the
      properties the `allOf` declares."""
    wrapped: set[str] = set()

    def wrap(node, pointer: str):
        if isinstance(node, list):
            return [wrap(item, f"{pointer}/{i}") for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        converted = {
            key: wrap(value, f"{pointer}/{_escape(key)}")
            for key, value in node.items()
            if key != "nullable"
        }
        if (
            "allOf" in node
            and "properties" not in node
            and node.get("additionalProperties") is False
        ):
            del converted["additionalProperties"]
            converted["unevaluatedProperties"] = False
        if node.get("nullable") is True:
            wrapped.add(pointer)
            return {"anyOf": [converted, {"type": "null"}]}
        return converted

    def repoint(node):
        if isinstance(node, list):
            return [repoint(item) for item in node]
        if not isinstance(node, dict):
            return node
        converted = {key: repoint(value) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            pointer = ""
            for segment in ref[2:].split("/"):
                pointer += f"/{segment}"
                if pointer in wrapped:
                    pointer += "/anyOf/0"
            # a $ref that names a wrapped schema itself keeps its nullability
            if ref[1:] in wrapped:
                pointer = pointer.removesuffix("/anyOf/0")
            converted["$ref"] = f"#{pointer}"
        return converted

    return repoint(wrap(spec, ""))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass
class Operation:
    operation_id: str
    method: str
    path_template: str
    pattern: re.Pattern
    literal_segments: int
    # status code (as the spec writes it) -> JSON pointer to the JSON body's schema, or None when
    # that status declares no JSON body
    responses: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Violation:
    operation_id: str
    method: str
    path: str
    status: int
    message: str

    def __str__(self) -> str:
        return f"{self.operation_id} {self.method} {self.path} -> {self.status}: {self.message}"


class ResponseContract:
    def __init__(self, spec_text: str):
        raw = yaml.safe_load(spec_text)
        self.openapi_version = raw["openapi"]
        spec = _as_json_schema(raw)
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self.operations = self._operations(spec)

    @classmethod
    def from_file(cls, path: Path) -> ResponseContract:
        return cls(path.read_text(encoding="utf-8"))

    def _operations(self, spec: dict) -> list[Operation]:
        operations = []
        for path_template, item in spec["paths"].items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                segments = path_template.strip("/").split("/")
                pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
                operation = Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path_template=path_template,
                    pattern=re.compile(f"/{pattern}"),
                    literal_segments=sum(not s.startswith("{") for s in segments),
                )
                base = f"#/paths/{_escape(path_template)}/{method}/responses"
                for status, response in op["responses"].items():
                    pointer = f"{base}/{status}"
                    if "$ref" in response:
                        pointer = response["$ref"]
                        name = pointer.rsplit("/", 1)[1]
                        response = spec["components"]["responses"][name]
                    content = response.get("content") or {}
                    operation.responses[str(status)] = (
                        f"{pointer}/content/{_escape('application/json')}/schema"
                        if "application/json" in content
                        else None
                    )
                operations.append(operation)
        # /syncs/latest/status must win over /syncs/{syncId}/status
        operations.sort(key=lambda o: -o.literal_segments)
        return operations

    def operation_for(self, method: str, path: str) -> Operation | None:
        for operation in self.operations:
            if operation.method == method and operation.pattern.fullmatch(path):
                return operation
        return None

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{SPEC_URI}{pointer}"}, registry=self._registry
            )
        return self._validators[pointer]

    def check(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> list[Violation]:
        """Violations of one response; none for a path or status the spec does not declare (the
        SDK's own status maps and test_undeclared_statuses.py judge those)."""
        operation = self.operation_for(method, path)
        if operation is None or str(status) not in operation.responses:
            return []

        def violation(message: str) -> Violation:
            return Violation(operation.operation_id, method, path, status, message)

        pointer = operation.responses[str(status)]
        if pointer is None:
            return [violation(f"body {body[:200]!r} where none is declared")] if body else []
        if not content_type.startswith("application/json"):
            return [violation(f"Content-Type {content_type!r}, not application/json")]
        try:
            document = json.loads(body)
        except ValueError as exc:
            return [violation(f"body is not JSON ({exc}): {body[:200]!r}")]
        return [
            violation(f"at {error.json_path}: {_explain(error)}")
            for error in self._validator(pointer).iter_errors(document)
        ]


def _explain(error: ValidationError) -> str:
    """The message of the deepest relevant error: for a value that fails `anyOf: [schema, null]`,
    what is wrong with it against the schema, not just that it matched neither branch."""
    while error.context:
        error = best_match(error.context)
    return error.message
