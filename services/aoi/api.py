"""HTTP routes of the aoi service: parse the request, call a use case (services/aoi/usecases.py), answer.

    POST /v1/aois               import, validate, store (201 + Location); Idempotency-Key
                                (shared.idempotency) replays the first answer
    POST /v1/aois:validate      the same import as a dry run (200, nothing stored)
    GET  /v1/aois/{id}          GeoJSON GeometryCollection + report (another account's: 404)
    GET  /v1/aois               the account's AOIs, newest first (limit, cursor); with
                                ?intersects=<WKT|GeoJSON> or ?bbox=minLon,minLat,maxLon,maxLat only
                                those intersecting it
    POST /v1/aois:search        the overlap query with the geometry in a JSON body
                                ({"intersects": <GeoJSON|WKT>} or {"bbox": [w, s, e, n]}, limit, cursor)

Inputs of the two POSTs: multipart/form-data (file in field ``file``), a raw text body (WKT, EWKT,
GeoJSON, KML, ...), a binary body (zip, KMZ, GeoPackage, FlatGeobuf) or a JSON body (GeoJSON, or a
wrapper such as {"Wkt": ...} / {"GeoJson": ...}, keys case-insensitive). Options ``name``, ``repair``,
``dissolve``, ``drop_failing`` as query parameters, form fields or keys of a JSON wrapper. A refusal's
problem body carries ``report``: every part with its facts and violations (docs/domain.md, AOI rules).
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from services.aoi import usecases, views
from services.aoi.domain import (
    OPTIONS,
    QueryError,
    QueryPlan,
    Upload,
    decode_cursor,
    json_options,
    parse_bbox,
    parse_geometry,
    plan,
    too_large,
    upload,
)
from services.aoi.settings import AoiSettings
from services.aoi.usecases import Busy
from shared import idempotency
from shared.auth import Principal, current_principal
from shared.http import ProblemResponse, request_body
from shared.inputs import path_id
from shared.problems import Problem
from shared.service import Runtime

router = APIRouter(prefix="/v1/aois", tags=["aoi"])

authenticated = current_principal  # async in shared.auth

_UPLOAD_DOC = ("the AOI: a file in the multipart field `file`, or the raw body (text, JSON or binary); options "
               "as form fields, JSON wrapper keys or query parameters")
_MULTIPART_SLACK = 64 * 1024  # boundaries, part headers and form fields around the file


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


def _settings(request: Request) -> AoiSettings:
    settings: AoiSettings = request.app.state.rt.settings
    return settings


# ------------------------------------------------------------------------------ input decoding


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` (never buffered beyond)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, settings: AoiSettings) -> Upload:
    """Decode any accepted request shape into the bytes to import and the options."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    options: dict[str, Any] = {k: v for k, v in request.query_params.items() if k in OPTIONS}
    filename = None
    if ctype == "multipart/form-data":
        body = await _read_body(request, settings.max_upload_bytes + _MULTIPART_SLACK)
        request._body = body  # starlette replays a read body to the form parser
        try:
            form = await request.form(max_files=1, max_fields=20)
        except MultiPartException as exc:
            raise Problem(422, "unreadable", f"the multipart body could not be parsed ({exc}); send the file "
                                             "in a form field named 'file'") from None
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Problem(422, "empty_input", "the multipart body has no file in the field 'file'; send the "
                                              "AOI file as form field 'file'")
        data = await file.read()
        if len(data) > settings.max_upload_bytes:
            raise too_large(settings.max_upload_bytes, len(data))
        for key in OPTIONS:
            if key in form and key not in options and isinstance(form[key], str):
                options[key] = form[key]
        filename = file.filename
        file_ctype = file.content_type
        if filename and "name" not in options:
            options["name"] = filename
    else:
        data = await _read_body(request, settings.max_upload_bytes)
        file_ctype = ctype or None
        if ctype in ("application/json", "application/geo+json") or ctype.endswith("+json"):
            options = json_options(data, options)
    return upload(data, options, filename=filename, content_type=file_ctype)


def _busy(request: Request, busy: Busy) -> Response:
    return ProblemResponse(busy.problem().body(str(request.url.path)), status_code=503,
                           headers={"Retry-After": str(busy.retry_after)})


def _limit(value: Any, settings: AoiSettings) -> int:
    if value is None or value == "":
        return settings.list_default_limit
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        n = 0
    if not 1 <= n <= settings.list_max_limit:
        raise Problem(422, "invalid_limit", f"limit must be an integer from 1 to {settings.list_max_limit}",
                      field="limit")
    return n


