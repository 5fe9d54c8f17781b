"""Properties (hypothesis): bad input only ever raises AoiError; area does not depend on ring
start point or orientation; normalising the normalised output changes nothing."""

from __future__ import annotations

import json
import math

import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.geo import AoiError, import_aoi

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

coord = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                  st.floats(min_value=-200, max_value=200))
rings = st.lists(st.tuples(coord, coord), min_size=0, max_size=12)


def _try(data, **kw):
    try:
        import_aoi(data, **kw)
    except AoiError as exc:
        assert exc.status in (413, 422)
        assert exc.message


@FAST
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_aoi_error(data):
    _try(data)


@FAST
@given(st.sampled_from([b"PK\x03\x04", b"SQLite format 3\x00", b"fgb\x03", b"<kml>", b"{",
                        b"POLYGON((", b"SRID=4326;", b"\x00\x00\x27\x0a"]),
       st.binary(max_size=256))
def test_random_bytes_behind_a_magic_prefix_only_raise_aoi_error(prefix, tail):
    _try(prefix + tail)


@FAST
@given(st.lists(rings, min_size=1, max_size=3), st.booleans(), st.booleans())
def test_random_polygons_as_geojson_only_raise_aoi_error(rs, repair, dissolve):
    doc = {"type": "Polygon", "coordinates": [[list(p) for p in r] for r in rs]}
    _try(json.dumps(doc), repair=repair, dissolve=dissolve)


@FAST
@given(rings, st.booleans())
def test_random_polygons_as_wkt_only_raise_aoi_error(r, repair):
    body = ", ".join(f"{x!r} {y!r}" for x, y in r)
    _try(f"POLYGON(({body}))", repair=repair)


def _star(cx, cy, radii):
    """A star-shaped (hence simple) polygon around (cx, cy), counter-clockwise."""
    n = len(radii)
    pts = [(cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n))
           for k, r in enumerate(radii)]
    return pts + [pts[0]]


stars = st.builds(_star, st.floats(-170, 170), st.floats(-70, 75),
                  st.lists(st.floats(0.05, 1.0), min_size=3, max_size=24))


def _gj(ring):
    return json.dumps({"type": "Polygon", "coordinates": [[list(p) for p in ring]]})


@FAST
@given(stars, st.integers(0, 30), st.booleans())
def test_area_does_not_depend_on_start_point_or_orientation(ring, shift, reverse):
    try:
        base = import_aoi(_gj(ring))
    except AoiError:
        return  # e.g. a sliver: not this property's concern
    body = ring[:-1]
    k = shift % len(body)
    moved = body[k:] + body[:k]
    if reverse:
        moved = moved[::-1]
    other = import_aoi(_gj(moved + [moved[0]]))
    assert math.isclose(other.totals.area_km2, base.totals.area_km2, rel_tol=1e-9)
    assert math.isclose(other.parts[0].fill_ratio, base.parts[0].fill_ratio, rel_tol=1e-9)


@FAST
@given(st.lists(stars, min_size=1, max_size=3), st.booleans())
def test_normalising_the_normalised_output_changes_nothing(ring_list, dissolve):
    doc = {"type": "MultiPolygon" if len(ring_list) > 1 else "Polygon",
           "coordinates": ([[[list(p) for p in r]] for r in ring_list] if len(ring_list) > 1
                           else [[list(p) for p in ring_list[0]]])}
    try:
        first = import_aoi(json.dumps(doc), repair=True, dissolve=dissolve)
    except AoiError:
        return
    second = import_aoi(json.dumps(first.to_geojson()), dissolve=dissolve)
    assert second.geometry.equals_exact(first.geometry, tolerance=1e-9) or \
        shapely.equals(second.geometry, first.geometry)
    assert len(second.parts) == len(first.parts)
    for a, b in zip(first.parts, second.parts, strict=True):
        assert math.isclose(a.area_km2, b.area_km2, rel_tol=1e-9)
        assert a.bbox == b.bbox and a.vertex_count == b.vertex_count
        assert math.isclose(a.fill_ratio, b.fill_ratio, rel_tol=1e-9)


# The readers added for SpatiaLite, CSV and zipped FileGDB: whatever follows their opening bytes,
# only AoiError comes out.

_CSV_HEADS = [b"id,WKT\n1,\"", b"name;geojson\nx;\"{", b"lon,lat\n", b"WKT\n\"CURVEPOLYGON(",
              b"id\tgeometry\n1\t"]


@FAST
@given(st.sampled_from(_CSV_HEADS), st.binary(max_size=256))
def test_random_bytes_in_a_csv_only_raise_aoi_error(head, tail):
    _try(head + tail, filename="upload.csv")


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes_after_the_sqlite_header_only_raise_aoi_error(tail):
    _try(b"SQLite format 3\x00" + tail, filename="upload.sqlite")


@FAST
@given(st.binary(max_size=512), st.sampled_from(["site.gdb/a00000001.gdbtable",
                                                  "a00000009.gdbtable", "site.gdb/gdb"]))
def test_random_bytes_in_a_zipped_filegdb_only_raise_aoi_error(data, name):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
        zf.writestr(name.rsplit("/", 1)[0] + "/timestamps" if "/" in name else "timestamps", data[:8])
    _try(buf.getvalue(), filename="site.gdb.zip")
