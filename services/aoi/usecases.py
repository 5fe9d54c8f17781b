"""The aoi service's use cases, called by its routes (api): import and store an AOI, the dry run,
reads and the overlap query; and the pool of worker processes the heavy imports run in.

Storing an AOI and its ``AoiRegistered`` event is one transaction (the outbox), run under the
request's Idempotency-Key (``shared.idempotency``). What the key keeps is small: the status, the
``Location`` and ``{"id": ...}``, not the AOI (its geometry can be megabytes). A replay reads the
AOI again by that id and answers it whole, as the first answer did: AOIs are immutable and never
deleted, so the re-read is the same AOI.
"""
from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, cast

import asyncpg
import numpy as np
import shapely
from fastapi.responses import Response

from services.aoi import store, views
from services.aoi.domain import Prepared, QueryPlan, Upload, aoi_problem, prepare, public_report
from services.aoi.domain.imports import run_job, warm
from services.aoi.settings import AoiSettings
from shared import idempotency
from shared.contracts.aoi import AoiRegistered
from shared.geo import AoiError
from shared.problems import Problem, not_found
from shared.service import Runtime

log = logging.getLogger("tessera.aoi")


def _settings(rt: Runtime) -> AoiSettings:
    return cast(AoiSettings, rt.settings)


# ------------------------------------------------------------------------------ the import worker pool
#
# A thread is not enough for the heavy imports: GDAL, shapely and h3 hold the GIL for much of that
# work, so a large upload in a thread still stalls every other request of the process (``/healthz``
# included). Every job's cost is bounded before it starts by the import limits (upload bytes,
# unpacked bytes, parts, vertices, area). The pool runs ``import_workers`` jobs at once and lets
# ``import_queue`` more wait; past that a request is answered 503 with Retry-After instead of
# queueing without end.


class Busy(Exception):
    """Every import slot is taken (or a worker died): answered 503 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"every AOI import slot is taken; retry in {retry_after} s")
        self.retry_after = retry_after

    def problem(self) -> Problem:
        return Problem(503, "import_busy", f"{self}; large uploads are imported a few at a time",
                       retry_after=self.retry_after)


class ImportPool:
    """``workers`` processes (spawned: the service's own threads and sockets are not forked) and a
    bound on the jobs running or waiting."""

    def __init__(self, workers: int, queue: int, retry_after: int = 2) -> None:
        self.workers = max(1, workers)
        self.slots = asyncio.Semaphore(self.workers + max(0, queue))
        self.retry_after = retry_after
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._executor

    def warm(self) -> None:
        for _ in range(self.workers):
            self._pool().submit(warm)

    async def run(self, job: dict[str, Any]) -> Prepared:
        if self.slots.locked():
            raise Busy(self.retry_after)
        async with self.slots:
            try:
                return await asyncio.get_running_loop().run_in_executor(self._pool(), run_job, job)
            except BrokenProcessPool:
                # a worker died (killed for memory, say): start a fresh pool for the next job
                log.error("an AOI import worker died; restarting the pool")
                broken, self._executor = self._executor, None
                if broken is not None:
                    broken.shutdown(wait=False, cancel_futures=True)
                raise Busy(self.retry_after) from None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


_POOL: ImportPool | None = None


async def start_imports(rt: Runtime) -> None:
    """The process's pool (one service per process), its workers spawned at start rather than on the
    first large upload."""
    global _POOL
    if _POOL is None:
        s = _settings(rt)
        _POOL = ImportPool(s.import_workers, s.import_queue)
        _POOL.warm()


def import_pool() -> ImportPool:
    if _POOL is None:
        raise RuntimeError("the import pool is started with the service (services.aoi.app)")
    return _POOL


async def run_import(rt: Runtime, upload: Upload, *, index: bool) -> Prepared:
    """The import (and with ``index`` the H3 cover): small text inputs on the loop, everything
    else in the import worker processes, which raise Busy when saturated."""
    settings = _settings(rt)
    job = upload.job(settings.limits(), index=index)
    try:
        # archives and databases go to the workers however small: GDAL opens them
        if len(upload.data) <= settings.inline_import_bytes and upload.data[:2] != b"PK" \
                and not upload.data.startswith(b"SQLite"):
            return prepare(**job)
        return await import_pool().run(job)
    except AoiError as err:
        raise aoi_problem(err) from None


# ------------------------------------------------------------------------------ writes


def _row(aoi: Prepared, upload: Upload, account: str) -> dict[str, Any]:
    h3s = aoi.report["h3"]
    return {
        "id": str(uuid.uuid4()),
        "account_id": account,
        "name": upload.name,
        "source_format": aoi.source_format,
        "geometry": aoi.geometry_json,
        "wkb": aoi.wkb,
        "report": public_report(aoi.report),
        "area_km2": aoi.area_km2,
        "billable_km2": aoi.billable_km2,
        "bbox": aoi.bbox,
        "h3_resolution": h3s["resolution"],
        "h3_cells": h3s["cells"],
    }


async def create_aoi(rt: Runtime, account: str, upload: Upload, key: str | None, fingerprint: str) -> Response:
    """Import, validate and store an AOI with its AoiRegistered event; 201 with the AOI and Location.

    The import runs only for a new key (a replay answers without importing again); Busy propagates."""
    imported: Prepared | None = None
    stored: asyncpg.Record | None = None

    async def import_it() -> None:
        nonlocal imported
        imported = await run_import(rt, upload, index=True)

    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        nonlocal stored
        assert imported is not None and imported.facts is not None
        stored = await store.insert(conn, _row(imported, upload, account))
        await rt.outbox.add(conn, AoiRegistered(aoi_id=stored["id"], account_id=account, name=stored["name"],
                                                registered_at=stored["created_at"], **imported.facts))
        return 201, {"id": stored["id"]}, {"Location": f"/v1/aois/{stored['id']}"}

    answer = await idempotency.run(rt.pool, account, key, fingerprint, apply, prepare=import_it)
    headers = {k: v for k, v in answer.headers.items() if k.lower() in ("location", "idempotent-replayed")}
    if stored is not None and imported is not None:  # this request stored it
        return views.json_response(views.aoi_body(stored, imported.geometry_json), answer.status_code, headers)
    aoi_id = json.loads(bytes(answer.body))["id"]  # a replay: the kept {"id": ...}
    row = await store.get(rt.pool, account, aoi_id)
    if row is None:  # AOIs are never deleted: this would be a bug, not a client's mistake
        raise RuntimeError(f"AOI {aoi_id} of a kept Idempotency-Key answer is gone")
    return views.json_response(views.aoi_body(row), answer.status_code, headers)


# ------------------------------------------------------------------------------ reads


async def get_aoi(rt: Runtime, account: str, aoi_id: str) -> Response:
    row = await store.get(rt.pool, account, aoi_id)
    if row is None:
        raise not_found("AOI", aoi_id)
    return views.json_response(views.aoi_body(row))


async def list_aois(rt: Runtime, account: str, limit: int, after: tuple[datetime, str] | None) -> dict[str, Any]:
    """The account's AOIs, newest first, a page of at most ``limit`` after the cursor position."""
    rows = await store.page(rt.pool, account, limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return views.page_body(rows, rows[-1] if more else None)


async def overlap(rt: Runtime, account: str, query: QueryPlan, limit: int,
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
    return views.page_body(found, cursor_row if more else None, prefilter="h3" if query.cells is not None else "bbox")
