"""The ledger keeps one row per order and moves it only through allowed, atomic transitions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import pytest

from shopbridge.store import Admission, SecretBox, Store, TransferClaim, TransferNotFound, TransferRecord

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


def test_a_page_of_admissions_is_one_read_and_one_write(store: Store, connection_id: int) -> None:
    kept = _pending(store, connection_id, "1")
    page = [Admission(_transfer_id(connection_id, str(n)), "1", str(n), "2") for n in range(1, 701)]
    assert store.ledger.known([entry.transfer_id for entry in page]) == {kept.transfer_id}
    store.ledger.ensure_many(connection_id, page)
    store.ledger.ensure_many(connection_id, page[:3])  # again: nothing changes
    rows = store.ledger.list(connection_id, limit=1000)
    assert len(rows) == 700 and store.ledger.get(kept.transfer_id) == kept
    assert {row.shop_status for row in rows if row.transfer_id != kept.transfer_id} == {"2"}
    assert store.ledger.known([entry.transfer_id for entry in page]) == {entry.transfer_id for entry in page}


def test_concurrent_page_admissions_agree_on_one_row_each(
    database_url: str, secret_box: SecretBox, store: Store, connection_id: int
) -> None:
    page = [Admission(_transfer_id(connection_id, str(n)), "1", str(n), "2") for n in range(50)]
    with Store(database_url, secret_box) as rival:
        _in_parallel([partial(worker.ledger.ensure_many, connection_id, page) for worker in (store, rival)])
    assert store.ledger.count_by_state(connection_id)["pending"] == 50


def _ensure_then_claim(worker: Store, connection_id: int, order_id: str) -> tuple[bool, TransferClaim | None]:
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
            assert len(claims) == 1 and claims[0].record.attempts == 1
    assert store.ledger.count_by_state(connection_id)["in_progress"] == 10
    assert len(store.ledger.list(connection_id)) == 10


def _claimed(store: Store, connection_id: int, order_id: str = "42", lease: float = LEASE) -> TransferClaim:
    claim = store.ledger.claim(_pending(store, connection_id, order_id).transfer_id, lease)
    assert claim is not None
    return claim


def test_claim_takes_a_pending_row_with_a_lease_on_the_database_clock(store: Store, connection_id: int) -> None:
    claim = _claimed(store, connection_id)
    assert (claim.record.state, claim.record.attempts, claim.record.claim_token) == ("in_progress", 1, claim.token)
    assert claim.record.lease_until == claim.claimed_at + timedelta(seconds=LEASE)
    assert abs((claim.claimed_at - datetime.now(UTC)).total_seconds()) < 5


def test_claim_respects_a_live_lease_and_retakes_a_lapsed_one(store: Store, connection_id: int) -> None:
    first = _claimed(store, connection_id, lease=0.3)
    assert store.ledger.claim(first.transfer_id, 0.3) is None
    time.sleep(0.4)
    retaken = store.ledger.claim(first.transfer_id, LEASE)
    assert retaken is not None and retaken.record.attempts == 2 and retaken.token != first.token


def test_a_worker_whose_clock_runs_ahead_cannot_take_a_live_lease(
    store: Store, connection_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _claimed(store, connection_id)
    ahead = datetime.now(UTC) + timedelta(hours=1)
    for module in ("shopbridge.store.ledger", "shopbridge.store.database"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: ahead)
    assert store.ledger.claim(held.transfer_id, LEASE) is None
    assert store.ledger.pending(connection_id) == []


def test_an_attempt_that_lost_its_claim_can_record_nothing(store: Store, connection_id: int) -> None:
    stale = _claimed(store, connection_id, lease=0.2)
    time.sleep(0.3)
    current = store.ledger.claim(stale.transfer_id, LEASE)
    assert current is not None
    assert store.ledger.renew(stale, LEASE) is False
    assert store.ledger.begin_write(stale, LEASE) is False
    assert store.ledger.mark_transferred(stale, "draft_invoice", "7") is None
    store.ledger.record_failure(stale.transfer_id, "stale", "transient", stale)
    store.ledger.mark_parked(stale.transfer_id, "stale", stale)
    row = store.ledger.get(stale.transfer_id)
    assert row is not None and (row.state, row.claim_token, row.document_number) == ("in_progress", current.token, None)
    assert store.ledger.mark_transferred(current, "draft_invoice", "8") is not None


def test_renew_extends_the_lease_of_the_holder(store: Store, connection_id: int) -> None:
    claim = _claimed(store, connection_id, lease=0.3)
    time.sleep(0.2)
    assert store.ledger.renew(claim, 0.3)
    time.sleep(0.2)
    assert store.ledger.claim(claim.transfer_id, LEASE) is None  # would have lapsed without the renewal


def test_a_write_in_doubt_makes_the_next_attempt_wait_for_the_erp_to_settle(store: Store, connection_id: int) -> None:
    claim = _claimed(store, connection_id)
    assert store.ledger.begin_write(claim, LEASE)
    doubtful = store.ledger.write_in_doubt(claim, "read timeout on POST", settle_seconds=20)
    assert doubtful is not None and (doubtful.state, doubtful.in_doubt, doubtful.claim_token) == ("pending", True, None)
    retry = store.ledger.claim(claim.transfer_id, LEASE)
    assert retry is not None and retry.record.write_started_at is not None
    not_before = retry.write_not_before(write_window_seconds=15)
    assert not_before is not None and not_before - retry.claimed_at > timedelta(seconds=14)


def test_a_write_known_not_sent_leaves_nothing_to_wait_for(store: Store, connection_id: int) -> None:
    claim = _claimed(store, connection_id)
    store.ledger.begin_write(claim, LEASE)
    store.ledger.write_not_sent(claim)
    store.ledger.record_failure(claim.transfer_id, "429", "transient", claim)
    retry = store.ledger.claim(claim.transfer_id, LEASE)
    assert retry is not None and retry.write_not_before(15) is None


def test_transferred_and_parked_rows_cannot_be_claimed(store: Store, connection_id: int) -> None:
    done = _claimed(store, connection_id, "1")
    store.ledger.mark_transferred(done, "order", "10001")
    parked = _pending(store, connection_id, "2")
    store.ledger.mark_parked(parked.transfer_id, "unknown VAT code")
    assert store.ledger.claim(done.transfer_id, LEASE) is None
    assert store.ledger.claim(parked.transfer_id, LEASE) is None


def test_claim_of_an_unknown_transfer_is_none(store: Store) -> None:
    assert store.ledger.claim("no/such/transfer", LEASE) is None


def test_mark_transferred_records_the_document(store: Store, connection_id: int) -> None:
    first = _claimed(store, connection_id)
    store.ledger.record_failure(first.transfer_id, "timeout", "transient", first)
    second = store.ledger.claim(first.transfer_id, LEASE)
    assert second is not None
    done = store.ledger.mark_transferred(second, "invoice", "20045")
    assert done is not None
    assert (done.state, done.document_kind, done.document_number) == ("transferred", "invoice", "20045")
    assert done.lease_until is None and done.last_error is None and done.error_kind is None
    assert done.transferred_at is not None and done.transferred_at.tzinfo is UTC
    assert done.attempts == 2 and done.claim_token is None


def test_record_failure_hands_the_row_back_for_retry(store: Store, connection_id: int) -> None:
    claim = _claimed(store, connection_id)
    failed = store.ledger.record_failure(claim.transfer_id, "503 from e-conomic", "transient", claim)
    assert (failed.state, failed.last_error, failed.error_kind) == ("pending", "503 from e-conomic", "transient")
    assert failed.lease_until is None
    assert store.ledger.claim(claim.transfer_id, LEASE) is not None


def test_record_failure_rejects_unknown_error_kinds(store: Store, connection_id: int) -> None:
    pending = _pending(store, connection_id)
    with pytest.raises(ValueError):
        store.ledger.record_failure(pending.transfer_id, "boom", "fatal")


def test_park_then_release_for_retry(store: Store, connection_id: int) -> None:
    claim = _claimed(store, connection_id)
    pending = claim.record
    parked = store.ledger.mark_parked(pending.transfer_id, "customer has no VAT zone", claim)
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
    claim = _claimed(store, connection_id)
    pending = claim.record
    done = store.ledger.mark_transferred(claim, "order", "10001")
    assert store.ledger.mark_parked(pending.transfer_id, "late failure").state == "transferred"
    late_failure = store.ledger.record_failure(pending.transfer_id, "late", "transient")
    assert late_failure.state == "transferred"
    assert store.ledger.release_for_retry(pending.transfer_id).state == "transferred"
    assert store.ledger.mark_transferred(claim, "order", "99999") is None
    assert done == store.ledger.get(pending.transfer_id)


def test_release_for_retry_leaves_rows_that_are_not_parked(
    store: Store, connection_id: int
) -> None:
    claim = _claimed(store, connection_id)
    assert store.ledger.release_for_retry(claim.transfer_id) == claim.record


def test_transitions_of_an_unknown_transfer_raise_lookup_error(store: Store) -> None:
    with pytest.raises(TransferNotFound):
        store.ledger.record_failure("no/such/transfer", "timeout", "transient")
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
    waiting = _pending(store, connection_id, "0")
    _claimed(store, connection_id, "1")
    lapsed = _claimed(store, connection_id, "2", lease=0.1).record
    store.ledger.mark_transferred(_claimed(store, connection_id, "3"), "order", "1")
    time.sleep(0.2)
    due = [record.transfer_id for record in store.ledger.pending(connection_id)]
    assert due == [waiting.transfer_id, lapsed.transfer_id]
    assert len(store.ledger.pending(connection_id, limit=1)) == 1


def test_count_by_state_covers_every_state(store: Store, connection_id: int) -> None:
    other = store.connections.apply("other", "prestashop", "economic", {}, {}).id
    rows = [_pending(store, connection_id, str(number)) for number in range(5)]
    _pending(store, other, "9")
    store.ledger.claim(rows[0].transfer_id, LEASE)
    for number in (1, 2):
        claim = store.ledger.claim(rows[number].transfer_id, LEASE)
        assert claim is not None
        store.ledger.mark_transferred(claim, "order", str(number))
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
