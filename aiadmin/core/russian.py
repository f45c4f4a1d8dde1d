"""Russian as a native speaker writes it, for the bot's templated replies: days with the right preposition and
case («во вторник», «в среду», «на субботу»), dates in the genitive («1 декабря»), numbers with the right plural
(«1 услуга», «2 услуги», «5 услуг»). Names are never declined: a construction that needs no case is used instead
(«мастер — Дмитрий Козлов»), since a wrong ending on a person's name is worse than a plain phrase."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

Preposition = Literal["в", "на"]

# Weekdays after «в» / «во» (accusative) and after «на» (the same form).
WEEKDAY_ACC = ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"]
MONTH_GEN = [
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


def date_text(day: dt.date) -> str:
    """«1 декабря»."""
    return f"{day.day} {MONTH_GEN[day.month - 1]}"


def _v(word: str) -> str:
    """«в» takes an «о» before a cluster starting with в/ф + consonant: «во вторник», but «в среду»."""
    return "во" if word[:1] in "вф" and word[1:2] not in "аеёиоуыэюя" else "в"


def day_phrase(day: dt.date, today: dt.date, prep: Preposition = "в") -> str:
    """When a thing happens: «сегодня», «завтра», «послезавтра», «во вторник, 1 декабря»; with `prep="на"`
    the target of a move or booking: «на сегодня», «на завтра», «на вторник, 1 декабря»."""
    delta = (day - today).days
    near = {0: "сегодня", 1: "завтра", 2: "послезавтра"}.get(delta)
    if near:
        return near if prep == "в" else f"на {near}"
    weekday = WEEKDAY_ACC[day.weekday()]
    lead = _v(weekday) if prep == "в" else "на"
    return f"{lead} {weekday}, {date_text(day)}"


def when_phrase(at: dt.datetime, today: dt.date, prep: Preposition = "в") -> str:
    """«завтра в 10:00», «во вторник, 1 декабря, в 10:00», «на завтра, на 10:00»."""
    day = day_phrase(at.date(), today, prep)
    comma = "," if "," in day else ""  # a date in apposition is closed by a comma before the time
    return f"{day}{comma} {'на' if prep == 'на' else 'в'} {at:%H:%M}"


def plural(n: int, one: str, few: str, many: str) -> str:
    """«1 услуга», «2 услуги», «5 услуг», «11 услуг», «21 услуга»."""
    if n % 10 == 1 and n % 100 != 11:
        word = one
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = few
    else:
        word = many
    return f"{n} {word}"


def price(p_min: float, p_max: float) -> str:
    """«1300 ₽», «1800–2500 ₽»: the same in every language the bot answers in."""
    lo, hi = int(p_min), int(p_max)
    return f"{lo} ₽" if hi <= lo else f"{lo}–{hi} ₽"


def with_master(name: str | None) -> str:
    """«, мастер — Дмитрий Козлов»: no declension of a person's name."""
    return f", мастер — {name}" if name else ""


# A salon title that already says what kind of place it is («Салон красоты «Лилия»», «Барбершоп Борода»).
_KIND = re.compile(
    r"^(салон|студи|барбершоп|парикмахерск|центр|клиник|школ|мастерск|спа\b|бьюти|ногтев|beauty|barber|nail|brow|spa\b)",
    re.IGNORECASE,
)


def salon_introduction(title: str) -> str:
    """«Это администратор салона «Лилия»» — or, for a title that names its kind or carries its own quotes, the
    title as it is («Это Салон красоты «Лилия»»): never quotes inside quotes, never «салона «Салон…»»."""
    name = re.sub(r'"([^"]+)"', r"«\1»", title.strip())  # straight quotes as Russian ones
    if _KIND.match(name) or "«" in name:
        return f"Это {name[0].upper()}{name[1:]}"
    return f"Это администратор салона «{name}»"


def duration_text(minutes: int) -> str:
    """45 → «45 мин», 120 → «2 ч», 90 → «1 ч 30 мин»."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} мин"
    return f"{hours} ч" + (f" {rest} мин" if rest else "")
