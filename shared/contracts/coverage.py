from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.contracts.base import Message, contract
from shared.contracts.common import Cell, Renewal

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
    """Reserve the (cell, date) pairs of a checkout's grid items, leaving out those the account already
    owns where an item asks for deduplication.

    Sent by the checkout service on `tiling.coverage.commands`: by the saga after CartFrozen when the
    cart holds grid items, and by the renewal job for a grid order's new month.
    Consumed by the tiling service (`tiling.coverage`), which replies CoverageReserved or
    CoverageRejected (the same reply again for the same checkout).
    """

    account_id: str
    checkout_id: str
    renewal: Renewal | None = None  # set for a renewal (echoed by the reply)
    items: list[CoverageRequest]


@contract("coverage.release.v1", topic=T_COMMANDS, key="account_id")
class ReleaseCoverage(Message):
    """Release a checkout's reservation (saga compensation), or, with `order_ids`, the committed
    coverage of those orders only (an order cancelled in Review).

    Sent by the checkout service on `tiling.coverage.commands`: when a checkout or a renewal fails
    after reserving, and from `POST /v1/orders/{id}:cancel` for a grid order.
    Consumed by the tiling service (`tiling.coverage`), which replies CoverageReleased.
    """

    account_id: str
    checkout_id: str
    order_ids: list[str] | None = None


@contract("coverage.commit.v1", topic=T_COMMANDS, key="account_id")
class CommitCoverage(Message):
    """The checkout (or renewal) is paid: its reserved pairs now belong to the orders in `order_ids`
    (item id -> order id).

    Sent by the checkout service on `tiling.coverage.commands` with OrderPlaced or OrderRenewed.
    Consumed by the tiling service (`tiling.coverage`), which replies CoverageCommitted.
    """

    account_id: str
    checkout_id: str
    order_ids: dict[str, str]  # item id -> order id


@contract("coverage.reserved.v1", topic=T_EVENTS, key="account_id")
class CoverageReserved(Message):
    """The checkout's grid pairs are reserved. `items` gives, per item, the cells left to buy with the
    dates already owned excluded, how many pairs were owned, and warnings (a tile kept whole).

    Sent by the tiling service on `tiling.coverage.events` in reply to ReserveCoverage.
    Consumed by the checkout service's saga (`checkout.saga`, renewals included), which sends
    PriceCheckout for what remains.
    """

    account_id: str
    checkout_id: str
    renewal: Renewal | None = None  # set for a renewal (echoed by the reply)
    items: list[CoverageOutcome]


@contract("coverage.rejected.v1", topic=T_EVENTS, key="account_id")
class CoverageRejected(Message):
    """Nothing was reserved: `code` (`invalid_cells`: a GUID that is not a cell of the grid) and
    `reason` say why.

    Sent by the tiling service on `tiling.coverage.events` in reply to ReserveCoverage.
    Consumed by the checkout service's saga (`checkout.saga`), which fails the checkout or pauses
    the renewal.
    """

    account_id: str
    checkout_id: str
    renewal: Renewal | None = None  # set for a renewal (echoed by the reply)
    code: str
    reason: str


@contract("coverage.released.v1", topic=T_EVENTS, key="account_id")
class CoverageReleased(Message):
    """The reservation (or the cancelled orders' coverage) is released and counts as owned no more.

    Sent by the tiling service on `tiling.coverage.events` in reply to ReleaseCoverage.
    Consumed by no Tessera service today: compensations need no answer.
    """

    account_id: str
    checkout_id: str


@contract("coverage.committed.v1", topic=T_EVENTS, key="account_id")
class CoverageCommitted(Message):
    """The reservation now belongs to its orders and counts as owned for later checkouts.

    Sent by the tiling service on `tiling.coverage.events` in reply to CommitCoverage.
    Consumed by no Tessera service today: the checkout is complete when it asks.
    """

    account_id: str
    checkout_id: str
