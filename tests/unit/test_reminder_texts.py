"""What reminders and notices say: every fact the customer needs, the answers they can give, and Russian without
the template slips the dialogue checks catch («в в», «в вторник», holes)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from aiadmin.reminders import texts

TODAY = dt.date(2026, 11, 30)  # a Monday


def visit(at: dt.datetime, **kw) -> texts.Visit:
    base = dict(
        salon="Салон красоты «Лилия»",
        address="Москва, ул. Тверская, д. 12, стр. 1",
        service="Укладка",
        cost=1200,
        master="Анна Соколова",
        at=at,
        today=TODAY,
        name="Ольга",
    )
    return texts.Visit(**{**base, **kw})


TOMORROW_3PM = dt.datetime(2026, 12, 1, 15, 0)  # a Tuesday
SLIPS = re.compile(r"\bв в\b|\bв вторник|None|\{|\}|[^\S\n]{2,}|\s[,.!?]")


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        (
            texts.day_before(visit(TOMORROW_3PM)),
            [
                "Здравствуйте, Ольга!",
                "завтра в 15:00",
                "«Укладка» (1200 ₽)",
                "мастер — Анна Соколова",
                "Тверская",
                "1 — подтверждаю, 2 — перенести, 3 — отменить",
            ],
        ),
        (
            texts.two_hours(visit(dt.datetime(2026, 11, 30, 15, 0))),
            ["Ольга, ждём вас сегодня в 15:00", "«Укладка»", "2 — перенести, 3 — отменить"],
        ),
        (
            texts.created(visit(dt.datetime(2026, 12, 3, 11, 30), name=None)),
            ["Здравствуйте!", "Вы записаны в четверг, 3 декабря, в 11:30", "Тверская"],
        ),
        (
            texts.moved(visit(TOMORROW_3PM), dt.datetime(2026, 12, 3, 11, 30)),
            [
                "«Укладка» перенесена: теперь завтра в 15:00, мастер — Анна Соколова",
                "(было в четверг, 3 декабря, в 11:30)",
            ],
        ),
        (texts.master_changed(visit(TOMORROW_3PM)), ["завтра в 15:00 изменения", "мастер — Анна Соколова"]),
        (texts.cancelled(visit(TOMORROW_3PM)), ["«Укладка» завтра в 15:00 отменена салоном"]),
        (texts.day_before(visit(TOMORROW_3PM), "en"), ["Hello, Ольга!", "tomorrow at 15:00", "1 — I confirm"]),
    ],
)
def test_each_text_says_what_the_customer_needs_in_clean_language(text, facts):
    for fact in facts:
        assert fact in text, (fact, text)
    assert not SLIPS.search(text), text


def test_a_day_after_tomorrow_on_a_tuesday_takes_во():
    text = texts.day_before(visit(dt.datetime(2026, 12, 8, 10, 0)))  # a Tuesday a week on
    assert "во вторник, 8 декабря, в 10:00" in text, text
