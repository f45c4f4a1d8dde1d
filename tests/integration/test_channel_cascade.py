"""Which channel a salon's own message takes (reminders, owner notices), what a refusal does, and the bot webhook's
guard: all through the real gateway, the simulated WhatsApp and the Telegram stand-in, on a pinned Wednesday."""

from __future__ import annotations

import requests

from aiadmin.core import repositories
from tests.conftest import GATEWAY, wait_for
from tests.integration.conftest import NOTICES_TO, SALON, SID
from tests.integration.helpers import collection_size, owner_api, owner_token
from tests.integration.test_channels import TG_TOKEN, BotCustomer, connect
from tests.integration.test_reminders import client_of, planned, run, salon_books, wednesday  # noqa: F401


def _shares_number(customer: BotCustomer, phone: str) -> None:
    """The customer asks for their bookings and shares their number with the button the bot offers."""
    asked = customer.say("Какие у меня записи?")
    assert "нужен ваш номер телефона" in asked["text"], asked
    customer.say(contact={"phone_number": f"+{phone}"})


def test_a_reminder_for_a_customer_who_never_wrote_to_the_bot_goes_to_whatsapp(wednesday, bot, db):  # noqa: F811
    connect(TG_TOKEN)
    customer = client_of(bot.stack, 3)
    record = salon_books(bot.stack, customer)
    run(planned(record["id"])["day_before"])
    phone = str(customer["phone"])
    sent = wait_for(lambda: [m for m in bot.outbox() if m["to"] == phone], 10, "the WhatsApp reminder")
    assert "Ответьте, пожалуйста" in sent[-1]["text"]
    assert requests.get(f"{GATEWAY}/simulator/telegram/{TG_TOKEN}/sent", timeout=10).json() == []


def test_a_customer_on_telegram_gets_the_reminder_there_and_a_whatsapp_refusal_falls_through_to_telegram(
    wednesday,  # noqa: F811
    bot,
    db,
):
    connect(TG_TOKEN)
    first, second = client_of(bot.stack, 4), client_of(bot.stack, 5)
    for n, who in enumerate((first, second)):
        _shares_number(BotCustomer("telegram", TG_TOKEN, 3001 + n), str(who["phone"]))

    # By default the channel the customer last wrote on comes first: Telegram.
    record = salon_books(bot.stack, first)
    run(planned(record["id"])["day_before"])
    tg = BotCustomer("telegram", TG_TOKEN, 3001)
    wait_for(lambda: [m for m in tg.received() if "Ответьте, пожалуйста" in m["text"]], 10, "the Telegram reminder")
    assert not [m for m in bot.outbox() if m["to"] == str(first["phone"])], "one reminder, on one channel"

    # The owner puts WhatsApp first; WhatsApp refuses (463): the reminder falls through to Telegram, once.
    assert owner_api("PUT", "settings", owner_token(SALON), json={"channel_order": ["whatsapp", "telegram"]}).ok
    phone = str(second["phone"])
    requests.post(f"{GATEWAY}/simulator/refuse", json={"phone": phone}, timeout=10).raise_for_status()
    record = salon_books(bot.stack, second)
    task = planned(record["id"])["day_before"]
    run(task)
    other = BotCustomer("telegram", TG_TOKEN, 3002)
    got = wait_for(lambda: [m for m in other.received() if "Ответьте, пожалуйста" in m["text"]], 10, "fell through")
    assert len(got) == 1
    stored = db.collection("reminders").document(task["name"]).get().to_dict()
    assert (
        stored["via"] == "telegram"
        and stored["tried"][0]["chat"] == "whatsapp"
        and "463" in stored["tried"][0]["error"]
    )
    assert not [t for t in bot.replies(to=NOTICES_TO) if "не доставил" in t], "delivered: nothing for the owner"
    assert repositories.get_company(db, SALON).reminders_refused == 0


def test_the_owners_notices_go_to_their_telegram_when_whatsapp_is_logged_out(wednesday, bot, db):  # noqa: F811
    connect(TG_TOKEN)
    link = owner_api("POST", "channels/telegram/owner-link", owner_token(SALON))
    assert link.status_code == 200, link.text
    code = link.json()["link"].split("?start=", 1)[1]
    owner = BotCustomer("telegram", TG_TOKEN, 5005, name="Владелец")
    bound = owner.say(f"/start {code}")
    assert bound["text"].startswith("Готово: уведомления AI Admin")
    assert repositories.get_company(db, SALON).owner_bot_chat == "tg:5005"
    stranger = BotCustomer("telegram", TG_TOKEN, 6006)
    reused = stranger.say(f"/start {code}")
    assert "Готово: уведомления" not in reused["text"], "a start link binds once"
    assert repositories.get_company(db, SALON).owner_bot_chat == "tg:5005"

    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/logout", timeout=10)
    told = wait_for(lambda: [m for m in owner.received() if "WhatsApp салона отключён" in m["text"]], 15, "told")
    assert len(told) == 1


