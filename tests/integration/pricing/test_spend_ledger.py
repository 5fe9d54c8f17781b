"""The monthly spend ledger's rule, run as production runs it: the use case in a transaction on Postgres.

Spend per (account, month, family) = charges (OrderPlaced, OrderRenewed) − reversals (OrderCanceled's
``spend_reversed``), each line keyed by (order, month, family): a duplicated or re-emitted event changes
nothing, events in any order give the same spend, and the same key with another amount or account is
refused (dead-lettered by the consumer) with nothing of it kept.
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from itertools import permutations
from pathlib import Path

import pytest

import services.pricing
from services.pricing import store, usecases
from services.pricing.domain import Month
from shared.catalog import ModelFamily
from shared.contracts.checkout import OrderCanceled, OrderPlaced, OrderRenewed
from shared.contracts.common import SpendLine
from shared.db import create_pool, migrate
from shared.inbox import Reject

pytestmark = pytest.mark.integration

APRIL, MAY = Month(2025, 4), Month(2025, 5)
S, N = ModelFamily.STRATUS, ModelFamily.NIMBUS
MIGRATIONS = Path(services.pricing.__file__).parent / "migrations"


@pytest.fixture(scope="module")
async def pool(database_url):
    """The pricing tables in a schema of their own (no service process: the use case is called directly)."""
    schema = f"pricing_ledger_{uuid.uuid4().hex[:8]}"
    await migrate(database_url, schema, MIGRATIONS)
    pool = await create_pool(database_url, schema, max_size=4)
    yield pool
    await pool.close()


def line(amount: str, month: Month = APRIL, family: ModelFamily = S) -> SpendLine:
    return SpendLine(month=str(month), family=family.value, amount=Decimal(amount))


def placed(order: str, account: str, *lines: SpendLine) -> OrderPlaced:
    return OrderPlaced(order_id=order, account_id=account, checkout_id=f"chk-{order}", model="Stratus2",
                       constellations=["Sentinel1", "Sentinel2", "Landsat89"], status="Review",
                       amount=sum((ln.amount for ln in lines), Decimal(0)), spend=list(lines))


def renewed(order: str, account: str, month: Month, *lines: SpendLine) -> OrderRenewed:
    return OrderRenewed(order_id=order, account_id=account, month=str(month),
                        amount=sum((ln.amount for ln in lines), Decimal(0)), spend=list(lines))


def canceled(order: str, account: str, *lines: SpendLine) -> OrderCanceled:
    return OrderCanceled(order_id=order, account_id=account, refunded=sum((ln.amount for ln in lines), Decimal(0)),
                         spend_reversed=list(lines))


async def apply(pool, *messages, event_id: uuid.UUID | None = None) -> None:
    """Each message in its own transaction, as the inbox runs the spend-ledger consumer's effect."""
    for message in messages:
        async with pool.acquire() as conn, conn.transaction():
            await usecases.record_spend(conn, message, event_id or uuid.uuid4())


async def spend(pool, account: str, month: Month = APRIL, family: ModelFamily = S) -> Decimal:
    return (await store.month_spend(pool, account, (month,)))[(month, family)]


async def test_spend_is_summed_per_account_month_and_family(pool):
    a, b = f"acc-{uuid.uuid4().hex[:8]}", f"acc-{uuid.uuid4().hex[:8]}"
    await apply(pool, placed("o1" + a, a, line("1017.00")), placed("o2" + a, a, line("24.00")),
                placed("o3" + a, a, line("12.00", family=N)), placed("o4" + b, b, line("5.00")),
                renewed("o1" + a, a, MAY, line("30.00", MAY)))
    assert await spend(pool, a) == Decimal("1041.00")  # 1017 + 24
    assert await spend(pool, a, APRIL, N) == Decimal("12.00")
    assert await spend(pool, b) == Decimal("5.00")
    assert await spend(pool, a, MAY) == Decimal("30.00")
    assert await spend(pool, f"acc-{uuid.uuid4().hex[:8]}") == Decimal(0)


