"""The salon's Telegram and MAX bots, through the real gateway and the messengers' stand-ins (real HTTP servers
with the real API paths): connected on the owner page, customers answered there, asked for their number only to
book, booked at the number they share, reminded there, and the cascade between channels."""

from __future__ import annotations

import pytest
import requests

from aiadmin.reminders import delivery
from aiadmin.sync import documents as d
from aiadmin.sync.reminder_plan import ReminderTask
from tests.conftest import GATEWAY, PINNED_NOWS, wait_for
from tests.integration.conftest import SALON, Chat, offered_times, records_by_us
from tests.integration.helpers import owner_api, owner_token

pytestmark = pytest.mark.parametrize("pinned_now", [PINNED_NOWS["year-end"]], indirect=True, ids=["afternoon"])

TG_TOKEN = "7012345678:AAHk3v9Xc2QpLmN8rT5sYwZ0aBcDeFgHiJk"
MAX_TOKEN = "f9LHodD0cOKZ7Rk3nA6Jq2WbE8sTvXyU1mPzGhQi"


class BotCustomer:
    """A customer writing to the salon's bot from their messenger, through the gateway's simulator."""

    def __init__(self, channel: str, token: str, user_id: int, name: str = "Анна"):
        self.channel, self.token, self.id, self.name = channel, token, user_id, name
        self.base = f"{GATEWAY}/simulator/{channel}/{token}"
        self.seen = len(self.received())

    def received(self) -> list[dict]:
        sent = requests.get(f"{self.base}/sent", timeout=10).json()
        return [m for m in sent if m["chat_id"] == self.id]

    def send(self, **body) -> dict:
        resp = requests.post(
            f"{self.base}/updates", json={"from": {"id": self.id, "first_name": self.name}, **body}, timeout=30
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def say(self, text: str | None = None, **body) -> dict:
        self.send(**({"text": text} if text is not None else {}), **body)
        wait_for(lambda: len(self.received()) > self.seen, 15, f"a reply to {text or body!r}")
        self.seen = len(self.received())
        return self.received()[-1]


def connect(token: str, channel: str = "telegram") -> dict:
    resp = owner_api("PUT", f"channels/{channel}", owner_token(SALON), json={"bot_token": token})
    assert resp.status_code == 200, resp.text
    return resp.json()["bot"]


def _keyboard(message: dict) -> list[str]:
    """The buttons under a message, as the customer sees them (a Telegram reply keyboard or MAX buttons)."""
    markup = message.get("reply_markup") or {}
    rows = markup.get("keyboard") or []
    for attachment in message.get("attachments") or []:
        rows = rows or attachment["payload"]["buttons"]
    return [b["text"] for row in rows for b in row]


def _asks_contact(message: dict) -> bool:
    markup = message.get("reply_markup") or {}
    tg = any(b.get("request_contact") for row in markup.get("keyboard") or [] for b in row)
    mx = any(
        b["type"] == "request_contact"
        for a in message.get("attachments") or []
        for row in a["payload"]["buttons"]
        for b in row
    )
    return tg or mx


def _remind(db, record_id: int) -> str:
    """The day-before reminder of a booking fires (its Cloud Task, due now)."""
    snap = db.collection("companies").document(str(SALON)).collection(d.BOOKINGS).document(str(record_id)).get()
    at = d.BookingDoc.model_validate(snap.to_dict()).starts_at
    task = ReminderTask(salon_id=SALON, record_id=record_id, kind="day_before", at=at)
    from aiadmin.core.settings import get_settings
    from aiadmin.core.task_queue import get_task_queue

    return delivery.deliver(db, task, get_task_queue(), get_settings())


@pytest.mark.parametrize("channel,token,user", [("telegram", TG_TOKEN, 1001), ("max", MAX_TOKEN, 2001)])
def test_a_customer_of_the_salons_bot_gets_prices_books_with_a_shared_number_and_confirms_the_reminder(
    pinned_now, bot, db, channel, token, user
):
    shown = connect(token, channel)
    assert shown["username"].endswith("_bot") and shown["qr"].startswith("data:image/png;base64,")
    customer = BotCustomer(channel, token, user)

    price = customer.say("Здравствуйте, сколько стоит мужская стрижка?")
    assert "Мужская стрижка — 1300 ₽" in price["text"] and "номер" not in price["text"], "a price needs no phone"
    assert not _asks_contact(price)

    slots = customer.say("Запишите на мужскую стрижку завтра вечером")
    chosen = offered_times(slots["text"])[0]
    proposal = customer.say(f"давайте в {chosen}")
    if "Как вас зовут" in proposal["text"]:
        proposal = customer.say("Анна")
    assert "Подтверждаете?" in proposal["text"], proposal
    asked = customer.say("да")
    assert "нужен ваш номер телефона" in asked["text"] and _asks_contact(asked), asked
    assert records_by_us(bot.stack) == [], "nothing is booked without a number"

    done = customer.say(contact={"phone_number": "+7 916 555-12-34"})
    assert done["text"].startswith("Готово! Вы записаны") and f"завтра в {chosen}" in done["text"], done
    booked = records_by_us(bot.stack)
    assert len(booked) == 1 and booked[0]["client"]["phone"] == "+79165551234", "booked at the number shared"

    assert _remind(db, booked[0]["id"]) == "sent"
    reminder = wait_for(lambda: [m for m in customer.received() if "Ответьте, пожалуйста" in m["text"]], 10, "reminder")
    assert _keyboard(reminder[-1]) == ["1", "2", "3"]
    customer.seen = len(customer.received())
    confirmed = customer.say("1")
    assert confirmed["text"].startswith("Спасибо, что подтвердили"), confirmed
    assert bot.stack.data.records[booked[0]["id"]]["attendance"] == 2
    assert not [m for m in Chat(bot.stack, "79165551234").replies()], "nothing went to WhatsApp"
