"""Poll turns: one holder per connection, a round only when due, a lapsed holder changes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from shopbridge.store import Store

LEASE = 30.0


def test_a_new_connection_is_due_and_its_turn_goes_to_one_taker(store: Store, connection_id: int) -> None:
    assert store.poll_turns.due([connection_id]) == [connection_id]
    turn = store.poll_turns.take(connection_id, LEASE)
    assert turn is not None and turn.resume_from is None
    assert store.poll_turns.take(connection_id, LEASE) is None
    assert store.poll_turns.due([connection_id]) == []


def test_a_finished_round_makes_the_next_one_wait_its_interval(store: Store, connection_id: int) -> None:
    turn = store.poll_turns.take(connection_id, LEASE)
    assert turn is not None and store.poll_turns.finish(turn, next_round_in=0.4, resume_from=None)
    assert store.poll_turns.due([connection_id]) == [] and store.poll_turns.take(connection_id, LEASE) is None
    time.sleep(0.5)
    assert store.poll_turns.due([connection_id]) == [connection_id]
    assert store.poll_turns.take(connection_id, LEASE) is not None


def test_a_round_cut_at_its_bound_hands_its_resume_point_to_the_next(store: Store, connection_id: int) -> None:
    resume = datetime(2026, 12, 3, 12, 0, 30, tzinfo=UTC)
    turn = store.poll_turns.take(connection_id, LEASE)
    assert turn is not None and store.poll_turns.finish(turn, next_round_in=0, resume_from=resume)
    following = store.poll_turns.take(connection_id, LEASE)
    assert following is not None and following.resume_from == resume


def test_a_dead_holders_turn_passes_once_its_lease_lapses(store: Store, connection_id: int) -> None:
    dead = store.poll_turns.take(connection_id, 0.3)
    assert dead is not None
    assert store.poll_turns.take(connection_id, LEASE) is None
    time.sleep(0.4)
    assert store.poll_turns.due([connection_id]) == [connection_id]
    successor = store.poll_turns.take(connection_id, LEASE)
    assert successor is not None and successor.token != dead.token
    # The stalled holder wakes up: it can neither keep the turn nor give it back.
    assert not store.poll_turns.renew(dead, LEASE)
    assert not store.poll_turns.finish(dead, next_round_in=0, resume_from=datetime(2020, 1, 1, tzinfo=UTC))
    assert store.poll_turns.take(connection_id, LEASE) is None
    assert store.poll_turns.renew(successor, LEASE)


def test_a_renewed_turn_outlives_its_first_lease(store: Store, connection_id: int) -> None:
    turn = store.poll_turns.take(connection_id, 0.4)
    assert turn is not None
    for _ in range(3):
        time.sleep(0.2)
        assert store.poll_turns.renew(turn, 0.4)
    assert store.poll_turns.take(connection_id, LEASE) is None


def test_due_of_no_connections_asks_nothing(store: Store) -> None:
    assert store.poll_turns.due([]) == []