async def test_a_duplicated_or_re_emitted_event_changes_nothing(pool):
    a = f"acc-{uuid.uuid4().hex[:8]}"
    event = placed("o1" + a, a, line("100.00"))
    event_id = uuid.uuid4()
    await apply(pool, event, event_id=event_id)
    await apply(pool, event, event_id=event_id)  # redelivered
    await apply(pool, event)  # re-emitted under a new event id
    assert await spend(pool, a) == Decimal("100.00")


async def test_a_cancellation_reverses_its_lines_once(pool):
    a = f"acc-{uuid.uuid4().hex[:8]}"
    await apply(pool, placed("o1" + a, a, line("100.00")), placed("o2" + a, a, line("40.00")))
    cancel = canceled("o1" + a, a, line("100.00"))
    await apply(pool, cancel, cancel)  # the second is a duplicated cancel
    assert await spend(pool, a) == Decimal("40.00")


async def test_a_cancellation_arriving_before_its_placement_balances_it(pool):
    a = f"acc-{uuid.uuid4().hex[:8]}"
    await apply(pool, canceled("o1" + a, a, line("100.00")))
    await apply(pool, placed("o1" + a, a, line("100.00")))
    assert await spend(pool, a) == Decimal(0)


async def test_a_cancellation_reverses_renewals_too(pool):
    a = f"acc-{uuid.uuid4().hex[:8]}"
    await apply(pool, placed("o1" + a, a, line("10.00")), renewed("o1" + a, a, MAY, line("8.00", MAY)),
                canceled("o1" + a, a, line("10.00"), line("8.00", MAY)))
    assert (await spend(pool, a), await spend(pool, a, MAY)) == (Decimal(0), Decimal(0))


async def test_any_order_and_duplication_of_events_gives_the_same_spend(pool):
    # o1 100 (cancelled), o2 40, o2 renewed in May 25, o3 7.50 Nimbus:
    # April Stratus 40, May Stratus 25, April Nimbus 7.50.
    for n, order in enumerate(permutations(range(5))):
        a = f"perm-{n}-{uuid.uuid4().hex[:6]}"
        events = [
            placed("o1" + a, a, line("100.00")),
            placed("o2" + a, a, line("40.00")),
            canceled("o1" + a, a, line("100.00")),
            renewed("o2" + a, a, MAY, line("25.00", MAY)),
            placed("o3" + a, a, line("7.50", family=N)),
        ]
        shuffled = [events[i] for i in order]
        await apply(pool, *shuffled, *shuffled[:2])  # replays too
        spent = await store.month_spend(pool, a, (APRIL, MAY))
        assert (spent[(APRIL, S)], spent[(MAY, S)], spent[(APRIL, N)]) == (
            Decimal("40.00"), Decimal("25.00"), Decimal("7.50")), shuffled


async def test_the_same_order_and_month_with_another_amount_or_account_is_refused(pool):
    a, b = f"acc-{uuid.uuid4().hex[:8]}", f"acc-{uuid.uuid4().hex[:8]}"
    await apply(pool, placed("o1" + a, a, line("100.00")))
    with pytest.raises(Reject, match="o1"):
        await apply(pool, placed("o1" + a, a, line("5.00", family=N), line("99.00")))
    with pytest.raises(Reject, match="o1"):
        await apply(pool, placed("o1" + a, b, line("100.00")))
    # nothing of a refused event is kept: not even its other (new) line
    assert (await spend(pool, a), await spend(pool, a, APRIL, N), await spend(pool, b)) == (
        Decimal("100.00"), Decimal(0), Decimal(0))


async def test_a_negative_spend_line_is_refused(pool):
    a = f"acc-{uuid.uuid4().hex[:8]}"
    with pytest.raises(Reject, match="negative"):
        await apply(pool, placed("o1" + a, a, line("-1.00")))
    assert await spend(pool, a) == Decimal(0)
