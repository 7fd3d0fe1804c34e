"""The OpenAPI 3.1 document, generated from the API's own routes and schemas.

Why apispec: it is the OpenAPI generator of the marshmallow project (maintained beside
marshmallow itself), it writes OpenAPI 3.1, and it needs no framework of its own, so the API
stays ordinary Flask views under the app's own access decorators. The schemas that describe an
answer here are the ones that shape it (:mod:`tracker.api.schemas`), so the document cannot
drift from what is sent; schemathesis checks both against each other (tests/test_api_schema.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app
from marshmallow import Schema

from tracker.api import schemas
from tracker.permissions import rule_for

TITLE = "Roadmap Tracker API"
VERSION = "1"
DESCRIPTION = (
    "Read-only JSON of the ADASS roadmap *Time to act* (2023) and councils' quarterly progress "
    "on it. The roadmap, councils, regions and quarters are public. Returns, dashboards, "
    "comparisons and the panel's answered comments need a personal access token (made on "
    "your account page, sent as `Authorization: Bearer rt_…`) and show exactly what the "
    "token's person may see on the pages, narrowed to the token's council or region. Errors "
    "are problem details (RFC 9457). Lists are paged (`page`, `per_page`, `links.next`). "
    "Every answer has an ETag: send it back in `If-None-Match` for a 304."
)


@dataclass(frozen=True)
class Operation:
    """What the document says of one route."""

    schema: type[Schema]
    summary: str
    tag: str
    many: bool = False
    paged: bool = False
    #: (name, description) of the query parameters it reads
    parameters: tuple[tuple[str, str], ...] = ()
    #: the page whose access rules it repeats (tests/test_api_access.py checks it)
    mirrors: str | None = None
    description: str = ""


#: endpoint name ("api.council") → its operation
OPERATIONS: dict[str, Operation] = {}


def operation(
    schema: type[Schema],
    summary: str,
    *,
    tag: str,
    many: bool = False,
    paged: bool = False,
    parameters: list[tuple[str, str]] | None = None,
    mirrors: str | None = None,
) -> Callable[[Callable], Callable]:
    """Describe a route for the document (put it under the access decorator)."""

    def decorator(view: Callable) -> Callable:
        OPERATIONS[f"api.{view.__name__}"] = Operation(
            schema=schema,
            summary=summary,
            tag=tag,
            many=many,
            paged=paged,
            parameters=tuple(parameters or ()),
            mirrors=mirrors,
            description=(view.__doc__ or "").strip(),
        )
        return view

    return decorator


_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
#: every request refuses a NUL byte anywhere in its path or query (tracker.http, for both
#: databases' sake): the document says so of every text parameter
NO_NUL = "^[^\\x00]*$"
PATH_PATTERNS = {
    "period": r"^\d{4}-\d{2}-Q[1-4]$",
}
PATH_DESCRIPTIONS = {
    "gss_code": "The council's GSS code, e.g. E08000035.",
    "period_label": "The quarter as it appears in URLs, e.g. 2026-27-Q3.",
    "action_code": "The action's code, e.g. A01.S01.",
    "region_slug": "The ADASS region's slug, e.g. yorkshire-and-the-humber.",
}
PROBLEM_CODES = {
    "400": "The request was not understood: see detail.",
    "401": "A token is needed, or the one sent is not valid.",
    "404": "Nothing here, or nothing this caller may read.",
    "429": "Too many requests: wait for Retry-After seconds.",
}


def _path_parameters(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for converter, name in _ARGUMENT.findall(rule):
        schema: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
        if converter in PATH_PATTERNS:
            schema["pattern"] = PATH_PATTERNS[converter]
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema,
                "description": PATH_DESCRIPTIONS.get(name, ""),
            }
        )
    return _ARGUMENT.sub(r"{\2}", rule), parameters


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    parameters = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "string", "pattern": NO_NUL},
            "description": text,
        }
        for name, text in op.parameters
    ]
    if op.paged:
        parameters += [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 10**6, "default": 1},
                "description": "Which page, from 1.",
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                "description": "Items on a page, at most 500.",
            },
        ]
    return parameters


def _responses(op: Operation, public: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"$ref": f"#/components/schemas/{op.schema.__name__}"}
    if op.many:
        body = {"type": "array", "items": body}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses: dict[str, Any] = {
        "200": {
            "description": op.summary,
            "headers": {"ETag": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": body}},
        },
        "304": {"description": "Not modified: the ETag in If-None-Match still holds."},
    }
    for code, text in PROBLEM_CODES.items():
        if code == "401" and public:
            text = "The token sent is not valid (public routes need none)."
        responses[code] = {"description": text, "content": problem}
    return responses


@cache
def _document(rules: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
    )
    spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "A personal access token."}
    )
    # Nested schemas register themselves under their class names as their parents do.
    for name in sorted({op.schema.__name__ for op in OPERATIONS.values()} | {"Problem"}):
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=getattr(schemas, name))
    for rule, endpoint in rules:
        op = OPERATIONS[endpoint]
        view = current_app.view_functions[endpoint]
        access = rule_for(view)
        public = access is not None and access.kind == "public"
        path, path_parameters = _path_parameters(rule)
        spec.path(
            path=path,
            operations={
                "get": {
                    "operationId": endpoint.removeprefix("api."),
                    "summary": op.summary,
                    "description": op.description,
                    "tags": [op.tag],
                    "parameters": path_parameters + _query_parameters(op),
                    "security": [{}, {"token": []}] if public else [{"token": []}],
                    "responses": _responses(op, public),
                }
            },
        )
    return spec.to_dict()


def document() -> dict[str, Any]:
    """The OpenAPI document of the app's API routes (built once per set of routes)."""
    rules = tuple(
        sorted(
            (rule.rule, rule.endpoint)
            for rule in current_app.url_map.iter_rules()
            if rule.endpoint in OPERATIONS
        )
    )
    return _document(rules)


# -- the reference page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldLine:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Route:
    path: str
    summary: str
    needs_token: bool
    parameters: list[FieldLine]
    returns: str
    fields: list[FieldLine]


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    kind = prop.get("type", "object")
    kinds = [kind] if isinstance(kind, str) else list(kind)
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"] or ["object"]
    text = kinds[0]
    if text == "array":
        text = f"list of {_type_of(prop.get('items', {}))}"
    elif prop.get("format"):
        text = f"{text} ({prop['format']})"
    return text + (" or null" if nullable else "")


def _fields(components: dict[str, Any], name: str) -> list[FieldLine]:
    schema = components.get(name, {})
    return [
        FieldLine(key, _type_of(prop), prop.get("description", ""))
        for key, prop in schema.get("properties", {}).items()
    ]


def reference() -> tuple[dict[str, list[Route]], dict[str, list[FieldLine]]]:
    """The document as a person reads it: routes grouped by tag, and each schema's fields."""
    doc = document()
    components = doc["components"]["schemas"]
    groups: dict[str, list[Route]] = {}
    for path, item in doc["paths"].items():
        op = item["get"]
        body = op["responses"]["200"]["content"]["application/json"]["schema"]
        returns = _type_of(body)
        groups.setdefault(op["tags"][0], []).append(
            Route(
                path=path,
                summary=op["summary"],
                needs_token={} not in op["security"],
                parameters=[
                    FieldLine(p["name"], p["in"], p.get("description", ""))
                    for p in op["parameters"]
                ],
                returns=returns,
                fields=_fields(components, returns.removeprefix("list of ")),
            )
        )
    return groups, {name: _fields(components, name) for name in sorted(components)}