def test_a_webhook_call_with_a_wrong_secret_is_refused_and_stores_nothing(bot, db):
    connect(TG_TOKEN)
    before = collection_size(db, "conversations")
    update = {
        "update_id": 77,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 9, "type": "private"},
            "from": {"id": 9, "is_bot": False, "first_name": "X"},
            "text": "привет",
        },
    }
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, {}):
        resp = requests.post(f"{GATEWAY}/channels/telegram/{SALON}", json=update, headers=headers, timeout=10)
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "bad_webhook_secret"
    resp = requests.post(f"{GATEWAY}/channels/telegram/999999", json=update, timeout=10)
    assert resp.status_code == 401, "a salon without a bot answers as a wrong secret does"
    bot.stack.dispatcher.wait_idle()
    assert collection_size(db, "conversations") == before
    assert not db.collection("conversations").document(f"{SALON}_tg:9").get().exists


def test_telegram_delivering_one_update_three_times_gets_one_reply(bot, db):
    connect(TG_TOKEN)
    customer = BotCustomer("telegram", TG_TOKEN, 4004)
    customer.send(text="Сколько стоит мужская стрижка?", times=3)
    wait_for(lambda: customer.received(), 15, "the reply")
    bot.stack.dispatcher.wait_idle()
    assert len(customer.received()) == 1


def test_a_colleagues_access_code_goes_to_the_owners_telegram_once_bound(wednesday, bot, db):  # noqa: F811
    import re

    from devstack import yclients_demo_data as demo
    from tests.integration.helpers import follow_registration
    from tests.integration.test_owner_access import ADMIN, api, signed_for, token_of

    connect(TG_TOKEN)
    code = owner_api("POST", "channels/telegram/owner-link", owner_token(SALON)).json()["link"].split("=", 1)[1]
    owner = BotCustomer("telegram", TG_TOKEN, 5005, name="Владелец")
    owner.say(f"/start {code}")
    colleague = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    refused = api("GET", "page", colleague).json()["error"]
    assert refused["code"] == "owner_code_required" and refused["details"]["to"] == "Telegram"
    sent = api("POST", "access-code", colleague)
    assert sent.status_code == 200 and sent.json()["to"] == "Telegram", sent.text
    text = wait_for(lambda: [m["text"] for m in owner.received() if "Код для входа" in m["text"]], 10, "the code")[-1]
    assert api("POST", "access-code/verify", colleague, json={"code": re.search(r"\b(\d{6})\b", text).group(1)}).ok
    assert api("GET", "page", colleague).status_code == 200
    assert not [t for t in bot.replies(to=NOTICES_TO) if "Код для входа" in t], "not also to WhatsApp"
    stored = db.collection("conversations").document(f"{SALON}_tg:5005").collection("messages").stream()
    assert not [m for m in stored if "Код для входа" in (m.to_dict() or {}).get("text", "")], "the code is not kept"


def test_a_customer_who_blocked_the_bot_gets_the_reminder_on_whatsapp(wednesday, bot, db):  # noqa: F811
    connect(TG_TOKEN)
    who = client_of(bot.stack, 6)
    phone = str(who["phone"])
    customer = BotCustomer("telegram", TG_TOKEN, 3003)
    _shares_number(customer, phone)
    requests.post(f"{GATEWAY}/simulator/telegram/{TG_TOKEN}/block", json={"chat_id": 3003}, timeout=10)
    record = salon_books(bot.stack, who)
    task = planned(record["id"])["day_before"]
    run(task)
    sent = wait_for(lambda: [m for m in bot.outbox() if m["to"] == phone], 10, "the reminder on WhatsApp")
    assert len(sent) == 1 and "Ответьте, пожалуйста" in sent[0]["text"]
    stored = db.collection("reminders").document(task["name"]).get().to_dict()
    assert stored["via"] == "whatsapp" and stored["tried"][0]["chat"] == "telegram"
    assert "blocked" in stored["tried"][0]["error"].lower()
