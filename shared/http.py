"""HTTP basics shared by every service: app factory, health, metrics, problem details, CORS, correlation."""
from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logs import correlation_id
from shared.problems import Problem, ProblemDocument

log = logging.getLogger("tessera.http")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["service", "method", "route"])
PROBLEM_JSON = "application/problem+json"

# The database is restarting, failing over or out of connections: the request may well succeed in
# a moment, so these are a 503 with Retry-After, never a 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,      # 08xxx: connection lost, refused, rejected
    asyncpg.exceptions.OperatorInterventionError,  # 57xxx: shutdown, cannot connect now, canceled
    asyncpg.exceptions.InsufficientResourcesError,  # 53xxx: too many connections, disk full
    ConnectionError,                      # refused or reset while the pool (re)connects
    asyncpg.exceptions.ConnectionDoesNotExistError,  # closed in the middle of the request by a restart
    # a pooled connection the server dropped can be handed out in a broken protocol state
    # ("cannot switch to state ..."): seen while Postgres restarts under load
    asyncpg.exceptions.InternalClientError,
)
RETRY_AFTER_SECONDS = 2


def _parameter_with_nul(query_string: bytes) -> str | None:
    """The name of the first query parameter holding a NUL (Postgres text cannot), or None."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\x00")
    return None


async def _send_problem(send: Send, p: Problem, path: str) -> None:
    body = json.dumps(p.body(path)).encode()
    await send({"type": "http.response.start", "status": p.status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class ObserveMiddleware:
    """Correlation id in and out, request count and latency per route. A plain ASGI middleware:
    Starlette's @app.middleware("http") wraps every request in extra tasks and streams."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cid = None
        for name, value in scope.get("headers", ()):
            if name == b"x-correlation-id":
                cid = value.decode("latin-1")
                break
        cid = cid or str(uuid.uuid4())
        token = correlation_id.set(cid)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-correlation-id", cid.encode("latin-1"))]
            await send(message)

        try:
            nul = _parameter_with_nul(scope.get("query_string", b""))
            if nul is not None:
                await _send_problem(send_with_id, Problem(
                    422, "invalid_text", f"query parameter {nul!r} contains a NUL character, which cannot be stored "
                                         "or searched for",
                                         errors=[{"field": nul, "message": "contains a NUL character"}]),
                    scope.get("path", ""))
                return
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here rather than by Starlette's ServerErrorMiddleware, which re-raises after its
            # 500 and so makes the server drop the client's keep-alive connection.
            if started:
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            await _send_problem(send_with_id, Problem(500, "internal_error", "an unexpected error occurred; it has "
                                                                             "been logged"), scope.get("path", ""))
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(self.service, method, path, str(status)).inc()
            LATENCY.labels(self.service, method, path).observe(time.perf_counter() - start)
            correlation_id.reset(token)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:  # a refusal quoting the client's lone surrogate: escape it, still JSON
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()
        except ValueError:  # a NaN or infinity among the details: JSON has no such number
            return json.dumps(_finite(content), ensure_ascii=True, separators=(",", ":")).encode()


def problem_response(p: Problem, request: Request) -> JSONResponse:
    return ProblemResponse(p.body(str(request.url.path)), status_code=p.status)


# What the statuses mean, whatever the route; each operation lists those it can answer, with the codes
# (shared.problem_codes reads them from the route's code) so a client and the schema-driven tests know
# every status and code it can meet.
PROBLEM_STATUSES = {
    "400": "the body is not JSON (or not UTF-8), or is nested too deeply",
    "401": "no bearer token, or one that is expired, forged or not for this issuer",
    "403": "the route needs an admin token",
    "404": "no such resource for this account (another account's is not found either)",
    "409": "the resource's state refuses the change (a frozen cart, an order past Review, a balance limit)",
    "413": "the upload is over the size limit",
    "422": "a field or parameter is invalid; `errors` names each (field path and message)",
    "502": "a peer service answered with something unusable",
    "503": "the database or a peer service is unavailable; retry after `Retry-After` seconds where given",
}

