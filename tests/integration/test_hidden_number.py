"""A customer WhatsApp shows only by their LID (their number hidden, nobody's store knows it): answered in that
chat, asked for a phone only when the bot needs one (to book, move or cancel), and shown or changed only what was
booked in that chat — anyone can type anyone's number."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.conftest import PINNED_NOWS, wait_for
from tests.integration.conftest import NOTICES_TO, Chat, offered_times, records_by_us

# The day is not what these tests are about: one ordinary afternoon (the conversation tests walk every pin).
pytestmark = pytest.mark.parametrize("pinned_now", [PINNED_NOWS["year-end"]], indirect=True, ids=["afternoon"])
HIDDEN = "lid:201234567890123"
ASKS_FOR_PHONE = "WhatsApp не показывает нам ваш номер"


def test_a_hidden_number_is_answered_asked_for_a_phone_to_book_and_booked_at_the_number_it_gives(pinned_now, bot):
    customer = Chat(bot.stack, HIDDEN)
    prices = customer.say("Здравствуйте, сколько стоит мужская стрижка?")
    assert "Мужская стрижка — 1300 ₽" in prices and "номер" not in prices, "a price needs no phone"
    slots = customer.say("А завтра вечером есть время?")
    chosen = offered_times(slots)[0]
    proposal = customer.say(f"давайте в {chosen}")
    if "Как вас зовут" in proposal:
        proposal = customer.say("Пётр")
    assert "Подтверждаете?" in proposal, proposal

    asked = customer.say("да")
    assert asked.startswith(ASKS_FOR_PHONE) and "оформить запись" in asked, asked
    assert records_by_us(bot.stack) == [], "nothing is booked without a number"

    done = customer.say("мой номер 8 (916) 555-12-34")
    assert done.startswith("Готово! Вы записаны") and f"завтра в {chosen}" in done, done
    booked = records_by_us(bot.stack)
    assert len(booked) == 1 and booked[0]["client"]["phone"] == "+79165551234", "booked at the number given"

    mine = customer.say("какие у меня записи?")
    assert "Ваши записи" in mine and chosen in mine and ASKS_FOR_PHONE not in mine, "the number is kept"
    cancel = customer.say("отмените запись")
    assert "Отменить вашу запись" in cancel, cancel
    assert customer.say("да").endswith("отменена.") and records_by_us(bot.stack)[0]["deleted"] is True


def test_a_typed_number_never_shows_or_changes_bookings_made_elsewhere(pinned_now, bot):
    tomorrow = pinned_now.date().isoformat()
    theirs = [
        r
        for r in bot.stack.data.records.values()
        if r.get("client") and not r["deleted"] and r["datetime"][:10] > tomorrow
    ]
    victim = theirs[0]
    customer = Chat(bot.stack, HIDDEN)

    asked = customer.say("Какие у меня записи?")
    assert asked.startswith(ASKS_FOR_PHONE) and "найти вашу запись" in asked, asked
    shown = customer.say(victim["client"]["phone"])
    service, master = victim["services"][0]["title"], victim["staff"]["name"]
    day = datetime.fromisoformat(victim["datetime"]).day
    assert "только записи, сделанные здесь" in shown and "администратору" in shown, shown
    assert service not in shown and master not in shown and f" {day} " not in shown, "nothing of theirs is shown"

    cancel = customer.say("Отмените мою запись")
    assert "только записи, сделанные здесь" in cancel and "Отменить" not in cancel, cancel
    assert bot.stack.data.records[victim["id"]]["deleted"] is False
    assert victim["client"]["name"] not in " ".join(customer.replies()), "not even the name YCLIENTS has for it"

    customer.say("да, передайте")
    told = wait_for(lambda: [t for t in customer.replies(to=NOTICES_TO) if "просит администратора" in t], 10, "owner")
    assert "WhatsApp скрыл номер" in told[-1] and "Отмените мою запись" in told[-1], told[-1]


def test_a_new_wish_beside_the_number_wins_over_the_yes_that_waited_for_it(pinned_now, bot):
    customer = Chat(bot.stack, HIDDEN)
    slots = customer.say("Запишите на мужскую стрижку завтра вечером")
    first, other = offered_times(slots)[0], offered_times(slots)[1]
    proposal = customer.say(f"давайте в {first}")
    if "Как вас зовут" in proposal:
        proposal = customer.say("Пётр")
    assert customer.say("да").startswith(ASKS_FOR_PHONE)
    changed = customer.say(f"нет, лучше в {other}, мой номер 89165551234")
    assert records_by_us(bot.stack) == [], "the yes to the first time is void once the customer asks for another"
    assert f"в {other}" in changed and "Подтверждаете?" in changed, changed
    assert customer.say("да").startswith("Готово! Вы записаны"), "the number is kept: no second question"
    assert len(records_by_us(bot.stack)) == 1


def test_a_number_said_about_someone_else_is_not_taken_for_the_customers_own(pinned_now, bot):
    customer = Chat(bot.stack, HIDDEN)
    customer.say("Мой друг 8 916 555-12-34 советовал вас, сколько стоит мужская стрижка?")
    asked = customer.say("Какие у меня записи?")
    assert asked.startswith(ASKS_FOR_PHONE), "a number nobody asked for, said with more, is not theirs"
