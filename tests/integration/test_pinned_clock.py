"""The stack answers a whole booking dialogue on a clock a week behind the Firestore emulator's and a week ahead of
it: nothing compares the process's pinned clock with one the emulator or gRPC keeps, so pinned «nows» stay
usable on any real date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.clock import MSK, real_time, travel


@pytest.fixture(params=[-7, 7], ids=["a-week-behind", "a-week-ahead"])
def skewed_now(request: pytest.FixtureRequest) -> Iterator[datetime]:
    at = datetime.fromtimestamp(real_time(), MSK).replace(hour=12, minute=0) + timedelta(days=request.param)
    with travel(at):
        yield at
        dispatcher = request.getfixturevalue("local_stack").dispatcher
        dispatcher.wait_idle()
        dispatcher.clear()


def test_a_booking_dialogue_is_answered_on_a_clock_a_week_off(skewed_now, bot):
    slots = bot.say("Когда свободно на мужскую стрижку завтра?")
    times = re.findall(r"в (\d{2}:\d{2})", slots)
    assert "«Мужская стрижка»" in slots and times, slots
    proposal = bot.say(f"Запишите на {times[0]}")
    if "Как вас зовут" in proposal:
        proposal = bot.say("Пётр")
    assert f"завтра в {times[0]}" in proposal and "Подтверждаете?" in proposal, proposal
    done = bot.say("да")
    assert "Вы записаны" in done and f"завтра в {times[0]}" in done, done
    booked = [r for r in bot.stack.data.records.values() if r.get("api_id")]
    assert len(booked) == 1, booked
    assert booked[0]["datetime"].startswith((skewed_now.date() + timedelta(days=1)).isoformat()), booked[0]
