"""HTTP basics shared by every service: app factory, health, metrics, problem details, CORS, correlation."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.logs import correlation_id
from shared.problems import Problem

log = logging.getLogger("tessera.http")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["service", "method", "route"])
PROBLEM_JSON = "application/problem+json"


class ObserveMiddleware:
    """Correlation id in and out, request count and latency per route. A plain ASGI middleware:
    Starlette's @app.middleware("http") wraps every request in extra tasks and streams."""

    def __init__(self, app, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
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

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-correlation-id", cid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(self.service, method, path, str(status)).inc()
            LATENCY.labels(self.service, method, path).observe(time.perf_counter() - start)
            correlation_id.reset(token)


def problem_response(p: Problem, request: Request) -> JSONResponse:
    return JSONResponse(p.body(str(request.url.path)), status_code=p.status, media_type=PROBLEM_JSON)


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
    async def on_problem(request: Request, exc: Problem):
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "message": e.get("msg", "invalid")})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(Problem(422, "validation_error", detail, errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(Problem(exc.status_code, code, str(exc.detail)), request)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem(500, "internal_error", "an unexpected error occurred; it has been logged"), request)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "alive", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        checks = await readiness(app) if readiness else {}
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics():
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
