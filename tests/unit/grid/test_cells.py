"""Identities: GUIDs, codes, keys, parent/children - docs/domain.md, The grid."""

import uuid
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.grid import (
    CellId,
    GridError,
    GridErrorCode,
    cell_from_key,
    children,
    decode_guid,
    parse_cell,
    parse_code,
    zone_epsg,
)
from shared.grid.cells import decode_guid_fields

# An interior tile of every zone grid: northing 5,120,000 m (north) is about 46 N; in the south
# 5,120,000 m is about 46 S.  Easting 512,000 m is next to the central meridian.
INTERIOR = dict(col=10, row=100)


@pytest.mark.parametrize("zone", range(1, 61))
@pytest.mark.parametrize("south", [False, True])
def test_guid_round_trips_on_all_120_zone_grids(zone, south):
    tile = CellId(zone, south, **INTERIOR)
    mini = tile.minitile_at(137)
    for cell in (tile, mini):
        assert decode_guid(cell.guid) == cell
        assert parse_code(cell.code) == cell
        assert cell_from_key(cell.key) == cell
    assert tile.epsg == (32700 if south else 32600) + zone


def test_guid_is_an_rfc9562_version_8_uuid():
    u = uuid.UUID(CellId(33, False, 12, 107).guid)
    assert u.version == 8
    assert u.variant == uuid.RFC_4122


def test_guid_spells_its_fields_in_hex():
    # layout documented in shared/grid/cells.py: 7e55 | version 01 | level 00 | zone 0x21=33 | N 00
    # | '8' + col 0x00c | '8' + row 0x06b | minitile 0x89=137 | 00 | crc32
    g = CellId(33, False, 12, 107, 137).guid
    assert g.startswith("7e550101-2100-800c-806b-8900")
    head = uuid.UUID(g).bytes[:12]
    assert int(g[-8:], 16) == zlib.crc32(head)


def test_code_format_is_zone_column_row_and_minitile():
    assert CellId(33, False, 12, 107).code == "33N-C0012-R0107"
    assert CellId(33, False, 12, 107, 137).code == "33N-C0012-R0107-M137"
    assert CellId(5, True, 3, 150).code == "5S-C0003-R0150"
    assert parse_code("33n-c0012-r0107-m137") == CellId(33, False, 12, 107, 137)


def test_guid_and_code_are_deterministic():
    assert CellId(33, False, 12, 107).guid == CellId(33, False, 12, 107).guid
    assert CellId(33, False, 12, 107).guid != CellId(33, True, 12, 107).guid


cells = st.builds(
    CellId,
    zone=st.integers(1, 60),
    south=st.booleans(),
    col=st.integers(0, 4095),
    row=st.integers(0, 4095),
    minitile=st.none() | st.integers(0, 255),
)


@given(cells)
@settings(max_examples=300, deadline=None)
def test_any_cell_fields_survive_guid_code_and_key(cell):
    assert decode_guid_fields(cell.guid) == cell
    assert cell_from_key(cell.key) == cell


in_grid_cells = st.builds(
    CellId,
    zone=st.integers(1, 60),
    south=st.booleans(),
    # E 307.2 .. 665.6 km and N 4,096 .. 5,939 km: latitudes 37..53 (N or S), where the band
    # reaches at least 3.25 x cos(53) x 111 km = 217 km either side of the central meridian (500 km)
    col=st.integers(6, 12),
    row=st.integers(80, 115),
    minitile=st.none() | st.integers(0, 255),
)


@given(in_grid_cells)
@settings(max_examples=200, deadline=None)
def test_random_in_grid_cells_decode_to_themselves(cell):
    assert decode_guid(cell.guid) == cell
    assert parse_cell(cell.code) == cell
    assert parse_cell(cell.guid) == cell


def test_key_groups_a_tile_with_its_minitiles():
    tile = CellId(33, False, 12, 107)
    assert {tile.minitile_at(i).family for i in range(256)} == {tile.family}
    assert CellId(33, False, 12, 108).family != tile.family


