"""When reminders fall due (aiadmin.sync.reminder_plan), in the salon's own zone: the day-before one at the salon's
hour, the 2-hour one at its lead, never at night, none for a booking made too close to the visit, and task names
that change when the booking moves. Times are built from a fixed «now», never from the clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aiadmin.core.models import Company, ReminderSettings
from aiadmin.sync.documents import BookingDoc
from aiadmin.sync.reminder_plan import plan, reminder_id

MSK, EKB = ZoneInfo("Europe/Moscow"), ZoneInfo("Asia/Yekaterinburg")
NOW = dt.datetime(2027, 3, 3, 10, 20, tzinfo=MSK)  # a Wednesday morning


def salon(zone: str = "Europe/Moscow", **settings) -> Company:
    return Company(salon_id=1, title="Лилия", timezone=zone, reminders=ReminderSettings(**settings))


def booking(at: dt.datetime, *, made: dt.datetime | None = None, **extra) -> BookingDoc:
    return BookingDoc(
        id=700001, starts_at=at, client_phone="79035557788", created_at=made or NOW - dt.timedelta(days=3), **extra
    )


def due(company: Company, b: BookingDoc, now: dt.datetime = NOW) -> dict[str, str]:
    return {t.kind: at.astimezone(company.zone()).strftime("%a %d %H:%M") for t, at in plan(company, b, now)}


def test_day_before_at_19_and_two_hours_before_in_moscow():
    visit = dt.datetime(2027, 3, 5, 15, 0, tzinfo=MSK)
    assert due(salon(), booking(visit)) == {"day_before": "Thu 04 19:00", "two_hours": "Fri 05 13:00"}


def test_a_salon_in_another_zone_is_reminded_on_its_own_clock():
    visit = dt.datetime(2027, 3, 5, 15, 0, tzinfo=EKB)  # 13:00 in Moscow
    company = salon("Asia/Yekaterinburg")
    assert due(company, booking(visit)) == {"day_before": "Thu 04 19:00", "two_hours": "Fri 05 13:00"}
    day_before = next(at for t, at in plan(company, booking(visit), NOW) if t.kind == "day_before")
    assert day_before.astimezone(dt.UTC).hour == 14, "19:00 in Yekaterinburg is 14:00 UTC"


def test_the_salons_hour_and_lead_are_used_and_a_night_hour_is_never():
    visit = dt.datetime(2027, 3, 5, 15, 0, tzinfo=MSK)
    assert due(salon(day_before_hour=10, two_hour_lead_min=180), booking(visit)) == {
        "day_before": "Thu 04 10:00",
        "two_hours": "Fri 05 12:00",
    }
    with pytest.raises(ValueError):
        ReminderSettings(day_before_hour=23)


def test_an_early_visit_gets_its_short_reminder_at_nine_not_at_night():
    visit = dt.datetime(2027, 3, 5, 10, 0, tzinfo=MSK)
    assert due(salon(), booking(visit))["two_hours"] == "Fri 05 09:00"
    too_early = dt.datetime(2027, 3, 5, 9, 0, tzinfo=MSK)
    assert "two_hours" not in due(salon(), booking(too_early)), "09:00 would be the visit itself"


def test_no_day_before_reminder_for_a_booking_made_less_than_12_hours_ahead():
    visit = dt.datetime(2027, 3, 4, 12, 0, tzinfo=MSK)
    made = dt.datetime(2027, 3, 4, 1, 0, tzinfo=MSK)
    assert due(salon(), booking(visit, made=made), now=made) == {"two_hours": "Thu 04 10:00"}


def test_a_booking_made_an_hour_ahead_gets_no_reminder_at_all():
    made = dt.datetime(2027, 3, 3, 13, 0, tzinfo=MSK)
    assert due(salon(), booking(made + dt.timedelta(hours=2), made=made), now=made) == {}


@pytest.mark.parametrize(
    "change",
    [
        {"deleted": True},
        {"attendance": -1},
        {"attendance": 1},
        {"client_phone": None},
    ],
)
def test_cancelled_missed_done_or_phoneless_bookings_get_none(change):
    b = booking(dt.datetime(2027, 3, 5, 15, 0, tzinfo=MSK)).model_copy(update=change)
    assert plan(salon(), b, NOW) == []


def test_switched_off_past_and_beyond_cloud_tasks_reach_get_none():
    visit = dt.datetime(2027, 3, 5, 15, 0, tzinfo=MSK)
    assert plan(salon(enabled=False), booking(visit), NOW) == []
    assert plan(salon(), booking(NOW - dt.timedelta(hours=1)), NOW) == []
    assert plan(salon(), booking(NOW + dt.timedelta(days=40)), NOW) == [], "Cloud Tasks holds 30 days at most"


def test_a_moved_booking_gets_new_task_names_and_the_same_booking_the_same_ones():
    visit = dt.datetime(2027, 3, 5, 15, 0, tzinfo=MSK)
    names = {reminder_id(t) for t, _ in plan(salon(), booking(visit), NOW)}
    again = {reminder_id(t) for t, _ in plan(salon(), booking(visit), NOW)}
    moved = {reminder_id(t) for t, _ in plan(salon(), booking(visit + dt.timedelta(hours=1)), NOW)}
    assert names == again and len(names) == 2 and not names & moved
    assert all("79035557788" not in n for n in names), "no phone number in a task name"
