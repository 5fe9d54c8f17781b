"""Cell identities of the tile grid (version 1): keys, GUIDs and readable codes.

Pure integer work: nothing here needs a projection. Geometry lives in ``geometry.py``.

Cell model
----------
A cell lives in one UTM zone grid ``(zone 1..60, hemisphere N/S)``.  A *tile* is addressed by its
column and row, ``col = floor(E / 51 200)``, ``row = floor(N / 51 200)`` (northing with the false
northing of 10 000 000 m in the south).  A *minitile* is addressed by its parent tile plus an index
``0..255``::

    index = 16 * r + c      r = minitile row inside the tile, counted from the south (0..15)
                            c = minitile column inside the tile, counted from the west (0..15)

so minitile ``M000`` is the south-west corner of its tile and ``M255`` the north-east corner, and the
absolute minitile column/row are ``16 * col + c`` / ``16 * row + r`` = ``floor(E / 3 200)`` /
``floor(N / 3 200)``.

Readable code
-------------
``<zone><N|S>-C<col:04>-R<row:04>`` for a tile, plus ``-M<index:03>`` for a minitile, e.g.
``33N-C0012-R0107`` and ``33N-C0012-R0107-M137``.  The zone is written without padding, like the
zone label (``5N``, ``33N``).  Parsing accepts lower case too.

GUID (RFC 9562 UUIDv8), big-endian bit layout, hex digit positions of the canonical string::

    digits  bits  field
    0-3     16    magic 0x7E55 (marks a Tessera grid GUID)
    4-5      8    grid version (1)
    6-7      8    level: 0x00 tile, 0x01 minitile
    8-9      8    UTM zone 1..60
    10-11    8    hemisphere: 0x00 north, 0x01 south
    12       4    UUID version = 8
    13-15   12    tile column
    16       4    UUID variant 0b10 + 2 reserved zero bits  (so always '8')
    17-19   12    tile row
    20-21    8    minitile index 0..255 (0 for a tile)
    22-23    8    reserved, zero
    24-31   32    check: CRC-32 (zlib/IEEE) of UUID bytes 0..11

Example: tile 33N column 12 row 107 is ``7e550100-2100-800c-806b-0000xxxxxxxx`` (xxxxxxxx = the
check).  Decoding needs no table; the check catches mistyped GUIDs.

Integer key
-----------
A compact 64-bit integer for maps and numpy arrays (bit 0 = least significant)::

    bits 40..47 version | 34..39 zone | 33 south | 21..32 col | 9..20 row | 8 level | 0..7 index

A tile and all its minitiles share ``key >> 9`` (``family``), so a tile's family is one key range.
"""

from __future__ import annotations

import re
import uuid
import zlib
from dataclasses import dataclass
from enum import IntEnum

from shared.grid.errors import GridError, GridErrorCode

GRID_VERSION = 1
TILE_SIZE_M = 51_200
MINITILE_SIZE_M = 3_200
MINITILES_PER_SIDE = TILE_SIZE_M // MINITILE_SIZE_M  # 16
MINITILES_PER_TILE = MINITILES_PER_SIDE**2  # 256
FALSE_NORTHING_SOUTH_M = 10_000_000
ZONES = range(1, 61)

_MAGIC = 0x7E55
_FIELD_MAX = 0xFFF  # 12-bit column / row


class Level(IntEnum):
    """Cell level; the value is the GUID's level field."""

    TILE = 0
    MINITILE = 1

    @property
    def size_m(self) -> int:
        return TILE_SIZE_M if self is Level.TILE else MINITILE_SIZE_M


def zone_label(zone: int, south: bool) -> str:
    """The zone label the dashboard shows, e.g. ``33N`` (N/S is the hemisphere, not an MGRS band)."""
    return f"{zone}{'S' if south else 'N'}"


def zone_epsg(zone: int, south: bool) -> int:
    """EPSG code of the WGS84 UTM zone: 326zz north, 327zz south."""
    return (32700 if south else 32600) + zone


_LABEL_RE = re.compile(r"^\s*(\d{1,2})\s*([NS])\s*$", re.IGNORECASE)


def parse_zone_label(label: str) -> tuple[int, bool]:
    """``"33N"`` -> ``(33, False)``; raises GridError for anything else."""
    m = _LABEL_RE.match(label)
    if not m or not 1 <= int(m.group(1)) <= 60:
        raise GridError(
            GridErrorCode.MALFORMED,
            f"zone {label!r} is not a UTM zone label; expected 1..60 followed by N or S, e.g. '33N'",
        )
    return int(m.group(1)), m.group(2).upper() == "S"