def test_minitile_index_counts_rows_from_the_south_west():
    tile = CellId(33, False, 10, 100)
    x0, y0, x1, y1 = tile.bounds_utm
    assert (x0, y0, x1, y1) == (512_000, 5_120_000, 563_200, 5_171_200)
    assert tile.minitile_at(0).bounds_utm == (512_000, 5_120_000, 515_200, 5_123_200)
    assert tile.minitile_at(15).bounds_utm[0] == 512_000 + 15 * 3_200
    assert tile.minitile_at(16).bounds_utm[1] == 5_120_000 + 3_200
    assert tile.minitile_at(255).bounds_utm[2:] == (563_200, 5_171_200)


def test_parent_of_a_minitile_and_children_of_a_tile():
    tile = CellId(33, False, 10, 100)
    kids = children(tile)
    assert len(kids) == 256
    assert all(k.parent == tile for k in kids)
    assert [k.minitile for k in kids] == list(range(256))


def test_parent_of_a_tile_is_a_wrong_level_error():
    with pytest.raises(GridError) as e:
        _ = CellId(33, False, 10, 100).parent
    assert e.value.code is GridErrorCode.WRONG_LEVEL
    with pytest.raises(GridError) as e:
        children(CellId(33, False, 10, 100, 5))
    assert e.value.code is GridErrorCode.WRONG_LEVEL


@pytest.mark.parametrize(
    "text",
    [
        "not-a-guid",
        "",
        str(uuid.uuid4()),  # a version-4 UUID
        "01890000-0000-8000-8000-000000000000",  # a version-8 UUID that is not ours
    ],
)
def test_garbage_guids_are_malformed(text):
    with pytest.raises(GridError) as e:
        decode_guid(text)
    assert e.value.code is GridErrorCode.MALFORMED


def test_a_mistyped_guid_fails_its_check():
    g = CellId(33, False, 12, 107).guid
    typo = g[:17] + ("1" if g[17] != "1" else "2") + g[18:]  # change the row
    with pytest.raises(GridError) as e:
        decode_guid(typo)
    assert e.value.code is GridErrorCode.MALFORMED
    assert "check" in e.value.message


def _forge(version=1, level=0, zone=33, hemi=0, col=12, row=107, index=0):
    head = bytes([0x7E, 0x55, version, level, zone, hemi, 0x80 | col >> 8, col & 0xFF, 0x80 | row >> 8, row & 0xFF,
                  index, 0])
    return str(uuid.UUID(bytes=head + zlib.crc32(head).to_bytes(4, "big")))


def test_forged_guid_with_correct_layout_decodes():
    assert decode_guid(_forge()) == CellId(33, False, 12, 107)


def test_unknown_grid_version_is_unsupported():
    with pytest.raises(GridError) as e:
        decode_guid(_forge(version=2))
    assert e.value.code is GridErrorCode.UNSUPPORTED_VERSION


@pytest.mark.parametrize(
    "fields",
    [
        dict(zone=61),
        dict(zone=0),
        dict(col=0),  # E 0..51.2 km: west of every zone band (it starts near 138 km)
        dict(col=20),  # E 1,024 km: east of every zone band
        dict(row=190),  # N 9,728 km: north of 84 N (9,329 km)
        dict(hemi=1, row=10),  # N 512 km in the south: south of 80 S (1,117 km)
        dict(col=2, row=170),  # E 102 km at 77 N: the band has narrowed away from it
    ],
)
def test_well_formed_guids_of_cells_outside_the_grid_are_out_of_grid(fields):
    with pytest.raises(GridError) as e:
        decode_guid(_forge(**fields))
    assert e.value.code is GridErrorCode.OUT_OF_GRID


def test_tile_guid_carrying_a_minitile_index_is_malformed():
    with pytest.raises(GridError) as e:
        decode_guid(_forge(level=0, index=3))
    assert e.value.code is GridErrorCode.MALFORMED


def test_bad_codes_are_malformed():
    for text in ("33X-C0012-R0107", "33N-12-107", "33N-C12-R107"):
        with pytest.raises(GridError) as e:
            parse_code(text)
        assert e.value.code is GridErrorCode.MALFORMED


def test_zone_epsg():
    assert zone_epsg(33, False) == 32633
    assert zone_epsg(1, True) == 32701
