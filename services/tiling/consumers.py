"""The tiling service's Kafka effects: the coverage commands of the checkout saga on
``tiling.coverage.commands`` (ReserveCoverage, ReleaseCoverage, CommitCoverage), each decoded and
handed to its use case inside the inbox transaction."""
from __future__ import annotations

from services.tiling import usecases
from shared.contracts.coverage import CommitCoverage, ReleaseCoverage, ReserveCoverage
from shared.inbox import Effect, use_case_effects
from shared.service import Runtime


def coverage_effects(rt: Runtime) -> dict[str, Effect]:
    return use_case_effects(rt, {ReserveCoverage: usecases.reserve, ReleaseCoverage: usecases.release,
                                 CommitCoverage: usecases.commit})
