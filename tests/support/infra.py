"""Where the tests find the real Kafka and Postgres.

`KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` when given (`make test` always gives them, from
deploy/local); otherwise, where a Docker engine answers, testcontainers starts them (set
TESSERA_TESTCONTAINERS=0 to refuse); otherwise the project's own local provisioning starts them.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "deploy" / "local"


def _docker_answers() -> bool:
    if os.environ.get("TESSERA_TESTCONTAINERS") == "0" or not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


_containers: list = []


def kafka_bootstrap() -> str:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        c = KafkaContainer("apache/kafka:4.1.1").with_kraft()
        c.start()
        _containers.append(c)
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = c.get_bootstrap_server()
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    subprocess.run([str(LOCAL / "kafka.sh"), "start"], check=True)
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"]


def broker_is_ours() -> bool:
    """True when the broker was started by deploy/local (so a test may stop and restart it)."""
    return subprocess.run([str(LOCAL / "kafka.sh"), "status"], capture_output=True).returncode == 0 and \
        os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").endswith(f":{os.environ.get('KAFKA_PORT', '9092')}")


def database_is_ours() -> bool:
    """True when Postgres was started by deploy/local (so a test may stop and restart it)."""
    return subprocess.run([str(LOCAL / "postgres.sh"), "status"], capture_output=True).returncode == 0 and \
        f":{os.environ.get('PG_PORT', '25432')}/" in os.environ.get("DATABASE_URL", "")


def record_figures(figures: dict) -> None:
    """Append a fault test's figures (outcomes, times to drain) to .local/test-logs/faults.jsonl."""
    import json

    path = ROOT / ".local" / "test-logs" / "faults.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(figures) + "\n")


def local(script: str, action: str) -> None:
    """Run a deploy/local script (`kafka`, `postgres`) with an action, failing loudly."""
    # the scripts leave alone what the environment points at elsewhere: these are ours, by the checks above
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    subprocess.run([str(LOCAL / f"{script}.sh"), action], check=True, capture_output=True, env=env)


def server_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        c = PostgresContainer("postgres:15")
        c.start()
        _containers.append(c)
        return c.get_connection_url().replace("+psycopg2", "")
    subprocess.run([str(LOCAL / "postgres.sh"), "start"], check=True)
    return subprocess.run([str(LOCAL / "postgres.sh"), "url"], check=True, capture_output=True,
                          text=True).stdout.strip()


async def fresh_database(server: str) -> str:
    """A new, empty database on the server (each test session gets its own)."""
    name = f"tessera_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}"


async def drop_database(server: str, url: str) -> None:
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def stop_containers() -> None:
    for c in _containers:
        c.stop()
