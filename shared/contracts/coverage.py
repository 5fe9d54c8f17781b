from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.contracts.base import Message, contract
from shared.contracts.common import Cell

T_COMMANDS, T_EVENTS = "tiling.coverage.commands", "tiling.coverage.events"


class CoverageRequest(BaseModel):
    """One grid item of a checkout: its cells and image dates under one model + constellation set."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    item_id: str
    model: str
    constellations: list[str]
    deduplicate: bool
    cells: list[Cell]
    dates: list[date]


class CoverageOutcome(BaseModel):
    """What remains to buy for an item: its cells with the dates already owned listed as excluded."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    item_id: str
    cells: list[Cell]
    owned_pairs: int
    warnings: list[str] = []


@contract("coverage.reserve.v1", topic=T_COMMANDS, key="account_id")
class ReserveCoverage(Message):
    account_id: str
    checkout_id: str
    items: list[CoverageRequest]


@contract("coverage.release.v1", topic=T_COMMANDS, key="account_id")
class ReleaseCoverage(Message):
    """Release a checkout's reservation (saga compensation), or, with `order_ids`, the committed
    coverage of those orders only (an order cancelled in Review)."""

    account_id: str
    checkout_id: str
    order_ids: list[str] | None = None


@contract("coverage.commit.v1", topic=T_COMMANDS, key="account_id")
class CommitCoverage(Message):
    account_id: str
    checkout_id: str
    order_ids: dict[str, str]  # item id -> order id


@contract("coverage.reserved.v1", topic=T_EVENTS, key="account_id")
class CoverageReserved(Message):
    account_id: str
    checkout_id: str
    items: list[CoverageOutcome]


@contract("coverage.rejected.v1", topic=T_EVENTS, key="account_id")
class CoverageRejected(Message):
    account_id: str
    checkout_id: str
    code: str
    reason: str


@contract("coverage.released.v1", topic=T_EVENTS, key="account_id")
class CoverageReleased(Message):
    account_id: str
    checkout_id: str


@contract("coverage.committed.v1", topic=T_EVENTS, key="account_id")
class CoverageCommitted(Message):
    account_id: str
    checkout_id: str
