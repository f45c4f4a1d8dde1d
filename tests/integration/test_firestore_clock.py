"""Times that several processes compare live on Firestore's clock: a process whose own clock is a day off can
neither take a session lease another host holds, nor keep a dead one, nor hold a conversation's turn lock past its
minute; it says in the log how far off it is, and a Cloud Tasks delay counts from Google's time, not its own."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aiadmin.ai import turn
from aiadmin.core import firestore_clock
from aiadmin.whatsapp import session_lease
from tests.clock import real_time, travel

A_DAY = timedelta(days=1)


def _real_now() -> datetime:
    return datetime.fromtimestamp(real_time(), UTC)


@pytest.fixture(autouse=True)
def fresh_clock():
    firestore_clock.reset()
    yield
    firestore_clock.reset()


@pytest.mark.parametrize("skew", [A_DAY, -A_DAY], ids=["a-day-ahead", "a-day-behind"])
def test_a_host_with_a_skewed_clock_never_takes_a_live_lease_and_takes_a_dead_one(db, skew, caplog):
    live, dead = f"company_{uuid.uuid4().hex[:8]}", f"company_{uuid.uuid4().hex[:8]}"
    assert session_lease.try_acquire(db, live, "host-b", ttl_s=30)
    session_lease.lease_ref(db, dead).set(
        {"session_id": dead, "holder": "host-b", "ttl_s": 5, "renewed_at": _real_now() - timedelta(seconds=10)}
    )
    with caplog.at_level(logging.WARNING, "aiadmin.clock"), travel(_real_now() + skew):
        assert not session_lease.try_acquire(db, live, "host-a", ttl_s=30), "host-b renewed it a moment ago"
        assert session_lease.try_acquire(db, dead, "host-a", ttl_s=30), "host-b stopped renewing 5 s past its ttl"
    assert session_lease.lease_ref(db, live).get().get("holder") == "host-b"
    warned = [r for r in caplog.records if r.getMessage() == "this process's clock is off Firestore's"]
    assert len(warned) == 1, "said once, not on every read"
    assert abs(warned[0].skew_s - skew.total_seconds()) < 60


@pytest.mark.parametrize("skew", [A_DAY, -A_DAY], ids=["a-day-ahead", "a-day-behind"])
def test_a_turn_lock_lasts_a_minute_of_firestores_time_whatever_the_takers_clock(db, skew):
    ref = db.collection("conversations").document(f"clock-{uuid.uuid4().hex[:8]}")
    with travel(_real_now() + skew):
        assert turn._lock(db, ref, "turn-1")
    taken_at = ref.get().get("turn_lock")["at"]
    assert abs(taken_at - _real_now()) < timedelta(seconds=30), "stamped by Firestore, not by the skewed taker"
    assert not turn._lock(db, ref, "turn-2"), "held while the first turn runs"
    assert turn._lock(db, ref, "turn-1"), "the same turn, retried, goes on"
    ref.update({"turn_lock.at": _real_now() - turn.LOCK_TTL - timedelta(seconds=1)})
    with travel(_real_now() - skew):
        assert turn._lock(db, ref, "turn-2"), "a crashed turn's lock is free after its minute"
