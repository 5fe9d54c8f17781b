"""Run Tessera services as real processes for integration and e2e tests.

    async with running("pricing", database_url, kafka_bootstrap) as svc:
        r = await svc.client.get("/v1/models", headers=svc.auth("acct-1"))

Each process gets its own port (TESSERA_TEST_PORT_BASE + 1..5,
                                default 18101-18105), the test database, and the peers' URLs; `svc.kill()`
sends SIGKILL and `svc.restart()` starts it again (crash tests).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.auth import mint
from tests.support.infra import ROOT

_BASE = int(os.environ.get("TESSERA_TEST_PORT_BASE", "18100"))  # a second checkout's tests can run beside
PORTS = {name: _BASE + i for i, name in enumerate(("aoi", "tiling", "pricing", "cart", "checkout"), start=1)}


def peer_env() -> dict[str, str]:
    """Every service's URL of every peer it may call, pointing at the test ports."""
    urls = {n: f"http://127.0.0.1:{p}" for n, p in PORTS.items()}
    env = {}
    for svc in PORTS:
        for peer, url in urls.items():
            env[f"{svc.upper()}_{peer.upper()}_URL"] = url
    return env


class ServiceProcess:
    def __init__(self, name: str, database_url: str, bootstrap: str, extra_env: dict[str, str] | None = None,
                 log_dir: Path | None = None) -> None:
        self.name, self.port = name, PORTS[name]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=database_url,
                        KAFKA_BOOTSTRAP_SERVERS=bootstrap, **peer_env())
        self.env[f"{name.upper()}_PORT"] = str(self.port)
        self.env.update(extra_env or {})
        self.log_dir = log_dir or (ROOT / ".local" / "test-logs")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.client = httpx.AsyncClient(base_url=self.base_url, timeout=30.0)

    @staticmethod
    def auth(account: str, admin: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(account, admin=admin)}"}

    def start(self) -> None:
        log = open(self.log_dir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", f"services.{self.name}"], env=self.env, cwd=ROOT,
                                     stdout=log, stderr=subprocess.STDOUT)

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as c:
            while time.monotonic() < deadline:
                if self.proc and self.proc.poll() is not None:
                    log = self.log_dir / f"{self.name}.log"
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {log}")
                try:
                    if (await c.get(f"{self.base_url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s; see {self.log_dir / (self.name + '.log')}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    async def restart(self) -> None:
        self.kill()
        self.start()
        await self.wait_ready()


@contextlib.asynccontextmanager
async def running(names: str | list[str], database_url: str, bootstrap: str, extra_env: dict[str, str] | None = None):
    """Start the named services (a name or a list), wait until ready, stop them afterwards."""
    names = [names] if isinstance(names, str) else names
    procs = [ServiceProcess(n, database_url, bootstrap, extra_env) for n in names]
    try:
        for p in procs:
            p.start()
        await asyncio.gather(*(p.wait_ready() for p in procs))
        yield procs[0] if len(procs) == 1 else {p.name: p for p in procs}
    finally:
        for p in procs:
            p.stop()
            await p.client.aclose()