@dataclass(frozen=True, slots=True)
class CellId:
    """One tile (``minitile is None``) or minitile of the grid.

    Construction checks field ranges only; whether the cell lies inside its zone band is checked
    by ``shared.grid.geometry.is_in_grid`` (``decode_guid``/``parse_code`` do both).
    """

    zone: int
    south: bool
    col: int
    row: int
    minitile: int | None = None
    version: int = GRID_VERSION

    def __post_init__(self) -> None:
        if self.version != GRID_VERSION:
            raise GridError(
                GridErrorCode.UNSUPPORTED_VERSION,
                f"grid version {self.version} is not supported; this service knows version {GRID_VERSION}",
            )
        if not 1 <= self.zone <= 60:
            raise GridError(GridErrorCode.OUT_OF_GRID, f"UTM zone {self.zone} does not exist (1..60)")
        if not (0 <= self.col <= _FIELD_MAX and 0 <= self.row <= _FIELD_MAX):
            raise GridError(
                GridErrorCode.OUT_OF_GRID,
                f"column {self.col} / row {self.row} are outside the grid of zone {self.label}",
            )
        if self.minitile is not None and not 0 <= self.minitile < MINITILES_PER_TILE:
            raise GridError(GridErrorCode.OUT_OF_GRID, f"minitile index {self.minitile} is outside 0..255")

    # -- identity -------------------------------------------------------------------------------
    @property
    def level(self) -> Level:
        return Level.TILE if self.minitile is None else Level.MINITILE

    @property
    def is_tile(self) -> bool:
        return self.minitile is None

    @property
    def label(self) -> str:
        return zone_label(self.zone, self.south)

    @property
    def epsg(self) -> int:
        return zone_epsg(self.zone, self.south)

    @property
    def code(self) -> str:
        base = f"{self.label}-C{self.col:04d}-R{self.row:04d}"
        return base if self.minitile is None else f"{base}-M{self.minitile:03d}"

    @property
    def guid(self) -> str:
        return guid_of_key(self.key)

    @property
    def uuid(self) -> uuid.UUID:
        head = bytes(
            (
                _MAGIC >> 8,
                _MAGIC & 0xFF,
                self.version,
                int(self.level),
                self.zone,
                1 if self.south else 0,
                0x80 | (self.col >> 8),
                self.col & 0xFF,
                0x80 | (self.row >> 8),
                self.row & 0xFF,
                self.minitile or 0,
                0,
            )
        )
        return uuid.UUID(bytes=head + zlib.crc32(head).to_bytes(4, "big"))

    @property
    def key(self) -> int:
        return (
            (self.version << 40)
            | (self.zone << 34)
            | (int(self.south) << 33)
            | (self.col << 21)
            | (self.row << 9)
            | (int(self.level) << 8)
            | (self.minitile or 0)
        )

    @property
    def family(self) -> int:
        """Shared by a tile and its minitiles: ``key >> 9``."""
        return self.key >> 9

    # -- hierarchy and position -----------------------------------------------------------------
    @property
    def parent(self) -> CellId:
        """The tile holding this minitile; a tile has no parent (WRONG_LEVEL)."""
        if self.minitile is None:
            raise GridError(GridErrorCode.WRONG_LEVEL, f"{self.code} is a tile; only minitiles have a parent tile")
        return CellId(self.zone, self.south, self.col, self.row)

    def minitile_at(self, index: int) -> CellId:
        """Minitile ``index`` of this tile."""
        if self.minitile is not None:
            raise GridError(GridErrorCode.WRONG_LEVEL, f"{self.code} is a minitile; it has no minitiles")
        return CellId(self.zone, self.south, self.col, self.row, index)

    @property
    def bounds_utm(self) -> tuple[int, int, int, int]:
        """``(xmin, ymin, xmax, ymax)`` of the unclipped square in zone metres (exact integers)."""
        x0, y0 = self.col * TILE_SIZE_M, self.row * TILE_SIZE_M
        if self.minitile is None:
            return x0, y0, x0 + TILE_SIZE_M, y0 + TILE_SIZE_M
        r, c = divmod(self.minitile, MINITILES_PER_SIDE)
        x0 += c * MINITILE_SIZE_M
        y0 += r * MINITILE_SIZE_M
        return x0, y0, x0 + MINITILE_SIZE_M, y0 + MINITILE_SIZE_M

    def __str__(self) -> str:
        return self.code


