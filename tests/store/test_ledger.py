"""The ledger keeps one row per order and moves it only through allowed, atomic transitions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import pytest

from shopbridge.store import SecretBox, Store, TransferNotFound, TransferRecord

T = TypeVar("T")
LEASE = 60.0


def _transfer_id(connection_id: int, order_id: str) -> str:
    return f"{connection_id}/1/{order_id}"


def _pending(store: Store, connection_id: int, order_id: str = "42") -> TransferRecord:
    transfer_id = _transfer_id(connection_id, order_id)
    record, _ = store.ledger.ensure(transfer_id, connection_id, "1", order_id)
    return record


def _in_parallel(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released at the same moment; results in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def test_ensure_creates_one_pending_row_and_then_finds_it(store: Store, connection_id: int) -> None:
    transfer_id = _transfer_id(connection_id, "42")
    created, was_created = store.ledger.ensure(
        transfer_id, connection_id, "1", "42", shop_status="paid", order_reference="XKBKNABJK"
    )
    found, created_again = store.ledger.ensure(transfer_id, connection_id, "1", "42")
    assert (was_created, created_again) == (True, False)
    assert found == created == store.ledger.get(transfer_id)
    assert (created.state, created.attempts, created.shop_status, created.order_reference) == (
        "pending",
        0,
        "paid",
        "XKBKNABJK",
    )
    assert created.created_at.tzinfo is UTC


def test_the_same_order_under_another_transfer_id_is_refused(
    store: Store, connection_id: int
) -> None:
    _pending(store, connection_id)
    with pytest.raises(ValueError, match="another transfer id"):
        store.ledger.ensure("some-other-id", connection_id, "1", "42")


def _ensure_then_claim(worker: Store, connection_id: int, order_id: str) -> tuple[bool, TransferRecord | None]:
    transfer_id = _transfer_id(connection_id, order_id)
    _, created = worker.ledger.ensure(transfer_id, connection_id, "1", order_id)
    return created, worker.ledger.claim(transfer_id, LEASE)


def test_concurrent_ensure_and_claim_yield_one_row_and_one_claim(
    database_url: str, secret_box: SecretBox, store: Store, connection_id: int
) -> None:
    # Two stores stand for two workers with their own connection pools.
    with Store(database_url, secret_box) as rival:
        for order_number in range(10):
            order_id = str(order_number)
            outcomes = _in_parallel(
                [partial(_ensure_then_claim, worker, connection_id, order_id) for worker in (store, rival)]
            )
            assert sorted(created for created, _ in outcomes) == [False, True]
            claims = [claim for _, claim in outcomes if claim is not None]
            assert len(claims) == 1 and claims[0].attempts == 1
    assert store.ledger.count_by_state(connection_id)["in_progress"] == 10
    assert len(store.ledger.list(connection_id)) == 10


def test_claim_takes_a_pending_row_with_a_lease(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    claimed = store.ledger.claim(pending.transfer_id, LEASE, now=now)
    assert claimed is not None
    assert (claimed.state, claimed.attempts) == ("in_progress", 1)
    assert claimed.lease_until == now + timedelta(seconds=LEASE)


def test_claim_respects_a_live_lease_and_retakes_a_lapsed_one(
    store: Store, connection_id: int
) -> None:
    pending = _pending(store, connection_id)
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    store.ledger.claim(pending.transfer_id, LEASE, now=now)
    during_lease = now + timedelta(seconds=LEASE - 1)
    assert store.ledger.claim(pending.transfer_id, LEASE, now=during_lease) is None
    after_lease = now + timedelta(seconds=LEASE + 1)
    retaken = store.ledger.claim(pending.transfer_id, LEASE, now=after_lease)
    assert retaken is not None and retaken.attempts == 2
    assert retaken.lease_until == after_lease + timedelta(seconds=LEASE)


def test_transferred_and_parked_rows_cannot_be_claimed(store: Store, connection_id: int) -> None:
    done, parked = _pending(store, connection_id, "1"), _pending(store, connection_id, "2")
    store.ledger.mark_transferred(done.transfer_id, "order", "10001")
    store.ledger.mark_parked(parked.transfer_id, "unknown VAT code")
    far_future = datetime(2100, 1, 1, tzinfo=UTC)
    assert store.ledger.claim(done.transfer_id, LEASE, now=far_future) is None
    assert store.ledger.claim(parked.transfer_id, LEASE, now=far_future) is None


def test_claim_of_an_unknown_transfer_is_none(store: Store) -> None:
    assert store.ledger.claim("no/such/transfer", LEASE) is None


def test_mark_transferred_records_the_document(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    store.ledger.claim(pending.transfer_id, LEASE)
    store.ledger.record_failure(pending.transfer_id, "timeout", "transient")
    store.ledger.claim(pending.transfer_id, LEASE)
    done = store.ledger.mark_transferred(pending.transfer_id, "invoice", "20045")
    assert (done.state, done.document_kind, done.document_number) == (
        "transferred",
        "invoice",
        "20045",
    )
    assert done.lease_until is None and done.last_error is None and done.error_kind is None
    assert done.transferred_at is not None and done.transferred_at.tzinfo is UTC
    assert done.attempts == 2


def test_record_failure_hands_the_row_back_for_retry(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    store.ledger.claim(pending.transfer_id, LEASE)
    failed = store.ledger.record_failure(pending.transfer_id, "503 from e-conomic", "transient")
    assert (failed.state, failed.last_error, failed.error_kind) == (
        "pending",
        "503 from e-conomic",
        "transient",
    )
    assert failed.lease_until is None
    assert store.ledger.claim(pending.transfer_id, LEASE) is not None


def test_record_failure_rejects_unknown_error_kinds(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    with pytest.raises(ValueError):
        store.ledger.record_failure(pending.transfer_id, "boom", "fatal")


def test_park_then_release_for_retry(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    store.ledger.claim(pending.transfer_id, LEASE)
    parked = store.ledger.mark_parked(pending.transfer_id, "customer has no VAT zone")
    assert (parked.state, parked.error_kind, parked.last_error, parked.lease_until) == (
        "parked",
        "data",
        "customer has no VAT zone",
        None,
    )
    released = store.ledger.release_for_retry(pending.transfer_id)
    assert released.state == "pending"
    assert released.last_error == "customer has no VAT zone"
    assert store.ledger.claim(pending.transfer_id, LEASE) is not None


def test_a_transferred_row_is_final(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    done = store.ledger.mark_transferred(pending.transfer_id, "order", "10001")
    assert store.ledger.mark_parked(pending.transfer_id, "late failure").state == "transferred"
    late_failure = store.ledger.record_failure(pending.transfer_id, "late", "transient")
    assert late_failure.state == "transferred"
    assert store.ledger.release_for_retry(pending.transfer_id).state == "transferred"
    again = store.ledger.mark_transferred(pending.transfer_id, "order", "99999")
    assert again == done == store.ledger.get(pending.transfer_id)


def test_release_for_retry_leaves_rows_that_are_not_parked(
    store: Store, connection_id: int
) -> None:
    pending = _pending(store, connection_id)
    claimed = store.ledger.claim(pending.transfer_id, LEASE)
    assert store.ledger.release_for_retry(pending.transfer_id) == claimed


def test_transitions_of_an_unknown_transfer_raise_lookup_error(store: Store) -> None:
    with pytest.raises(TransferNotFound):
        store.ledger.mark_transferred("no/such/transfer", "order", "1")
    with pytest.raises(LookupError):
        store.ledger.mark_parked("no/such/transfer", "reason")
    with pytest.raises(LookupError):
        store.ledger.save_snapshot(
            "no/such/transfer",
            order_json="{}",
            customer_email="a@b.se",
            total_gross="1.00",
            currency="SEK",
            order_reference="R",
            shop_status="paid",
        )


def test_save_snapshot_keeps_the_order_and_its_headline(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    store.ledger.save_snapshot(
        pending.transfer_id,
        order_json='{"id": "42"}',
        customer_email="anna@example.se",
        total_gross="1249.50",
        currency="SEK",
        order_reference="XKBKNABJK",
        shop_status="Payment accepted",
    )
    saved = store.ledger.get(pending.transfer_id)
    assert saved is not None
    assert (saved.order_json, saved.customer_email, saved.total_gross, saved.currency) == (
        '{"id": "42"}',
        "anna@example.se",
        "1249.50",
        "SEK",
    )
    assert (saved.order_reference, saved.shop_status, saved.state) == (
        "XKBKNABJK",
        "Payment accepted",
        "pending",
    )


def test_get_of_an_unknown_transfer_is_none(store: Store) -> None:
    assert store.ledger.get("no/such/transfer") is None


def test_list_is_newest_first_with_filters_and_paging(store: Store, connection_id: int) -> None:
    other = store.connections.apply("other", "prestashop", "economic", {}, {}).id
    ids = [_pending(store, connection_id, str(number)).transfer_id for number in range(4)]
    _pending(store, other, "9")
    store.ledger.mark_parked(ids[1], "bad")
    listed = [record.transfer_id for record in store.ledger.list(connection_id)]
    assert listed == list(reversed(ids))
    page = store.ledger.list(connection_id, limit=2, offset=1)
    assert [record.transfer_id for record in page] == [ids[2], ids[1]]
    assert [r.transfer_id for r in store.ledger.list(state="parked")] == [ids[1]]
    assert len(store.ledger.list()) == 5


def test_list_rejects_unknown_states(store: Store) -> None:
    with pytest.raises(ValueError):
        store.ledger.list(state="lost")


def test_pending_includes_lapsed_leases_but_not_live_ones(store: Store, connection_id: int) -> None:
    waiting, live, lapsed, done = (_pending(store, connection_id, str(n)) for n in range(4))
    store.ledger.claim(live.transfer_id, LEASE)
    store.ledger.claim(lapsed.transfer_id, LEASE, now=datetime.now(UTC) - timedelta(hours=1))
    store.ledger.mark_transferred(done.transfer_id, "order", "1")
    due = [record.transfer_id for record in store.ledger.pending(connection_id)]
    assert due == [waiting.transfer_id, lapsed.transfer_id]
    assert len(store.ledger.pending(connection_id, limit=1)) == 1


def test_count_by_state_covers_every_state(store: Store, connection_id: int) -> None:
    other = store.connections.apply("other", "prestashop", "economic", {}, {}).id
    rows = [_pending(store, connection_id, str(number)) for number in range(5)]
    _pending(store, other, "9")
    store.ledger.claim(rows[0].transfer_id, LEASE)
    store.ledger.mark_transferred(rows[1].transfer_id, "order", "1")
    store.ledger.mark_transferred(rows[2].transfer_id, "order", "2")
    store.ledger.mark_parked(rows[3].transfer_id, "bad")
    assert store.ledger.count_by_state(connection_id) == {
        "pending": 1,
        "in_progress": 1,
        "transferred": 2,
        "parked": 1,
    }
    assert store.ledger.count_by_state() == {
        "pending": 2,
        "in_progress": 1,
        "transferred": 2,
        "parked": 1,
    }
    assert store.ledger.count_by_state(other + 1000) == dict.fromkeys(
        ("pending", "in_progress", "transferred", "parked"), 0
    )


def test_claim_refuses_a_naive_clock(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    with pytest.raises(ValueError, match="naive"):
        store.ledger.claim(pending.transfer_id, LEASE, now=datetime(2030, 1, 1, 12, 0))
    assert store.ledger.get(pending.transfer_id) == pending
