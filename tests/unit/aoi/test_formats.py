"""One test per input format, from files generated here with real tools (GDAL through
pyogrio.raw.write, zipfile, hand-written KML)."""

from __future__ import annotations

import json
import os

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer

from shared.geo import errors as E
from shared.geo import import_aoi
from tests.support.archives import zip_bytes as _zip

from .reference import box_ring, box_wkt, refused, ring_km2

BOX_KM2 = 79.66  # 10.0–10.1 E × 50.0–50.1 N
BOX = shapely.box(10.0, 50.0, 10.1, 50.1)


def _write(tmp_path, name, geoms, driver, crs="EPSG:4326", names=None, encoding=None):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    labels = np.array(names or [f"f{i}" for i in range(len(geoms))], dtype=object)
    kw = {"encoding": encoding} if encoding else {}
    pyogrio.raw.write(str(path), wkb, [labels], ["name"], driver=driver, crs=crs,
                      geometry_type="Polygon", **kw)
    return path


def _shapefile_members(tmp_path, stem, geoms, crs="EPSG:4326", names=None, encoding=None):
    _write(tmp_path, f"{stem}.shp", geoms, "ESRI Shapefile", crs=crs, names=names,
           encoding=encoding)
    return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == stem}


# --- text formats -----------------------------------------------------------------------------

GJ_POLY = {"type": "Polygon", "coordinates": [box_ring(10.0, 50.0, 10.1, 50.1)]}


@pytest.mark.parametrize("doc", [
    GJ_POLY,
    {"type": "Feature", "properties": {}, "geometry": GJ_POLY},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"a": 1},
                                                "geometry": GJ_POLY}]},
    {"type": "GeometryCollection", "geometries": [GJ_POLY]},
])
def test_geojson_geometry_feature_collection(doc):
    aoi = import_aoi(json.dumps(doc))
    assert aoi.source_format == "geojson"
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_geojson_with_z_coordinates_is_flattened():
    ring = [[x, y, 123.0] for x, y in box_ring(10.0, 50.0, 10.1, 50.1)]
    aoi = import_aoi(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    assert not aoi.geometry.has_z


@pytest.mark.parametrize("doc", [
    {"Wkt": box_wkt(10.0, 50.0, 10.1, 50.1)},
    {"wkt": box_wkt(10.0, 50.0, 10.1, 50.1)},
    {"GeoJson": GJ_POLY},
    {"GEOJSON": json.dumps(GJ_POLY)},  # GeoJSON as a string inside the wrapper
    {"geojson": {"type": "Feature", "geometry": GJ_POLY, "properties": None}},
])
def test_json_wrappers_with_case_insensitive_keys(doc):
    aoi = import_aoi(json.dumps(doc))
    assert aoi.source_format == "json"
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_wkt():
    aoi = import_aoi(box_wkt(10.0, 50.0, 10.1, 50.1))
    assert aoi.source_format == "wkt" and aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_wkt_with_z_and_m_is_flattened():
    aoi = import_aoi("POLYGON Z ((10 50 1, 10.1 50 1, 10.1 50.1 1, 10 50.1 1, 10 50 1))")
    assert not aoi.geometry.has_z


def test_ewkt_in_wgs84():
    aoi = import_aoi("SRID=4326;" + box_wkt(10.0, 50.0, 10.1, 50.1))
    assert aoi.source_format == "ewkt" and aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_ewkt_in_utm_is_reprojected():
    # a 10 km × 10 km square in UTM 33N (EPSG:32633)
    corners = [(500000, 5500000), (510000, 5500000), (510000, 5510000), (500000, 5510000),
               (500000, 5500000)]
    text = "SRID=32633;POLYGON((" + ", ".join(f"{x} {y}" for x, y in corners) + "))"
    aoi = import_aoi(text)
    tr = Transformer.from_crs(32633, 4326, always_xy=True)
    expected = ring_km2([tr.transform(x, y) for x, y in corners])
    # near the central meridian UTM scale is 0.9996, so 100 km² of grid ≈ 100.08 km² on ground
    assert expected == pytest.approx(100 / 0.9996 ** 2, rel=1e-3)
    assert aoi.totals.area_km2 == pytest.approx(expected, rel=1e-9)
    assert aoi.totals.bbox[0] == pytest.approx(15.0)  # easting 500,000 = central meridian 15° E


def test_txt_with_several_wkt_lines():
    text = "# fields\n" + box_wkt(10.0, 50.0, 10.1, 50.1) + "\n\n" + box_wkt(11.0, 50.0, 11.1,
                                                                                  50.1) + "\n"
    aoi = import_aoi(text.encode(), filename="fields.txt")
    assert aoi.source_format == "txt" and len(aoi.parts) == 2


def test_wkt_spread_over_several_lines_is_one_geometry():
    text = "MULTIPOLYGON(\n((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50)),\n" \
           "((11 50, 11.1 50, 11.1 50.1, 11 50.1, 11 50))\n)"
    aoi = import_aoi(text)
    assert len(aoi.parts) == 1 and aoi.parts[0].kind == "MultiPolygon"


def test_format_is_detected_from_content_not_name():
    aoi = import_aoi(json.dumps(GJ_POLY).encode(), filename="aoi.kml",
                     content_type="application/vnd.google-earth.kml+xml")
    assert aoi.source_format == "geojson"


def test_utf16_text_is_decoded():
    aoi = import_aoi(box_wkt(10.0, 50.0, 10.1, 50.1).encode("utf-16"))
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


# --- KML / KMZ --------------------------------------------------------------------------------


def _kml_poly(ring, holes=()):
    def coords(r):
        return " ".join(f"{x},{y},0" for x, y in r)
    inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{coords(h)}</coordinates>"
                    f"</LinearRing></innerBoundaryIs>" for h in holes)
    return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords(ring)}</coordinates>"
            f"</LinearRing></outerBoundaryIs>{inner}</Polygon>")


