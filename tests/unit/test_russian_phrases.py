"""Every reply template that names a day, a time, a master or a count, over every weekday, every month and sample
names: the preposition and case a native speaker would use, and no declined-wrong name."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from aiadmin.ai.executor import Outcome
from aiadmin.ai.replies import render
from aiadmin.core.russian import day_phrase, plural, salon_introduction, when_phrase

TODAY = dt.date(2026, 11, 30)  # a Monday
NAMES = ["Дмитрий Козлов", "Анна Соколова", "Илья", "Мария-Луиза Фомина", None]
IN = {
    0: "в понедельник",
    1: "во вторник",
    2: "в среду",
    3: "в четверг",
    4: "в пятницу",
    5: "в субботу",
    6: "в воскресенье",
}
ON = {
    0: "на понедельник",
    1: "на вторник",
    2: "на среду",
    3: "на четверг",
    4: "на пятницу",
    5: "на субботу",
    6: "на воскресенье",
}
MONTHS = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
WRONG = re.compile(r"\bв в\b|\bв вторник|\bна в\b|\bу мастера\b|\bс в\b|\s,|,,|\.\.|  ")


def days() -> list[dt.date]:
    """Three weeks from today (every weekday, near and far) and the first of every month of a year."""
    return [TODAY + dt.timedelta(days=i) for i in range(21)] + [dt.date(2027, m, 1) for m in range(1, 13)]


@pytest.mark.parametrize("day", days(), ids=str)
def test_days_take_the_right_preposition_and_case(day):
    delta = (day - TODAY).days
    if delta in (0, 1, 2):
        near = ["сегодня", "завтра", "послезавтра"][delta]
        assert (day_phrase(day, TODAY), day_phrase(day, TODAY, "на")) == (near, f"на {near}")
        return
    expected_date = f"{day.day} {MONTHS[day.month - 1]}"
    assert day_phrase(day, TODAY) == f"{IN[day.weekday()]}, {expected_date}"
    assert day_phrase(day, TODAY, "на") == f"{ON[day.weekday()]}, {expected_date}"
    at = dt.datetime.combine(day, dt.time(15, 30))
    assert when_phrase(at, TODAY) == f"{IN[day.weekday()]}, {expected_date}, в 15:30"


def test_near_days_need_no_comma_before_the_time():
    at = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(10))
    assert when_phrase(at, TODAY) == "завтра в 10:00" and when_phrase(at, TODAY, "на") == "на завтра на 10:00"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 услуг"),
        (1, "1 услуга"),
        (2, "2 услуги"),
        (4, "4 услуги"),
        (5, "5 услуг"),
        (11, "11 услуг"),
        (12, "12 услуг"),
        (14, "14 услуг"),
        (21, "21 услуга"),
        (22, "22 услуги"),
        (101, "101 услуга"),
        (111, "111 услуг"),
        (112, "112 услуг"),
    ],
)
def test_counts_take_the_right_plural(n, text):
    assert plural(n, "услуга", "услуги", "услуг") == text


def _templates(at: str, old_at: str, staff: str | None) -> list[Outcome]:
    base = {"service": "Мужская стрижка", "at": at, "old_at": old_at, "staff": staff, "price": 1300}
    return [
        Outcome("propose", {**base, "kind": "create", "name": "Анна"}),
        Outcome("propose", {**base, "kind": "reschedule"}),
        Outcome("propose", {**base, "kind": "cancel"}),
        Outcome("booked", base),
        Outcome("rescheduled", base),
        Outcome("cancelled", base),
        Outcome("time_taken", {**base, "alternatives": [{"at": at, "staff": staff}]}),
        Outcome("slots", {**base, "slots": [{"at": at, "staff": staff}]}),
        Outcome("staff_day", {"staff": staff or "Илья", "day": at[:10], "hours": [], "next_days": [old_at[:10]]}),
        Outcome("staff_day", {"staff": staff or "Илья", "day": at[:10], "hours": ["10:00–14:00"], "next_days": []}),
    ]


@pytest.mark.parametrize("staff", NAMES)
@pytest.mark.parametrize("day", days()[::2], ids=str)
def test_every_template_reads_as_russian(day, staff):
    at = dt.datetime.combine(day, dt.time(18)).isoformat()
    old_at = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(10)).isoformat()
    for outcome in _templates(at, old_at, staff):
        text = render(outcome, TODAY)
        assert not WRONG.search(text), (outcome.kind, text)
        if staff and outcome.kind in ("propose", "booked") and outcome.data.get("kind") != "cancel":
            assert f"мастер — {staff}" in text, text  # the name as written, never declined
        if (day - TODAY).days > 2 and outcome.kind in ("booked", "propose") and outcome.data.get("kind") != "cancel":
            assert IN[day.weekday()] in text or ON[day.weekday()] in text, text


def test_the_welcome_counts_services_in_good_russian():
    from aiadmin.core.models import Company
    from aiadmin.marketplace.post_activation import welcome_text

    company = Company(salon_id=1, title="Лилия")
    assert "(1 услуга в каталоге)" in welcome_text(company, 1)
    assert "(3 услуги в каталоге)" in welcome_text(company, 3)
    assert "(12 услуг в каталоге)" in welcome_text(company, 12)


@pytest.mark.parametrize(
    ("title", "said"),
    [
        ("Лилия", "Это администратор салона «Лилия»"),
        ("Салон красоты «Лилия»", "Это Салон красоты «Лилия»"),
        ('Студия "Бровь"', "Это Студия «Бровь»"),
        ("барбершоп Борода", "Это Барбершоп Борода"),
        ("Beauty Lab", "Это Beauty Lab"),
        ("«Мята»", "Это «Мята»"),
    ],
)
def test_a_salon_is_introduced_without_quotes_in_quotes_or_a_second_salon(title, said):
    assert salon_introduction(title) == said
    assert "««" not in said and "»»" not in said and "салона «Салон" not in said
