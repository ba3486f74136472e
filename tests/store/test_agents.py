"""AgentRepository: hashed tokens, one job per reference, leases that lapse, answers recorded once."""

from __future__ import annotations

import time

from shopbridge.store import Store
from shopbridge.store.agents import hash_token
from shopbridge.store.tables import AgentTokenRow


def test_a_token_is_stored_hashed_and_names_its_connection(store: Store) -> None:
    token = store.agents.issue_token("acme")
    with store.database.reading() as session:
        stored = session.get(AgentTokenRow, "acme")
    assert stored is not None and stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert store.agents.authenticate(token) == "acme"
    assert store.agents.authenticate(token + "x") is None


def test_a_new_token_retires_the_old_one(store: Store) -> None:
    old = store.agents.issue_token("acme")
    new = store.agents.issue_token("acme")
    assert store.agents.authenticate(old) is None and store.agents.authenticate(new) == "acme"


def test_authenticating_marks_the_agent_as_heard(store: Store) -> None:
    token = store.agents.issue_token("acme")
    health = store.agents.health("acme")
    assert health is not None and health.last_seen_at is None
    store.agents.authenticate(token)
    health = store.agents.health("acme")
    assert health is not None and health.last_seen_at is not None


def test_the_same_reference_is_queued_once(store: Store) -> None:
    first = store.agents.enqueue("acme", "acme/1/1", "order", "<a/>")
    second = store.agents.enqueue("acme", "acme/1/1", "order", "<b/>")
    assert first.id == second.id and second.payload == "<a/>"
    assert store.agents.enqueue("other", "acme/1/1", "order", "<a/>").id != first.id


def test_a_leased_job_is_not_offered_again_until_its_lease_lapses(store: Store) -> None:
    store.agents.enqueue("acme", "acme/1/1", "order", "<a/>")
    leased = store.agents.lease_next("acme", lease_seconds=1)
    assert leased is not None and leased.state == "leased" and leased.attempts == 1
    assert store.agents.lease_next("acme", lease_seconds=1) is None
    time.sleep(1.1)
    again = store.agents.lease_next("acme", lease_seconds=1)
    assert again is not None and again.id == leased.id and again.attempts == 2


def test_jobs_are_offered_oldest_first_and_only_to_their_connection(store: Store) -> None:
    store.agents.enqueue("acme", "acme/1/1", "order", "<a/>")
    store.agents.enqueue("acme", "acme/1/2", "order", "<a/>")
    assert store.agents.lease_next("other", 60) is None
    first, second = store.agents.lease_next("acme", 60), store.agents.lease_next("acme", 60)
    assert first is not None and second is not None and (first.reference, second.reference) == ("acme/1/1", "acme/1/2")


def test_an_answer_is_recorded_once(store: Store) -> None:
    job = store.agents.enqueue("acme", "acme/1/1", "order", "<a/>")
    done = store.agents.finish("acme", job.id, "done", {"number": "10001"})
    late = store.agents.finish("acme", job.id, "failed", {}, "too late")
    assert done is not None and late is not None and late.state == "done" and late.result == {"number": "10001"}
    assert store.agents.finish("other", job.id, "done", {}) is None


def test_a_failed_job_is_queued_again_with_the_fixed_document(store: Store) -> None:
    job = store.agents.enqueue("acme", "acme/1/1", "order", "<bad/>")
    store.agents.finish("acme", job.id, "failed", {}, "warehouse 1 is not linked")
    again = store.agents.enqueue("acme", "acme/1/1", "order", "<good/>")
    assert (again.id, again.state, again.payload, again.error) == (job.id, "queued", "<good/>", "")


def test_the_newest_export_of_each_kind_is_kept(store: Store) -> None:
    store.agents.put_export("acme", "orders", "<one/>")
    store.agents.put_export("acme", "orders", "<two/>")
    found = store.agents.export("acme", "orders")
    assert found is not None and found[0] == "<two/>"
    assert store.agents.export("acme", "customers") is None
