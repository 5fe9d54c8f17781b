"""HTTP routes of the aoi service: thin (parse, call shared.geo and the domain, persist, enqueue).

    POST /v1/aois               import, validate, store (201 + Location); Idempotency-Key replays
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
``dissolve`` as query parameters, form fields or keys of a JSON wrapper.
"""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import shapely
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from services.aoi import store, work
from services.aoi.domain.query import QueryError, QueryPlan, parse_bbox, parse_geometry, plan
from services.aoi.settings import AoiSettings
from services.aoi.work import Busy, Prepared, prepare
from shared.auth import Principal, current_principal
from shared.contracts.aoi import AoiRegistered
from shared.geo import AoiError
from shared.geo.errors import UPLOAD_TOO_LARGE
from shared.http import ProblemResponse
from shared.inputs import check_text, id_issue, path_id
from shared.problems import Problem, not_found

router = APIRouter(prefix="/v1/aois", tags=["aoi"])



authenticated = current_principal  # async in shared.auth


MAX_NAME = 200
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MULTIPART_SLACK = 64 * 1024  # boundaries, part headers and form fields around the file


# ------------------------------------------------------------------------------ input decoding


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None
    name: str | None
    repair: bool
    dissolve: bool

    def request_hash(self) -> str:
        h = hashlib.sha256(self.data)
        h.update(json.dumps([self.name, self.repair, self.dissolve]).encode())
        return h.hexdigest()


def _aoi_problem(err: AoiError) -> Problem:
    extra: dict[str, Any] = {"where": err.where} if err.where else {}
    return Problem(err.status, err.code, err.message, title=err.code.replace("_", " "), **extra)


