"""Property: whatever bytes arrive, in whatever request shape, the service never answers 5xx."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

CONTENT_TYPES = ["text/plain", "application/json", "application/geo+json", "application/wkt",
                 "application/vnd.google-earth.kml+xml", "application/octet-stream", "application/zip", None]
PREFIXES = [b"", b"PK\x03\x04", b"{", b"<", b"POLYGON((", b"SRID=4326;", b"\x00\x00\x27\x0a",
            b"SQLite format 3\x00", b"fgb\x03", b'{"wkt":', b'<?xml version="1.0"?><kml>',
            b'id,WKT\n1,"', b"name;geojson\n", b"CURVEPOLYGON("]


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(prefix=st.sampled_from(PREFIXES), data=st.binary(max_size=2048), ctype=st.sampled_from(CONTENT_TYPES),
       path=st.sampled_from(["/v1/aois", "/v1/aois:validate"]), multipart=st.booleans())
async def test_random_bytes_never_give_a_5xx(aoi, prefix, data, ctype, path, multipart):
    h = aoi.auth("acct-fuzz")
    body = prefix + data
    if multipart:
        r = await aoi.client.post(path, headers=h,
                                  files={"file": ("upload.bin", body, ctype or "application/octet-stream")})
    else:
        r = await aoi.client.post(path, headers={**h, **({"content-type": ctype} if ctype else {})}, content=body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["code"]


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(q=st.text(max_size=200), key=st.sampled_from(["intersects", "bbox", "cursor", "limit"]))
async def test_random_query_parameters_never_give_a_5xx(aoi, q, key):
    r = await aoi.client.get("/v1/aois", params={key: q}, headers=aoi.auth("acct-fuzz"))
    assert r.status_code < 500, r.text


def _gdb_zip(data: bytes, name: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=2048), kind=st.sampled_from(["sqlite", "csv", "gdb.zip"]),
       path=st.sampled_from(["/v1/aois", "/v1/aois:validate"]))
async def test_random_bytes_in_the_new_formats_give_a_4xx(aoi, data, kind, path):
    body = {"sqlite": b"SQLite format 3\x00" + data, "csv": b'id,WKT\n1,"' + data,
            "gdb.zip": _gdb_zip(data, "site.gdb/a00000001.gdbtable")}[kind]
    r = await aoi.client.post(path, headers=aoi.auth("acct-fuzz"),
                              files={"file": (f"upload.{kind}", body, "application/octet-stream")})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["code"]
