"""The session host's send pacing, on a clock the test moves: replies to customers from a token bucket, other
messages one per interval without touching the replies' reserve."""

from __future__ import annotations

import pytest

from session_host.outbound import CHAT_GAP_S, REPLY_RESERVE, Sender

SID = "company_1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(clock: Clock) -> Sender:
    return Sender(None, None, interval_s=3.0, jitter_s=0.0, burst=20, clock=clock)  # type: ignore[arg-type]


def send_when_allowed(sender: Sender, clock: Clock, phone: str, reply: bool = True) -> float:
    """What Cloud Tasks does with 429 + Retry-After: come back when told. Returns the wait."""
    began = clock.now
    while (wait := sender.reserve(SID, phone, reply)) > 0:
        clock.now += wait
    return clock.now - began


def test_twenty_new_customers_at_once_are_all_answered_at_once(sender, clock):
    waits = [send_when_allowed(sender, clock, f"7900000{i:04d}") for i in range(20)]
    assert waits == [0.0] * 20
    assert send_when_allowed(sender, clock, "79001111111") == pytest.approx(3.0), "the 21st waits for a token"


def test_twenty_new_customers_spread_over_a_minute_never_wait(sender, clock):
    waits = []
    for i in range(40):  # two minutes of one new customer every 3 s, after a burst of 10
        if i >= 10:
            clock.now += 3.0
        waits.append(send_when_allowed(sender, clock, f"7900000{i:04d}"))
    assert max(waits) == 0.0


def test_a_customer_writing_in_pieces_is_answered_a_chat_gap_apart_not_an_interval(sender, clock):
    assert send_when_allowed(sender, clock, "79000000001") == 0.0
    clock.now += 0.2
    assert send_when_allowed(sender, clock, "79000000001") == pytest.approx(CHAT_GAP_S - 0.2)


def test_reminders_go_one_per_interval(sender, clock):
    assert send_when_allowed(sender, clock, "79000000001", reply=False) == 0.0
    assert send_when_allowed(sender, clock, "79000000002", reply=False) == pytest.approx(3.0)


def test_reminders_leave_the_replies_their_reserve(sender, clock):
    for i in range(20 - REPLY_RESERVE):  # a burst of customers drains the bucket down to the reserve
        assert send_when_allowed(sender, clock, f"7911111{i:04d}") == 0.0
    assert send_when_allowed(sender, clock, "79000000003", reply=False) == pytest.approx(3.0), "waits for a token"
    for i in range(REPLY_RESERVE):
        assert send_when_allowed(sender, clock, f"7922222{i:04d}") == 0.0, "the next customers are answered at once"


def test_over_ten_minutes_a_session_sends_no_more_than_its_burst_and_one_per_interval(sender, clock):
    start, sent = clock.now, 0
    while clock.now - start < 600:
        if sender.reserve(SID, f"79{sent:09d}", sent % 3 != 0) == 0:
            sent += 1
        clock.now += 0.25
    assert sent <= 20 + 600 / 3 + 1


@pytest.fixture
def warming(clock: Clock) -> Sender:
    return Sender(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        interval_s=3.0,
        jitter_s=0.0,
        burst=20,
        clock=clock,
        warmup_days=7,
        warmup_burst=8,
        warmup_cold_interval_s=60.0,
    )


def _send(sender: Sender, clock: Clock, phone: str, reply: bool, cold: bool = False) -> float:
    began = clock.now
    while (wait := sender.reserve(SID, phone, reply, warming=True, cold=cold)) > 0:
        clock.now += wait
    return clock.now - began


def test_a_freshly_linked_number_answers_a_smaller_burst_at_once(warming, clock):
    waits = [_send(warming, clock, f"7900000{i:04d}", reply=True) for i in range(9)]
    assert waits[:8] == [0.0] * 8 and waits[8] == pytest.approx(3.0), "8 at once, then one per interval"


def test_a_freshly_linked_number_writes_first_to_strangers_a_minute_apart_and_to_its_customers_as_usual(warming, clock):
    cold = [_send(warming, clock, f"7911111{i:04d}", reply=False, cold=True) for i in range(4)]
    assert cold[0] == 0.0 and all(w == pytest.approx(60.0) for w in cold[1:]), cold
    known = _send(warming, clock, "79000000001", reply=False, cold=False)
    assert known <= 3.0, "a reminder to a customer who wrote before waits only the usual interval"
    assert _send(warming, clock, "79000000002", reply=True) == 0.0, "replies never wait for the cold gap"
