"""The contract every OrderSource connector honours, checked against its system's emulator.

Plain async functions over an `OrderSourceCase`: a connector, a second one holding a wrong key,
and a handle on the emulator that knows when each order really changed and lets the checks
inject faults. A connector's `test_contract.py` builds the case and calls these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from shopbridge.connectors.base import OrderSource, OrderSummary
from shopbridge.connectors.calls import READ_REPEATS
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.model import Order
from shopbridge.sandbox.faults import FaultPlan, FaultRule


class OrderSourceEmulator(Protocol):
    """What the checks need from an emulator's state."""

    @property
    def faults(self) -> FaultPlan: ...

    @property
    def list_path(self) -> str:
        """Path prefix of the request that lists changed orders (fault rules match on it)."""
        ...

    @property
    def order_path(self) -> str:
        """Path prefix of the request that reads one order."""
        ...

    def changes(self) -> Mapping[str, datetime]:
        """Every order id and the UTC instant it last changed, by the emulator's own clock."""
        ...


@dataclass
class OrderSourceCase:
    source: OrderSource
    wrong_key_source: OrderSource
    emulator: OrderSourceEmulator
    page_size: int
    unknown_order_id: str
    time_resolution: timedelta = timedelta(seconds=1)


async def collect(source: OrderSource, since: datetime, until: datetime) -> list[list[OrderSummary]]:
    return [page async for page in source.order_changes(since, until)]


def expected_in(case: OrderSourceCase, since: datetime, until: datetime) -> dict[str, datetime]:
    """The orders whose change time, at the system's resolution, lies in [since, until]."""
    step = case.time_resolution
    found: dict[str, datetime] = {}
    for order_id, changed in case.emulator.changes().items():
        printed = changed - (changed - datetime(2000, 1, 1, tzinfo=UTC)) % step
        if since <= printed <= until:
            found[order_id] = printed
    return found


# --- credentials ---


async def check_accepts_credentials(case: OrderSourceCase) -> None:
    await case.source.check()


async def check_refuses_wrong_key(case: OrderSourceCase) -> None:
    with pytest.raises(ConfigError):
        await case.wrong_key_source.check()
    with pytest.raises(ConfigError):
        await collect(case.wrong_key_source, datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))


# --- order changes ---


async def check_changes_cover_the_window_exactly(case: OrderSourceCase, since: datetime, until: datetime) -> None:
    """Every order changed in the window, once, with its change time in aware UTC, and no other."""
    pages = await collect(case.source, since, until)
    summaries = [summary for page in pages for summary in page]
    ids = [summary.id for summary in summaries]
    assert len(ids) == len(set(ids)), f"orders listed twice: {sorted(ids)}"
    expected = expected_in(case, since, until)
    assert set(ids) == set(expected)
    for summary in summaries:
        assert summary.updated_at.utcoffset() == timedelta(0)
        assert summary.updated_at == expected[summary.id]
        assert summary.shop and summary.status


async def check_changes_miss_no_order(case: OrderSourceCase, since: datetime, until: datetime) -> None:
    """Every order changed in the window is listed; a few more are allowed (for example where a
    system prints wall-clock times, which repeat when clocks go back)."""
    listed = {summary.id for page in await collect(case.source, since, until) for summary in page}
    missing = set(expected_in(case, since, until)) - listed
    assert not missing, f"orders changed in the window but not listed: {sorted(missing)}"


async def check_changes_come_oldest_first_in_bounded_pages(
    case: OrderSourceCase, since: datetime, until: datetime
) -> None:
    pages = await collect(case.source, since, until)
    assert len(pages) > 1, "the window must hold more orders than one page to prove paging"
    assert all(0 < len(page) <= case.page_size for page in pages)
    times = [summary.updated_at for page in pages for summary in page]
    assert times == sorted(times)


async def check_empty_window_yields_no_pages(case: OrderSourceCase, since: datetime, until: datetime) -> None:
    assert expected_in(case, since, until) == {}
    assert await collect(case.source, since, until) == []


async def check_changes_refuse_naive_times(case: OrderSourceCase) -> None:
    with pytest.raises(ValueError):
        await collect(case.source, datetime(2024, 1, 1), datetime(2024, 1, 2))


# --- one order ---


async def check_order_matches_its_summary(case: OrderSourceCase, summary: OrderSummary) -> Order:
    """The whole order agrees with the summary that announced it and is internally sound."""
    order = await case.source.get_order(summary.id)
    assert (order.id, order.shop, order.status) == (summary.id, summary.shop, summary.status)
    assert order.updated_at == summary.updated_at
    assert order.created_at <= order.updated_at
    assert order.lines and all(line.unit_price.currency == order.currency for line in order.lines)
    assert order.customer.email == order.customer.email.lower()
    assert order.total_gross.amount >= order.total_net.amount
    return order


async def check_unknown_order_is_a_data_error(case: OrderSourceCase) -> None:
    with pytest.raises(DataError):
        await case.source.get_order(case.unknown_order_id)


# --- faults ---


async def check_rate_limit_is_transient_with_retry_after(
    case: OrderSourceCase, since: datetime, until: datetime
) -> None:
    limited = FaultRule("status", method="GET", path=case.emulator.list_path, times=1, status=429, retry_after=7)
    case.emulator.faults.add(limited)
    with pytest.raises(TransientError) as caught:
        await collect(case.source, since, until)
    assert caught.value.retry_after == 7
    await collect(case.source, since, until)  # the rule is spent: the next call goes through


# A read is sent again READ_REPEATS times before its failure reaches the flow: a lasting fault.
LASTING = READ_REPEATS + 1


async def check_unavailable_is_transient(case: OrderSourceCase, order_id: str) -> None:
    case.emulator.faults.add(FaultRule("status", method="GET", path=case.emulator.order_path, times=LASTING,
                                       status=503))  # fmt: skip
    fired = case.emulator.faults.fired
    with pytest.raises(TransientError) as caught:
        await case.source.get_order(order_id)
    assert caught.value.status == 503
    assert case.emulator.faults.fired - fired == LASTING


async def check_a_passing_failure_of_a_read_is_absorbed(case: OrderSourceCase, order_id: str) -> None:
    fired = case.emulator.faults.fired
    case.emulator.faults.add(FaultRule("status", method="GET", path=case.emulator.order_path, times=1, status=503))
    assert (await case.source.get_order(order_id)).id == order_id
    assert case.emulator.faults.fired - fired == 1


async def check_gateway_timeout_is_transient(case: OrderSourceCase, since: datetime, until: datetime) -> None:
    case.emulator.faults.add(FaultRule("timeout", method="GET", path=case.emulator.list_path, times=LASTING,
                                       seconds=0))  # fmt: skip
    with pytest.raises(TransientError):
        await collect(case.source, since, until)


async def check_dropped_connection_is_transient(case: OrderSourceCase, order_id: str) -> None:
    """Needs real HTTP: the emulator cuts the connection in the middle of the response body."""
    case.emulator.faults.add(FaultRule("drop_after_commit", method="GET", path=case.emulator.order_path,
                                       times=LASTING))  # fmt: skip
    with pytest.raises(TransientError):
        await case.source.get_order(order_id)


async def check_batched_histories_match_one_by_one(case: OrderSourceCase, order_ids: list[str]) -> None:
    """`status_histories` says for each order what `status_history` says (an order without
    history may be left out), and answers only for the orders asked about."""
    batched = await case.source.status_histories(order_ids)
    assert set(batched) <= set(order_ids)
    for order_id in order_ids:
        assert batched.get(order_id, []) == await case.source.status_history(order_id)
