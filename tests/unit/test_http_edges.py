"""The HTTP edge every service shares (shared/http.py) and the input rules (shared/inputs.py, shared/money.py,
shared/vocabulary.py): an unexpected error is a clean 500 on a kept connection, an unreachable database a 503
with Retry-After, and unusable input a 4xx naming its field."""
from __future__ import annotations

import json
import socket
import threading
import time
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
import uvicorn
from pydantic import TypeAdapter, ValidationError

from shared.http import create_app
from shared.inputs import Id, Text, id_issue
from shared.money import MAX_AMOUNT, Amount
from shared.problems import Problem
from shared.vocabulary import OrderItem, check_configuration

ITEM = {"wkt": "POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))", "model": "Stratus2",
        "constellations": ["Sentinel1", "Sentinel2", "Landsat89"], "from": "2025-04-01", "image_frequency": 3}


@pytest.fixture(scope="module")
def server():
    app = create_app("probe")

    @app.get("/boom")
    async def boom():
        raise RuntimeError("a bug")

    @app.get("/db/{kind}")
    async def db(kind: str):
        raise {"restart": asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
               "refused": ConnectionRefusedError(111, "Connection refused"),
               "lost": asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
               "broken": asyncpg.exceptions.InternalClientError(
                   "cannot switch to state 12; another operation (2) is in progress")}[kind]

    @app.get("/problem")
    async def problem():
        raise Problem(422, "odd", "a refusal quoting odd values", value="\ud800", where={"coordinate": [float("nan")]})

    @app.get("/echo")
    async def echo(q: str = ""):
        return {"q": q}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield sock.getsockname()
    srv.should_exit = True
    thread.join(5)


def exchange(conn: socket.socket, path: str) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on an open connection; the status, headers and body of its answer."""
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: probe\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"the server closed the connection after GET {path}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += conn.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_an_unexpected_error_is_a_json_500_and_the_connection_stays_open(server):
    with socket.create_connection(server, timeout=5) as conn:
        status, headers, body = exchange(conn, "/boom")
        assert status == 500 and headers["content-type"] == "application/problem+json"
        assert json.loads(body)["code"] == "internal_error"
        assert "a bug" not in body.decode()  # the details go to the log, not to the client
        status, _, body = exchange(conn, "/healthz")  # the same connection answers the next request
        assert status == 200 and json.loads(body)["status"] == "alive"


@pytest.mark.parametrize("kind", ["restart", "refused", "lost", "broken"])
def test_an_unreachable_database_is_a_503_with_retry_after(server, kind):
    with socket.create_connection(server, timeout=5) as conn:
        status, headers, body = exchange(conn, f"/db/{kind}")
        assert status == 503 and headers["retry-after"] == "2"
        assert json.loads(body)["code"] == "database_unavailable"
        assert exchange(conn, "/healthz")[0] == 200


def test_a_nul_in_any_query_parameter_is_a_422_naming_it(server):
    with socket.create_connection(server, timeout=5) as conn:
        status, _, body = exchange(conn, "/echo?q=a%00b")
        problem = json.loads(body)
        assert status == 422 and problem["errors"] == [{"field": "q", "message": "contains a NUL character"}]
        assert json.loads(exchange(conn, "/echo?q=a%2500b")[2]) == {"q": "a%00b"}  # an escaped '%00' is text


def test_a_problem_quoting_a_lone_surrogate_or_nan_is_still_json(server):
    with socket.create_connection(server, timeout=5) as conn:
        status, _, body = exchange(conn, "/problem")
        problem = json.loads(body)
        assert status == 422 and problem["value"] == "\ud800" and problem["where"] == {"coordinate": [None]}


# ------------------------------------------------------------------------------ the rules


@pytest.mark.parametrize("value, fine", [
    ("3f2b9c1e-0d4a-4e7b-9c1d-2a3b4c5d6e7f", True), ("aoi-1", True), ("", False), (".", False), ("..", False),
    ("a/b", False), ("a\x00b", False), ("\ud800", False), ("tab\there", False), ("x" * 200, True), ("x" * 201, False),
])
def test_ids(value, fine):
    assert (id_issue(value) is None) is fine
    if not fine:
        with pytest.raises(ValidationError):
            TypeAdapter(Id).validate_python(value)


def test_text_refuses_nul_and_lone_surrogates_and_keeps_the_rest():
    assert TypeAdapter(Text).validate_python("Ω ü 💥 \t") == "Ω ü 💥 \t"
    for bad in ("a\x00", "\udfff"):
        with pytest.raises(ValidationError):
            TypeAdapter(Text).validate_python(bad)


@pytest.mark.parametrize("value, expected", [
    ("999999999999.99", Decimal("999999999999.99")), ("-999999999999.99", Decimal("-999999999999.99")),
    ("24.00", Decimal("24.00")), (24, Decimal(24)), ("24.10", Decimal("24.10")), ("24.100", Decimal("24.100")),
    ("1000000000000", None), ("1000000000000.00", None), ("-1000000000000", None), ("24.001", None), ("1e3", None),
    ("NaN", None), (True, None), (None, None), ([], None),
])
def test_the_range_of_money(value, expected):
    adapter = TypeAdapter(Amount)
    if expected is None:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)
    else:
        assert adapter.validate_python(value) == expected
    assert MAX_AMOUNT == Decimal("1000000000000")  # numeric(14, 2): 12 digits before the point


@pytest.mark.parametrize("field, value, fine", [
    ("to", "2099-12-31", True), ("to", "2100-01-01", False), ("to", "9999-12-31", False),
    ("from", "1970-01-01", True), ("from", "1969-12-01", False), ("from", "2100-01-01", False),
    ("reference_date", "1970-01-01", True), ("reference_date", "0001-01-01", False),
])
def test_item_dates_lie_between_1970_and_2099(field, value, fine):
    item = {**ITEM, field: value}
    if fine:
        OrderItem.model_validate(item)
    else:
        with pytest.raises(ValidationError) as err:
            OrderItem.model_validate(item)
        assert err.value.errors()[0]["loc"] == (field,) and "out of range" in err.value.errors()[0]["msg"]
    issues = check_configuration(model="Stratus2", constellations=ITEM["constellations"], image_frequency=3,
                                 from_=date.fromisoformat(item["from"]),
                                 to=date.fromisoformat(item["to"]) if "to" in item else None)
    assert (issues == []) is (fine or field == "reference_date")  # the plain rules cover from and to
