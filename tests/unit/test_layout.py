"""Every service has the same module layout (docs/architecture.md, The module layout of a service):
the same module names, all SQL in `store.py`, HTTP clients of peers only in `peers.py`, short route and
consumer modules, and a pure `domain/`."""
import ast
import re
from pathlib import Path

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
SERVICES = ("aoi", "tiling", "pricing", "cart", "checkout")
MODULES = {"__init__", "__main__", "app", "settings", "api", "consumers", "usecases", "store", "peers", "views"}
FOLDERS = {"domain", "migrations"}
LIMITS = {"api": 320, "consumers": 160}  # lines: parse, call a use case, answer

SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S)
DB_CALLS = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table"}
IO_MODULES = {"asyncpg", "fastapi", "starlette", "faststream", "aiokafka", "httpx", "uvicorn"}


def modules(service: str) -> list[Path]:
    return sorted((SERVICES_DIR / service).rglob("*.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_the_same_modules_and_folders(service):
    root = SERVICES_DIR / service
    names = {p.stem for p in root.glob("*.py")}
    folders = {p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert (names, folders) == (MODULES, FOLDERS)


def sql_outside_the_store(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{path.name}:{node.lineno}: SQL text")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DB_CALLS:
            found.append(f"{path.name}:{node.lineno}: .{node.func.attr}()")
    return sorted(found)


@pytest.mark.parametrize("service", SERVICES)
def test_sql_lives_in_the_store_only(service):
    found = [f for p in modules(service) if p.name != "store.py" for f in sql_outside_the_store(p)]
    assert found == []


@pytest.mark.parametrize("service", SERVICES)
def test_route_and_consumer_modules_stay_short(service):
    for name, limit in LIMITS.items():
        lines = len((SERVICES_DIR / service / f"{name}.py").read_text().splitlines())
        assert lines <= limit, f"{service}/{name}.py has {lines} lines (at most {limit})"


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_is_pure_and_only_peers_speak_http(service):
    for path in modules(service):
        io = imported(path) & IO_MODULES
        if "domain" in path.parts:
            assert io == set(), f"{service}/{path.relative_to(SERVICES_DIR / service)} imports {io}"
        elif path.name != "peers.py":
            assert "httpx" not in io, f"{service}/{path.name} speaks HTTP to peers outside peers.py"


def test_the_checks_catch_what_they_look_for(tmp_path):
    bad = tmp_path / "api.py"
    bad.write_text('async def f(conn):\n    await conn.fetch("SELECT id FROM t")\n    q = "DELETE FROM t"\n')
    assert sql_outside_the_store(bad) == ["api.py:2: .fetch()", "api.py:2: SQL text", "api.py:3: SQL text"]
    impure = tmp_path / "rules.py"
    impure.write_text("import asyncpg\nfrom fastapi import APIRouter\nfrom shared.money import Amount\n")
    assert imported(impure) & IO_MODULES == {"asyncpg", "fastapi"}