def guid_of_key(key: int) -> str:
    """The GUID string of a cell key, without building a CellId (fast path for long listings)."""
    col, row = (key >> 21) & 0xFFF, (key >> 9) & 0xFFF
    level = (key >> 8) & 1
    head = bytes(
        (
            _MAGIC >> 8,
            _MAGIC & 0xFF,
            (key >> 40) & 0xFF,
            level,
            (key >> 34) & 0x3F,
            (key >> 33) & 1,
            0x80 | (col >> 8),
            col & 0xFF,
            0x80 | (row >> 8),
            row & 0xFF,
            key & 0xFF if level else 0,
            0,
        )
    )
    h = (head + zlib.crc32(head).to_bytes(4, "big")).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def cell_from_key(key: int) -> CellId:
    """Inverse of ``CellId.key``."""
    level = (key >> 8) & 1
    return CellId(
        zone=(key >> 34) & 0x3F,
        south=bool((key >> 33) & 1),
        col=(key >> 21) & 0xFFF,
        row=(key >> 9) & 0xFFF,
        minitile=(key & 0xFF) if level else None,
        version=(key >> 40) & 0xFF,
    )


def _malformed(guid: object, why: str) -> GridError:
    return GridError(GridErrorCode.MALFORMED, f"{guid!s} is not a valid grid GUID: {why}")


def decode_guid_fields(guid: str | uuid.UUID) -> CellId:
    """Decode a GUID into a CellId without checking the zone band (see ``shared.grid.decode_guid``).

    Raises GridError MALFORMED (not a UUID, not ours, corrupted), UNSUPPORTED_VERSION or
    OUT_OF_GRID (zone/index out of range).
    """
    if isinstance(guid, uuid.UUID):
        u = guid
    else:
        if not isinstance(guid, str):
            raise _malformed(guid, "expected a string")
        try:
            u = uuid.UUID(guid.strip())
        except ValueError:
            raise _malformed(guid, "not a UUID (expected 32 hex digits, e.g. 7e550100-2100-800c-806b-0000…)") from None
    b = u.bytes
    if u.version != 8 or u.variant != uuid.RFC_4122:
        raise _malformed(guid, "not an RFC 9562 version-8 UUID")
    if (b[0] << 8 | b[1]) != _MAGIC:
        raise _malformed(guid, "not a Tessera grid GUID (they start with 7e55)")
    if zlib.crc32(b[:12]) != int.from_bytes(b[12:], "big"):
        raise _malformed(guid, "check digits do not match; the GUID was probably mistyped or truncated")
    if b[8] & 0x30 or b[11] != 0:
        raise _malformed(guid, "reserved bits are set")
    version, level, zone, hemi = b[2], b[3], b[4], b[5]
    if version != GRID_VERSION:
        raise GridError(
            GridErrorCode.UNSUPPORTED_VERSION,
            f"{guid} belongs to grid version {version}; this service knows version {GRID_VERSION}",
        )
    if level not in (0, 1) or hemi not in (0, 1):
        raise _malformed(guid, "unknown level or hemisphere value")
    if level == 0 and b[10] != 0:
        raise _malformed(guid, "a tile GUID carries a minitile index")
    return CellId(
        zone=zone,
        south=bool(hemi),
        col=(b[6] & 0x0F) << 8 | b[7],
        row=(b[8] & 0x0F) << 8 | b[9],
        minitile=b[10] if level == 1 else None,
    )


_CODE_RE = re.compile(r"^\s*(\d{1,2})([NS])-C(\d{4})-R(\d{4})(?:-M(\d{3}))?\s*$", re.IGNORECASE)


def parse_code_fields(code: str) -> CellId:
    """Parse a readable code without checking the zone band (see ``shared.grid.parse_code``)."""
    m = _CODE_RE.match(code) if isinstance(code, str) else None
    if not m:
        raise GridError(
            GridErrorCode.MALFORMED,
            f"{code!r} is not a grid code; expected e.g. '33N-C0012-R0107' or '33N-C0012-R0107-M137'",
        )
    return CellId(
        zone=int(m.group(1)),
        south=m.group(2).upper() == "S",
        col=int(m.group(3)),
        row=int(m.group(4)),
        minitile=int(m.group(5)) if m.group(5) is not None else None,
    )
