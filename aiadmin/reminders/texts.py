"""What a reminder says, in Russian (or English when the customer writes in English): the salon, the service and
its price, the master, the day and time in words, the address, and what the customer can answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aiadmin.core.russian import price, when_phrase, with_master

ANSWERS_RU = "Ответьте, пожалуйста: 1 — подтверждаю, 2 — перенести, 3 — отменить."
ANSWERS_EN = "Please reply: 1 — I confirm, 2 — reschedule, 3 — cancel."


@dataclass(frozen=True)
class Visit:
    salon: str
    address: str | None
    service: str
    cost: float | None
    master: str | None
    at: dt.datetime  # salon-local
    today: dt.date  # salon-local
    name: str | None = None


def true_until(v: Visit, zone: dt.tzinfo) -> dt.datetime:
    """Until when a text about `v` written today stays true: its «сегодня/завтра» end at midnight, and nothing
    is worth saying once the visit has begun (a refused text is sent again only before this; UTC-aware)."""
    midnight = dt.datetime.combine(v.today + dt.timedelta(days=1), dt.time(0), zone)
    return min(midnight, v.at.replace(tzinfo=zone)).astimezone(dt.UTC)


def _where(v: Visit) -> str:
    return f"{v.salon}, {v.address}" if v.address else v.salon


def _what(v: Visit) -> str:
    cost = f" ({price(v.cost, v.cost)})" if v.cost else ""
    return f"«{v.service}»{cost}{with_master(v.master)}"


def day_before(v: Visit, language: str = "ru") -> str:
    if language == "en":
        hello = f"Hello, {v.name}!" if v.name else "Hello!"
        return (
            f"{hello} A reminder of your visit tomorrow at {v.at:%H:%M}: «{v.service}»"
            f"{f', with {v.master}' if v.master else ''}. {_where(v)}.\n{ANSWERS_EN}"
        )
    hello = f"Здравствуйте, {v.name}!" if v.name else "Здравствуйте!"
    return (
        f"{hello} Напоминаем о вашей записи {when_phrase(v.at, v.today)}: {_what(v)}.\n"
        f"Ждём вас: {_where(v)}.\n{ANSWERS_RU}"
    )


def two_hours(v: Visit, language: str = "ru") -> str:
    if language == "en":
        return (
            f"{v.name + ', w' if v.name else 'W'}e look forward to seeing you today at {v.at:%H:%M}: «{v.service}». "
            f"{_where(v)}.\nIf your plans have changed, reply 2 to reschedule or 3 to cancel."
        )
    lead = f"{v.name}, ждём" if v.name else "Ждём"
    return (
        f"{lead} вас {when_phrase(v.at, v.today)}: {_what(v)}.\n{_where(v)}.\n"
        "Если планы изменились, ответьте: 2 — перенести, 3 — отменить."
    )


def created(v: Visit) -> str:
    hello = f"Здравствуйте, {v.name}!" if v.name else "Здравствуйте!"
    return (
        f"{hello} Вы записаны {when_phrase(v.at, v.today)}: {_what(v)}.\n{_where(v)}.\n"
        "Если планы изменятся, ответьте: 2 — перенести, 3 — отменить."
    )


def moved(v: Visit, was: dt.datetime) -> str:
    return (
        f"Ваша запись «{v.service}» перенесена: теперь {when_phrase(v.at, v.today)}{with_master(v.master)} "
        f"(было {when_phrase(was, v.today)}).\n{_where(v)}.\n"
        "Если это время не подходит, ответьте: 2 — перенести, 3 — отменить."
    )


def master_changed(v: Visit) -> str:
    return (
        f"В вашей записи {when_phrase(v.at, v.today)} изменения: {_what(v)}.\n{_where(v)}.\n"
        "Если так не подходит, ответьте: 2 — перенести, 3 — отменить."
    )


def cancelled(v: Visit) -> str:
    return (
        f"Ваша запись «{v.service}» {when_phrase(v.at, v.today)} отменена салоном. "
        "Если хотите записаться на другое время — напишите, подберу."
    )


def answer_buttons(kind: str) -> list[str]:
    """The answers a Telegram or MAX reminder offers as buttons (WhatsApp shows the text alone)."""
    return ["1", "2", "3"] if kind == "day_before" else ["2", "3"]
