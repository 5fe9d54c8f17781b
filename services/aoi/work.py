"""The CPU-heavy part of an AOI import, off the event loop: decode, validate, the H3 cover and the
GeoJSON text, in a small pool of worker processes.

A thread is not enough: GDAL, shapely and h3 hold the GIL for much of that work, so a large upload
in a thread still stalls every other request of the process (``/healthz`` included). A process
answers with plain values: the geometry crosses back as WKB and as the GeoJSON text the service
stores and serves, never as shapely objects (no per-vertex pickling).

Every job's cost is bounded before it starts by the import limits (upload bytes, unpacked bytes,
parts, vertices, area). The pool runs ``import_workers`` jobs at once and lets ``import_queue``
more wait; past that a request is answered 503 with Retry-After instead of queueing without end.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import shapely

from shared.geo import AoiError, Limits, import_aoi
from shared.problems import Problem

log = logging.getLogger("tessera.aoi.work")


@dataclass(frozen=True)
class Prepared:
    """An imported AOI as plain values: what the handlers store, publish and answer."""

    source_format: str
    report: dict[str, Any]  # {source_format, parts, totals, warnings} (+ h3 when indexed)
    geometry_json: str  # the GeoJSON GeometryCollection, as text
    wkb: bytes
    area_km2: float
    billable_km2: float
    bbox: list[float]
    facts: dict[str, Any] | None  # AoiRegistered's facts when indexed


def prepare(data: bytes, *, filename: str | None, content_type: str | None, repair: bool, dissolve: bool,
            limits: Limits, index: bool) -> Prepared:
    """Import ``data``; with ``index`` also the H3 cover and the event's facts. Raises AoiError."""
    from services.aoi.domain import aoi_report, registered_facts

    aoi = import_aoi(data, filename=filename, content_type=content_type, repair=repair, dissolve=dissolve,
                     limits=limits)
    report = aoi_report(aoi) if index else aoi.report()
    return Prepared(
        source_format=aoi.source_format,
        report=report,
        geometry_json=shapely.to_geojson(aoi.geometry),
        wkb=shapely.to_wkb(aoi.geometry),
        area_km2=aoi.totals.area_km2,
        billable_km2=aoi.totals.billable_km2,
        bbox=[float(v) for v in aoi.totals.bbox],
        facts=registered_facts(aoi, report["h3"]) if index else None,
    )


def _warm() -> None:
    import services.aoi.domain  # noqa: F401  (the first job should not pay for the imports)


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
            self._pool().submit(_warm)

    async def run(self, **job: Any) -> Prepared:
        if self.slots.locked():
            raise Busy(self.retry_after)
        async with self.slots:
            try:
                return await asyncio.get_running_loop().run_in_executor(self._pool(), _call, job)
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


def _call(job: dict[str, Any]) -> Prepared:
    return prepare(**job)


_POOL: ImportPool | None = None


def start(workers: int, queue: int) -> ImportPool:
    """The process's pool (one service per process), its workers spawned now rather than on the
    first large upload."""
    global _POOL
    if _POOL is None:
        _POOL = ImportPool(workers, queue)
        _POOL.warm()
    return _POOL


def pool() -> ImportPool:
    if _POOL is None:
        raise RuntimeError("the import pool is started with the service (services.aoi.app)")
    return _POOL


__all__ = ["AoiError", "Busy", "ImportPool", "Prepared", "pool", "prepare", "start"]