KML = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark><name>one</name>{_kml_poly(box_ring(10.0, 50.0, 10.1, 50.1))}</Placemark>
  <Folder><Placemark><name>two</name><MultiGeometry>
    {_kml_poly(box_ring(11.0, 50.0, 11.1, 50.1))}
    {_kml_poly(box_ring(12.0, 50.0, 12.1, 50.1))}
    <Point><coordinates>11,50,0</coordinates></Point>
  </MultiGeometry></Placemark></Folder>
  <Placemark><name>pin</name><Point><coordinates>10,50</coordinates></Point></Placemark>
</Document></kml>"""


def test_kml_placemarks_multigeometry_and_points():
    aoi = import_aoi(KML.encode())
    assert aoi.source_format == "kml"
    assert [p.kind for p in aoi.parts] == ["Polygon", "MultiPolygon"]
    assert aoi.parts[0].area_km2 == pytest.approx(BOX_KM2, abs=0.005)
    expected = ring_km2(box_ring(11.0, 50.0, 11.1, 50.1)) + ring_km2(box_ring(12.0, 50.0, 12.1,
                                                                                  50.1))
    assert aoi.parts[1].area_km2 == pytest.approx(expected, rel=1e-9)
    dropped = [w for w in aoi.warnings if w["code"] == E.W_DROPPED_NON_POLYGON][0]
    assert dropped["count"] == 2


def test_kml_hole_is_excluded():
    hole = box_ring(10.025, 50.025, 10.075, 50.075)
    kml = (f'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'
           f'{_kml_poly(box_ring(10.0, 50.0, 10.1, 50.1), [hole])}</Placemark></kml>')
    aoi = import_aoi(kml)
    assert aoi.parts[0].area_km2 == pytest.approx(ring_km2(box_ring(10.0, 50.0, 10.1, 50.1))
                                                  - ring_km2(hole), rel=1e-9)


def test_kmz():
    aoi = import_aoi(_zip({"doc.kml": KML.encode(), "files/icon.png": b"\x89PNG"}),
                     filename="aoi.kmz")
    assert aoi.source_format == "kmz" and len(aoi.parts) == 2


@pytest.mark.parametrize("doc", [
    '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<kml><Placemark><name>&x;</name></Placemark></kml>',
    '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    '<kml><Placemark><name>&b;</name></Placemark></kml>',
    '<!DOCTYPE kml SYSTEM "http://example.com/evil.dtd"><kml/>',
])
def test_kml_with_doctype_or_entities_is_refused_unparsed(doc):
    err = refused(E.XML_EXTERNAL_ENTITY, doc)
    assert "passwd" not in err.message


def test_kmz_with_external_entity_is_refused():
    evil = ('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<kml><Placemark><name>&x;</name></Placemark></kml>')
    refused(E.XML_EXTERNAL_ENTITY, _zip({"doc.kml": evil.encode()}))


# --- shapefile bundles ---------------------------------------------------------------------


def test_zipped_shapefile(tmp_path):
    aoi = import_aoi(_zip(_shapefile_members(tmp_path, "fields", [BOX])), filename="fields.zip")
    assert aoi.source_format == "shapefile_zip"
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)
    assert E.W_MISSING_PRJ not in [w["code"] for w in aoi.warnings]


def test_zipped_shapefile_in_nested_sub_folders(tmp_path):
    members = _shapefile_members(tmp_path, "fields", [BOX])
    aoi = import_aoi(_zip({f"export/2025/shapes/{k}": v for k, v in members.items()}))
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_zipped_shapefile_in_projected_crs_is_reprojected(tmp_path):
    square = shapely.box(500000, 5500000, 510000, 5510000)  # UTM 33N metres
    members = _shapefile_members(tmp_path, "utm", [square], crs="EPSG:32633")
    assert "utm.prj" in members
    aoi = import_aoi(_zip(members))
    tr = Transformer.from_crs(32633, 4326, always_xy=True)
    expected = ring_km2([tr.transform(x, y) for x, y in square.exterior.coords])
    assert aoi.totals.area_km2 == pytest.approx(expected, rel=1e-6)
    assert aoi.totals.bbox[0] == pytest.approx(15.0)


def test_shapefile_without_prj_is_read_as_wgs84_with_a_warning(tmp_path):
    members = _shapefile_members(tmp_path, "noprj", [BOX])
    del members["noprj.prj"]
    aoi = import_aoi(_zip(members))
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)
    w = [w for w in aoi.warnings if w["code"] == E.W_MISSING_PRJ][0]
    assert "noprj.shp" in w["message"] and "WGS84" in w["message"]


def test_shapefile_without_prj_in_metres_gets_the_projected_hint(tmp_path):
    members = _shapefile_members(tmp_path, "m", [shapely.box(500000, 5500000, 510000, 5510000)],
                                 crs="EPSG:32633")
    del members["m.prj"]
    assert "projected metres" in refused(E.COORDINATES_OUT_OF_RANGE, _zip(members)).message


def test_zip_with_several_shapefile_layers(tmp_path):
    a = _shapefile_members(tmp_path / "a", "north", [BOX])
    b = _shapefile_members(tmp_path / "b", "south", [shapely.box(10.0, 49.0, 10.1, 49.1),
                                                      shapely.box(11.0, 49.0, 11.1, 49.1)])
    aoi = import_aoi(_zip({**{f"n/{k}": v for k, v in a.items()}, **b}))
    assert len(aoi.parts) == 3


def test_shapefile_with_cpg_encoding(tmp_path):
    members = _shapefile_members(tmp_path, "enc", [BOX], names=["Zürich Süd"],
                                 encoding="cp1252")
    assert members["enc.cpg"].strip().upper() in (b"1252", b"CP1252", b"WINDOWS-1252")
    aoi = import_aoi(_zip(members))
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_bare_shp_without_sidecars_is_refused(tmp_path):
    members = _shapefile_members(tmp_path, "bare", [BOX])
    refused(E.INCOMPLETE_SHAPEFILE, members["bare.shp"], filename="bare.shp")


@pytest.mark.parametrize("name", ["../../etc/passwd", "../../evil.shp", "shapes/../../evil.shp",
                                  "/etc/passwd", "/tmp/evil.shp", "C:/Windows/evil.shp",
                                  "..\\..\\evil.shp"])
def test_zip_member_paths_leaving_the_archive_are_refused_naming_the_member(tmp_path, name):
    members = _shapefile_members(tmp_path, "fields", [BOX])
    err = refused(E.UNSAFE_ARCHIVE_PATH, _zip({**members, name: b"root:x:0:0"}))
    assert err.status == 422 and err.where["member"] == name and name in err.message
    assert not os.path.exists("/tmp/evil.shp")


def test_a_dotted_name_that_stays_inside_is_not_a_traversal(tmp_path):
    members = _shapefile_members(tmp_path, "fields", [BOX])
    aoi = import_aoi(_zip({f"v1..2/{k}": v for k, v in members.items()}))
    assert len(aoi.parts) == 1


# --- archives in archives: one unpack budget for the whole upload -----------------------------


def _padded_box(w: float) -> bytes:
    """A GeoJSON box 0.1 deg wide at longitude ``w``, padded to 400,000 bytes with spaces."""
    doc = json.dumps({"type": "Polygon", "coordinates": [box_ring(w, 50.0, w + 0.1, 50.1)]})
    return doc.encode() + b" " * (400_000 - len(doc))


def _nested(levels: int) -> bytes:
    """A zip holding a 400,000-byte GeoJSON and the next level's zip; the innermost holds only
    its GeoJSON."""
    inner = _zip({"c0.geojson": _padded_box(10.0)})
    for k in range(1, levels):
        inner = _zip({f"c{k}.geojson": _padded_box(10.0 + k), f"level{k}.zip": inner})
    return inner


def test_legal_nesting_imports_every_level(tmp_path):
    fields = _zip(_shapefile_members(tmp_path, "fields", [shapely.box(12.0, 50.0, 12.1, 50.1)]))
    kmz = _zip({"doc.kml": ('<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'
                            f'{_kml_poly(box_ring(13.0, 50.0, 13.1, 50.1))}</Placemark></kml>').encode()})
    aoi = import_aoi(_zip({"export/fields.zip": fields, "export/site.kmz": kmz,
                           "deep.zip": _nested(2)}))
    # the shapefile, the KMZ and both levels of deep.zip: four boxes of 79.66 km²
    assert sorted(round(p.bbox[0], 1) for p in aoi.parts) == [10.0, 11.0, 12.0, 13.0]
    assert aoi.totals.area_km2 == pytest.approx(4 * BOX_KM2, abs=0.05)


def test_zip_in_zip_in_zip_draws_on_one_budget():
    from shared.geo import Limits

    # three levels each unpack 400,000 bytes plus the next level's few kB: each level alone is
    # under 1,000,000 bytes, together they are 1.2 MB, over it
    data = _nested(3)
    assert len(import_aoi(data, limits=Limits(max_uncompressed_bytes=1_300_000)).parts) == 3
    err = refused(E.ARCHIVE_TOO_LARGE, data, limits=Limits(max_uncompressed_bytes=1_000_000))
    assert err.status == 413 and err.where["limit"] == "max_uncompressed_bytes"
    assert "nested" in err.message and "1,000,000" in err.message


def test_archives_nested_deeper_than_the_limit_are_refused():
    err = refused(E.ARCHIVE_TOO_LARGE, _nested(4))
    assert err.where == {"limit": "max_archive_depth", "value": 3}
    assert "max_archive_depth" in err.message


def test_a_zip_disguised_as_a_text_member_shares_the_budget():
    from shared.geo import Limits

    # the inner zip named .json is read as an archive too, on the same budget
    data = _zip({"a.geojson": _padded_box(10.0), "b.json": _zip({"c.geojson": _padded_box(11.0)})})
    assert len(import_aoi(data, limits=Limits(max_uncompressed_bytes=900_000)).parts) == 2
    refused(E.ARCHIVE_TOO_LARGE, data, limits=Limits(max_uncompressed_bytes=700_000))


# --- zip bombs -------------------------------------------------------------------------------


def test_zip_bomb_ratio_is_refused_with_413():
    bomb = _zip({"a.geojson": b" " * (4 * 1024 * 1024)})  # 4 MiB of spaces compress ~1000×
    err = refused(E.ARCHIVE_TOO_LARGE, bomb)
    assert err.status == 413 and "max_compression_ratio" in err.message


def test_archive_over_the_uncompressed_limit_is_refused_with_413(tmp_path):
    from shared.geo import Limits

    members = _shapefile_members(tmp_path, "f", [BOX])
    err = refused(E.ARCHIVE_TOO_LARGE, _zip(members), limits=Limits(max_uncompressed_bytes=200))
    assert err.status == 413 and "max_uncompressed_bytes" in err.message


# --- other GDAL formats ---------------------------------------------------------------------


@pytest.mark.parametrize("driver, ext, fmt", [("GPKG", ".gpkg", "gpkg"),
                                              ("FlatGeobuf", ".fgb", "flatgeobuf"),
                                              ("GML", ".gml", "gml")])
def test_gdal_formats_from_bytes(tmp_path, driver, ext, fmt):
    path = _write(tmp_path, "aoi" + ext, [BOX, shapely.box(11.0, 50.0, 11.1, 50.1)], driver)
    aoi = import_aoi(path.read_bytes(), filename=None)
    assert aoi.source_format == fmt and len(aoi.parts) == 2
    assert aoi.parts[0].area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_geopackage_in_projected_crs(tmp_path):
    square = shapely.box(500000, 5500000, 510000, 5510000)
    path = _write(tmp_path, "utm.gpkg", [square], "GPKG", crs="EPSG:32633")
    tr = Transformer.from_crs(32633, 4326, always_xy=True)
    expected = ring_km2([tr.transform(x, y) for x, y in square.exterior.coords])
    assert import_aoi(path.read_bytes()).totals.area_km2 == pytest.approx(expected, rel=1e-6)


def test_zipped_geopackage(tmp_path):
    path = _write(tmp_path, "aoi.gpkg", [BOX], "GPKG")
    aoi = import_aoi(_zip({"data/aoi.gpkg": path.read_bytes()}))
    assert aoi.source_format == "zip" and len(aoi.parts) == 1


def test_gml_with_entities_is_refused_before_gdal(tmp_path):
    path = _write(tmp_path, "aoi.gml", [BOX], "GML")
    text = path.read_text()
    evil = text.replace('<?xml version="1.0" encoding="utf-8" ?>',
                        '<?xml version="1.0" encoding="utf-8" ?>\n<!DOCTYPE x [<!ENTITY e '
                        'SYSTEM "file:///etc/passwd">]>', 1)
    assert "DOCTYPE" in evil
    refused(E.XML_EXTERNAL_ENTITY, evil.encode())


def test_damaged_geopackage_is_unreadable(tmp_path):
    path = _write(tmp_path, "aoi.gpkg", [BOX], "GPKG")
    data = path.read_bytes()
    refused(E.UNREADABLE, data[:200] + b"\x00" * 50)


def test_vrt_is_not_handed_to_gdal(tmp_path):
    vrt = ('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource>'
           '</OGRVRTLayer></OGRVRTDataSource>')
    refused(E.UNKNOWN_FORMAT, vrt)
    os.path.exists("/etc/passwd")