def _query_plan(intersects: Any, bbox: Any, settings: AoiSettings) -> QueryPlan:
    try:
        if intersects is not None and bbox is not None:
            raise QueryError("invalid_query_geometry", "send either intersects or bbox, not both")
        if bbox is not None:
            geom = parse_bbox(str(bbox))
        elif isinstance(intersects, (str, dict)):
            geom = parse_geometry(intersects, max_vertices=settings.query_max_vertices)
        else:
            raise QueryError("invalid_query_geometry", "intersects must be WKT or a GeoJSON object")
        return plan(geom, h3_max_km2=settings.h3_query_max_km2)
    except QueryError as err:
        raise Problem(422, err.code, err.message) from None


# ------------------------------------------------------------------------------ routes


@router.post("", status_code=201, responses={201: {"model": views.Aoi, "description": "the stored AOI"}},
             openapi_extra=request_body(views.UPLOAD_BODY, description=_UPLOAD_DOC))
async def create_aoi(request: Request, principal: Principal = Depends(authenticated),
                     key: str | None = Depends(idempotency.optional_key)) -> Response:
    """Import, validate and store an AOI; emits AoiRegistered through the outbox."""
    got = await read_upload(request, _settings(request))
    fingerprint = idempotency.fingerprint(request, got.identity()) if key is not None else ""
    try:
        return await usecases.create_aoi(_rt(request), principal.account, got, key, fingerprint)
    except Busy as busy:
        return _busy(request, busy)


@router.post(":validate", responses={200: {"model": views.AoiValidation, "description": "the AOI, not stored"}},
             openapi_extra=request_body(views.UPLOAD_BODY, description=_UPLOAD_DOC))
async def validate_aoi(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """The import as a dry run: the normalised geometry and report, or the refusal; nothing stored."""
    got = await read_upload(request, _settings(request))
    try:
        # a dry run has no use for the H3 cover (it only serves the stored index)
        aoi = await usecases.run_import(_rt(request), got, index=False)
    except Busy as busy:
        return _busy(request, busy)
    return views.json_response(views.validation_body(got, aoi))


@router.get("/{aoi_id}", responses={200: {"model": views.Aoi, "description": "the AOI"}})
async def get_aoi(aoi_id: str, request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """One AOI of the caller's account: its geometry (GeoJSON) and import report."""
    path_id(aoi_id, "AOI")
    return await usecases.get_aoi(_rt(request), principal.account, aoi_id)


@router.get("", responses={200: {"model": views.AoiPage, "description": "a page of AOIs"}})
async def list_aois(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """The account's AOIs, newest first; ``intersects`` or ``bbox`` narrows to an overlap query."""
    rt = _rt(request)
    settings = _settings(request)
    q = request.query_params
    limit = _limit(q.get("limit"), settings)
    after = decode_cursor(q.get("cursor"))
    if q.get("intersects") is not None or q.get("bbox") is not None:
        query = _query_plan(q.get("intersects"), q.get("bbox"), settings)
        return JSONResponse(await usecases.overlap(rt, principal.account, query, limit, after))
    return JSONResponse(await usecases.list_aois(rt, principal.account, limit, after))


@router.post(":search", responses={200: {"model": views.AoiPage, "description": "a page of AOIs"}},
             openapi_extra=request_body({"application/json": views.AoiSearch}, description="the query geometry"))
async def search_aois(request: Request, principal: Principal = Depends(authenticated)) -> Response:
    """The overlap query with a JSON body: {"intersects": GeoJSON or WKT} or {"bbox": [w, s, e, n]},
    optional "limit" and "cursor"."""
    settings = _settings(request)
    raw = await _read_body(request, settings.max_upload_bytes)
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise Problem(422, "invalid_query_geometry", "the search body is not JSON; send "
                      '{"intersects": <GeoJSON or WKT>} or {"bbox": [w, s, e, n]}') from None
    if not isinstance(body, dict):
        raise Problem(422, "invalid_query_geometry", 'send {"intersects": <GeoJSON or WKT>} or {"bbox": [w, s, e, n]}')
    bbox = body.get("bbox")
    if isinstance(bbox, list):
        bbox = ",".join(str(v) for v in bbox)
    query = _query_plan(body.get("intersects") or body.get("geometry"), bbox, settings)
    limit = _limit(body.get("limit"), settings)
    after = decode_cursor(body.get("cursor") if isinstance(body.get("cursor"), str) else None)
    return JSONResponse(await usecases.overlap(_rt(request), principal.account, query, limit, after))