def _too_large(limit: int, actual: int | None) -> Problem:
    seen = f"{actual:,} bytes" if actual is not None else "more than that"
    return _aoi_problem(AoiError(
        UPLOAD_TOO_LARGE,
        f"The upload is {seen}, over the limit of {limit:,} bytes (max_upload_bytes); simplify the "
        f"geometry or split it into several AOIs.",
        where={"limit": "max_upload_bytes", "value": limit, **({"actual": actual} if actual else {})}))


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` (never buffered beyond)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Problem(422, "invalid_option", f"{name}={str(value)[:40]!r} is not a boolean; use true or false",
                  field=name)


def _name(value: Any) -> str | None:
    if value is None:
        return None
    text = check_text(str(value).strip(), "name")
    if len(text) > MAX_NAME:
        raise Problem(422, "invalid_option", f"name is {len(text)} characters, over the limit of {MAX_NAME}",
                      field="name")
    return text or None


async def read_upload(request: Request, settings: AoiSettings) -> Upload:
    """Decode any accepted request shape into the bytes to import and the options."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    options: dict[str, Any] = {k: v for k, v in request.query_params.items() if k in ("name", "repair", "dissolve")}
    filename = None
    if ctype == "multipart/form-data":
        body = await _read_body(request, settings.max_upload_bytes + _MULTIPART_SLACK)
        request._body = body  # starlette replays a read body to the form parser
        try:
            form = await request.form(max_files=1, max_fields=20)
        except MultiPartException as exc:
            raise Problem(422, "unreadable", f"the multipart body could not be parsed ({exc}); send the file "
                                             "in a form field named 'file'") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "empty_input", "the multipart body has no file in the field 'file'; send the "
                                              "AOI file as form field 'file'")
        data = await upload.read()
        if len(data) > settings.max_upload_bytes:
            raise _too_large(settings.max_upload_bytes, len(data))
        for key in ("name", "repair", "dissolve"):
            if key in form and key not in options and isinstance(form[key], str):
                options[key] = form[key]
        filename = upload.filename
        file_ctype = upload.content_type
        if filename and "name" not in options:
            options["name"] = filename
    else:
        data = await _read_body(request, settings.max_upload_bytes)
        file_ctype = ctype or None
        if ctype in ("application/json", "application/geo+json") or ctype.endswith("+json"):
            options = _json_options(data, options)
    return Upload(data=data, filename=filename, content_type=file_ctype, name=_name(options.get("name")),
                  repair=_flag(options.get("repair"), "repair"), dissolve=_flag(options.get("dissolve"), "dissolve"))


def _json_options(data: bytes, options: dict[str, Any]) -> dict[str, Any]:
    """Options carried by a JSON wrapper ({"name": ..., "wkt": ..., "repair": true}); query wins."""
    if not data.lstrip()[:1] == b"{":
        return options
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return options  # the importer reports the malformed JSON
    if not isinstance(doc, dict) or isinstance(doc.get("type"), str):
        return options  # plain GeoJSON: no wrapper options
    lowered = {str(k).lower(): v for k, v in doc.items()}
    out = dict(options)
    for key in ("name", "repair", "dissolve"):
        if key in lowered and key not in out:
            out[key] = lowered[key]
    return out


async def run_import(request: Request, upload: Upload, *, index: bool) -> Prepared:
    """The import (and with ``index`` the H3 cover): small text inputs on the loop, everything
    else in the import worker processes (services.aoi.work), which raise Busy when saturated."""
    rt = request.app.state.rt
    settings: AoiSettings = rt.settings
    job = dict(data=upload.data, filename=upload.filename, content_type=upload.content_type,
               repair=upload.repair, dissolve=upload.dissolve, limits=settings.limits(), index=index)
    try:
        if len(upload.data) <= settings.inline_import_bytes and upload.data[:2] != b"PK":
            return prepare(**job)
        return await work.pool().run(**job)
    except AoiError as err:
        raise _aoi_problem(err) from None


def _busy(request: Request, busy: Busy) -> Response:
    return ProblemResponse(busy.problem().body(str(request.url.path)), status_code=503,
                           headers={"Retry-After": str(busy.retry_after)})


def _json(body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """orjson, so the geometry passes through as the stored GeoJSON text, never parsed again."""
    return Response(orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json")


# ------------------------------------------------------------------------------ representations


def _public_report(report: dict[str, Any]) -> dict[str, Any]:
    """The stored report as served: the H3 cover itself stays internal (it is in the index column)."""
    out = dict(report)
    h3s = out.get("h3")
    if isinstance(h3s, dict):
        out["h3"] = {"resolution": h3s.get("resolution"), "cell_count": h3s.get("cell_count")}
    return out


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def aoi_body(row: Any, geometry_json: str | None = None) -> dict[str, Any]:
    """The AOI as served; the geometry is GeoJSON text (``geometry_json``, or the row's
    ``geometry`` selected as text), embedded as it is."""
    return {
        "id": row["id"],
        "account_id": row["account_id"],
        "name": row["name"],
        "created_at": _iso(row["created_at"]),
        "source_format": row["source_format"],
        "geometry": orjson.Fragment(geometry_json if geometry_json is not None else row["geometry"]),
        "report": row["report"],
    }


def summary_body(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": _iso(row["created_at"]),
        "source_format": row["source_format"],
        "area_km2": row["area_km2"],
        "billable_km2": row["billable_km2"],
        "bbox": [row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"]],
        "parts": (row["totals"] or {}).get("parts"),
        "url": f"/v1/aois/{row['id']}",
    }


def _encode_cursor(row: Any) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, ident = raw.split("|", 1)
        if id_issue(ident):
            raise ValueError(ident)
        return datetime.fromisoformat(ts), ident
    except (ValueError, UnicodeDecodeError, UnicodeEncodeError):
        raise Problem(422, "invalid_cursor", "cursor is not one this service issued; start again without it",
                      field="cursor") from None


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


# ------------------------------------------------------------------------------ routes


@router.post("", status_code=201)
async def create_aoi(request: Request, principal: Principal = Depends(authenticated)):
    """Import, validate and store an AOI; emits AoiRegistered through the outbox."""
    rt = request.app.state.rt
    settings: AoiSettings = rt.settings
    key = (request.headers.get("idempotency-key") or "").strip() or None
    if key and len(key) > 200:
        raise Problem(422, "invalid_idempotency_key", "Idempotency-Key is longer than 200 characters")
    upload = await read_upload(request, settings)
    request_hash = upload.request_hash()
    if key:
        existing = await store.by_idempotency_key(rt.pool, principal.account, key)
        if existing is not None:
            return _replay(existing, request_hash)
    try:
        aoi = await run_import(request, upload, index=True)
    except Busy as busy:
        return _busy(request, busy)
    row = _row(aoi, upload, principal.account, key, request_hash)
    async with rt.pool.acquire() as conn, conn.transaction():
        stored = await store.insert(conn, row)
        if stored is None:  # a concurrent request with the same key won
            existing = await store.by_idempotency_key(conn, principal.account, key)
            return _replay(existing, request_hash)
        await rt.outbox.add(conn, AoiRegistered(aoi_id=stored["id"], account_id=principal.account,
                                                name=stored["name"], registered_at=stored["created_at"],
                                                **aoi.facts))
    return _json(aoi_body(stored, aoi.geometry_json), status_code=201,
                 headers={"Location": f"/v1/aois/{stored['id']}"})


def _replay(existing: Any, request_hash: str) -> Response:
    if existing["request_hash"] != request_hash:
        raise Problem(422, "idempotency_key_reused",
                      "this Idempotency-Key was already used for a different AOI; use a new key for a new upload")
    return _json(aoi_body(existing), status_code=201,
                        headers={"Location": f"/v1/aois/{existing['id']}", "Idempotent-Replayed": "true"})


def _row(aoi: Prepared, upload: Upload, account: str, key: str | None, request_hash: str) -> dict[str, Any]:
    h3s = aoi.report["h3"]
    return {
        "id": str(uuid.uuid4()),
        "account_id": account,
        "name": upload.name,
        "source_format": aoi.source_format,
        "geometry": aoi.geometry_json,
        "wkb": aoi.wkb,
        "report": _public_report(aoi.report),
        "area_km2": aoi.area_km2,
        "billable_km2": aoi.billable_km2,
        "bbox": aoi.bbox,
        "h3_resolution": h3s["resolution"],
        "h3_cells": h3s["cells"],
        "h3": h3s,
        "idempotency_key": key,
        "request_hash": request_hash,
    }


@router.post(":validate")
async def validate_aoi(request: Request, principal: Principal = Depends(authenticated)):
    """The import as a dry run: the normalised geometry and report, or the refusal; nothing stored."""
    settings: AoiSettings = request.app.state.rt.settings
    upload = await read_upload(request, settings)
    try:
        # a dry run has no use for the H3 cover (it only serves the stored index)
        aoi = await run_import(request, upload, index=False)
    except Busy as busy:
        return _busy(request, busy)
    return _json({"valid": True, "name": upload.name, "source_format": aoi.source_format,
                  "geometry": orjson.Fragment(aoi.geometry_json), "report": aoi.report})


@router.get("/{aoi_id}")
async def get_aoi(aoi_id: str, request: Request, principal: Principal = Depends(authenticated)):
    path_id(aoi_id, "AOI")
    row = await store.get(request.app.state.rt.pool, principal.account, aoi_id)
    if row is None:
        raise not_found("AOI", aoi_id)
    return _json(aoi_body(row))


@router.get("")
async def list_aois(request: Request, principal: Principal = Depends(authenticated)):
    """The account's AOIs, newest first; ``intersects`` or ``bbox`` narrows to an overlap query."""
    rt = request.app.state.rt
    q = request.query_params
    limit = _limit(q.get("limit"), rt.settings)
    after = _decode_cursor(q.get("cursor"))
    if q.get("intersects") is not None or q.get("bbox") is not None:
        query = _query_plan(q.get("intersects"), q.get("bbox"), rt.settings)
        return JSONResponse(await _overlap(rt, principal.account, query, limit, after))
    rows = await store.page(rt.pool, principal.account, limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return JSONResponse({"items": [summary_body(r) for r in rows],
                         "next_cursor": _encode_cursor(rows[-1]) if more else None})


@router.post(":search")
async def search_aois(request: Request, principal: Principal = Depends(authenticated)):
    """The overlap query with a JSON body: {"intersects": GeoJSON or WKT} or {"bbox": [w, s, e, n]},
    optional "limit" and "cursor"."""
    rt = request.app.state.rt
    raw = await _read_body(request, rt.settings.max_upload_bytes)
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
    query = _query_plan(body.get("intersects") or body.get("geometry"), bbox, rt.settings)
    limit = _limit(body.get("limit"), rt.settings)
    after = _decode_cursor(body.get("cursor") if isinstance(body.get("cursor"), str) else None)
    return JSONResponse(await _overlap(rt, principal.account, query, limit, after))


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


async def _overlap(rt: Any, account: str, query: QueryPlan, limit: int,
                   after: tuple[datetime, str] | None) -> dict[str, Any]:
    """Pre-filter candidates in the database (H3 cells or bbox columns), confirm each exactly with
    shapely, page newest first. The cursor is the last row examined, so a page never repeats rows."""
    prepared = query.geometry
    shapely.prepare(prepared)
    found: list[Any] = []
    batch = max(limit * 2, 50)
    cursor_row = None
    exhausted = False
    while len(found) < limit and not exhausted:
        rows = await store.overlap_candidates(rt.pool, account, cells=query.cells, bbox=query.bbox,
                                              limit=batch, after=after)
        exhausted = len(rows) < batch
        if not rows:
            break
        geoms = shapely.from_wkb(np.array([bytes(r["wkb"]) for r in rows], dtype=object))
        hits = shapely.intersects(geoms, prepared)
        for r, hit in zip(rows, hits, strict=True):
            cursor_row = r
            after = (r["created_at"], r["id"])
            if hit:
                found.append(r)
                if len(found) == limit:
                    exhausted = exhausted and r is rows[-1]
                    break
    more = not exhausted
    return {"items": [summary_body(r) for r in found],
            "next_cursor": _encode_cursor(cursor_row) if more and cursor_row is not None else None,
            "prefilter": "h3" if query.cells is not None else "bbox"}