# Answered by the app itself whatever the route: a parameter or body that fails its schema or holds a
# NUL (validation_error, invalid_text), the database away (database_unavailable); a path parameter that
# does not match the route is a 404.
ANY_ROUTE: dict[int, set[str]] = {422: {"validation_error", "invalid_text"}, 503: {"database_unavailable"}}

# Request bodies of routes that read the raw body (documented with openapi_extra): the models whose
# schemas the document must carry, by component name.
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def request_body(content: dict[str, type[BaseModel] | dict[str, Any]], *, description: str,
                 required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its body itself: each media type's schema, a model
    (referenced as a component) or a plain schema. Documentation only: nothing is validated on the way in."""
    media: dict[str, Any] = {}
    for media_type, schema in content.items():
        if isinstance(schema, type):
            _BODY_MODELS[schema.__name__] = schema
            media[media_type] = {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}
        else:
            media[media_type] = {"schema": schema}
    return {"requestBody": {"description": description, "required": required, "content": media}}


def answers(model: type[BaseModel], description: str, status: int = 200) -> dict[str, Any]:
    """Route keywords documenting the success answer's schema without validating or re-serialising the
    answer (the route's dict or pre-encoded body goes out as it is)."""
    return {"response_model": None, "responses": {status: {"model": model, "description": description}}}


def _add_models(schemas: dict[str, Any], models: dict[str, type[BaseModel]], mode: str) -> None:
    for name, model in models.items():
        if name in schemas:
            continue
        doc = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)  # type: ignore[arg-type]
        for sub, sub_doc in doc.pop("$defs", {}).items():
            schemas.setdefault(sub, sub_doc)
        schemas[name] = doc


def _referenced(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            out.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _referenced(value, out)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, out)
    return out


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from shared import problem_codes

        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        _add_models(schemas, {"Problem": ProblemDocument}, "serialization")
        wanted = _referenced(schema.get("paths", {}), set())
        _add_models(schemas, {n: m for n, m in _BODY_MODELS.items() if n in wanted}, "validation")
        by_operation = problem_codes.operation_codes(app)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                codes: dict[int, set[str]] = {s: set(c) for s, c in ANY_ROUTE.items()}
                if "{" in path:
                    codes.setdefault(404, set()).add("not_found")
                for status, found in by_operation.get((path, method.upper()), {}).items():
                    codes.setdefault(status, set()).update(found)
                responses = operation.setdefault("responses", {})
                for status in sorted(codes):
                    listed = sorted(codes[status])
                    responses[str(status)] = {
                        "description": f"{PROBLEM_STATUSES.get(str(status), 'refused')}; `code`: "
                                       + ", ".join(listed),
                        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                        "x-problem-codes": listed,
                    }
        # FastAPI's own validation-error shapes: every 422 above is a problem document instead
        used = _referenced(schema.get("paths", {}), set())
        for _ in range(5):  # schemas referenced from schemas in use
            used |= _referenced({n: schemas[n] for n in used if n in schemas}, set())
        for name in ("HTTPValidationError", "ValidationError"):
            if name not in used:
                schemas.pop(name, None)
        schema["components"]["schemas"] = dict(sorted(schemas.items()))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    service: str,
    *,
    lifespan: Any = None,
    cors_origins: list[str] | None = None,
    readiness: Callable[[FastAPI], Any] | None = None,
    version: str = "0.1.0",
) -> FastAPI:
    """A FastAPI app with /healthz, /readyz, /metrics, RFC 9457 errors, CORS and correlation ids."""
    app = FastAPI(title=f"Tessera {service}", version=version, lifespan=lifespan)
    app.state.service = service

    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"], expose_headers=["X-Correlation-Id", "Location"])

    app.add_middleware(ObserveMiddleware, service=service)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "message": e.get("msg", "invalid")})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(Problem(422, "validation_error", detail, errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(Problem(exc.status_code, code, str(exc.detail)), request)

    async def on_database_unavailable(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        response = problem_response(Problem(503, "database_unavailable", "the database is not reachable right now "
                                            f"(restarting or overloaded); retry in {RETRY_AFTER_SECONDS} seconds"),
                                    request)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, on_database_unavailable)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem(500, "internal_error", "an unexpected error occurred; it has been logged"),
                                request)

    _document_problems(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        checks = await readiness(app) if readiness else {}
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
