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
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logs import correlation_id
from shared.problems import Problem

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


# What any route may answer besides its success, each as a problem document (the handlers above):
# the OpenAPI lists them so a client (and the schema-driven tests) know every status it can meet.
PROBLEM_STATUSES = {
    "400": "the body is not JSON, or is nested too deeply",
    "401": "no bearer token, or one that is expired, forged or not for this issuer",
    "403": "the route needs an admin token",
    "404": "no such resource for this account (another account's is not found either)",
    "409": "the resource's state refuses the change (a frozen cart, an order past Review, a balance limit)",
    "413": "the upload is over the size limit",
    "422": "a field or parameter is invalid; `errors` names each (field path and message)",
    "503": "the database or a peer service is unavailable; retry after `Retry-After` seconds where given",
}


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
            "type": "object", "required": ["type", "title", "status", "detail", "code"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                           "detail": {"type": "string"}, "code": {"type": "string"}, "instance": {"type": "string"},
                           "errors": {"type": "array", "items": {"type": "object"}}},
            "additionalProperties": True}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in PROBLEM_STATUSES.items():
                    documented = responses.setdefault(status, {"description": description})
                    documented["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
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
