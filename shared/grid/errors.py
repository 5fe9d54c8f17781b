"""Errors raised by the tile grid."""

from __future__ import annotations

from enum import StrEnum


class GridErrorCode(StrEnum):
    """Why a grid request was refused; stable strings an HTTP layer can map to 404/422."""

    MALFORMED = "malformed"  # not a grid GUID/code at all, or corrupted (checksum, reserved bits)
    UNSUPPORTED_VERSION = "unsupported_version"  # a grid GUID of a grid version we do not know
    OUT_OF_GRID = "out_of_grid"  # well formed, but no such cell (zone, or outside the zone band)
    WRONG_LEVEL = "wrong_level"  # e.g. the parent of a tile, the children of a minitile
    INVALID_GEOMETRY = "invalid_geometry"  # an AOI that is not polygonal / not in EPSG:4326 range


class GridError(ValueError):
    """A grid request that cannot be served; ``code`` says which kind, the message says what to do."""

    def __init__(self, code: GridErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"GridError({self.code.value!r}, {self.message!r})"
