"""The tiling service's Kafka effects: the coverage commands of the checkout saga on
``tiling.coverage.commands`` (ReserveCoverage, ReleaseCoverage, CommitCoverage), each decoded and
handed to its use case inside the inbox transaction."""
from __future__ import annotations

import asyncpg

from services.tiling import usecases
from shared.contracts.coverage import CommitCoverage, ReleaseCoverage, ReserveCoverage
from shared.inbox import Effect, Incoming
from shared.service import Runtime


def coverage_effects(rt: Runtime) -> dict[str, Effect]:
    async def on_reserve(conn: asyncpg.Connection, inc: Incoming) -> None:
        await usecases.reserve(rt, conn, inc.message_as(ReserveCoverage))

    async def on_release(conn: asyncpg.Connection, inc: Incoming) -> None:
        await usecases.release(rt, conn, inc.message_as(ReleaseCoverage))

    async def on_commit(conn: asyncpg.Connection, inc: Incoming) -> None:
        await usecases.commit(rt, conn, inc.message_as(CommitCoverage))

    return {ReserveCoverage.TYPE: on_reserve, ReleaseCoverage.TYPE: on_release, CommitCoverage.TYPE: on_commit}
