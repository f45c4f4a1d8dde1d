"""Connecting the salon's Telegram or MAX bot on the owner page: what a wrong token, another salon's bot, a
colleague without the owner's code and a removal do; and the owner answering a bot customer from the page."""

from __future__ import annotations

import requests

from aiadmin.channels import bots
from tests.conftest import GATEWAY, TELEGRAM_PORT, wait_for
from tests.integration.conftest import SALON
from tests.integration.helpers import owner_api, owner_token
from tests.integration.test_channels import MAX_TOKEN, TG_TOKEN, BotCustomer, connect


def test_a_connected_bot_points_its_webhook_at_the_salon_with_a_secret_and_keeps_the_token_sealed(bot, db, stack):
    shown = connect(TG_TOKEN)
    assert shown["link"] == f"https://t.me/{shown['username']}"
    standin = stack.bots.bots[TG_TOKEN]
    assert standin.webhook_url == f"{GATEWAY}/channels/telegram/{SALON}" and len(standin.secret or "") >= 32
    stored = db.collection(bots.BOT_LINKS).document(f"{SALON}_telegram").get().to_dict()
    assert TG_TOKEN not in str(stored) and standin.secret not in str(stored), "neither the token nor the secret"
    assert TG_TOKEN.split(":")[1] not in str(stored)


def test_a_wrong_token_a_malformed_one_and_another_salons_bot_are_refused_with_reasons(bot, db, stack):
    token = owner_token(SALON)
    malformed = owner_api("PUT", "channels/telegram", token, json={"bot_token": "not a token at all, no"})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "bad_bot_token"
    revoked = "7099999999:AAHk3v9Xc2QpLmN8rT5sYwZ0aBcDeFgRevok"
    requests.post(f"http://127.0.0.1:{TELEGRAM_PORT}/_standin/revoke/{revoked}", timeout=5)
    unknown = owner_api("PUT", "channels/telegram", token, json={"bot_token": revoked})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "bad_bot_token"
    extra = owner_api("PUT", "channels/telegram", token, json={"bot_token": TG_TOKEN, "chat_id": 1})
    assert extra.status_code == 400
    assert not db.collection(bots.BOT_LINKS).document(f"{SALON}_telegram").get().exists

    connect(TG_TOKEN)
    db.collection(bots.BOT_IDS).document(f"telegram_{TG_TOKEN.split(':')[0]}").set({"salon_id": 1})
    taken = owner_api("PUT", "channels/telegram", token, json={"bot_token": TG_TOKEN})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "bot_taken"


def test_a_colleague_without_the_owners_code_cannot_connect_or_remove_a_bot(bot, db):
    from devstack import yclients_demo_data as demo
    from tests.integration.helpers import follow_registration
    from tests.integration.test_owner_access import ADMIN, signed_for, token_of

    colleague = token_of(follow_registration(signed_for(ADMIN, [SALON], demo.company(SALON)["title"])))
    put = owner_api("PUT", "channels/telegram", colleague, json={"bot_token": TG_TOKEN})
    assert put.status_code == 403 and put.json()["error"]["code"] == "owner_code_required"
    connect(TG_TOKEN)
    assert owner_api("DELETE", "channels/telegram", colleague).status_code == 403
    assert owner_api("POST", "channels/telegram/owner-link", colleague).status_code == 403
    assert db.collection(bots.BOT_LINKS).document(f"{SALON}_telegram").get().exists


def test_removing_a_bot_deletes_its_webhook_and_its_link(bot, db, stack):
    connect(MAX_TOKEN, "max")
    assert stack.bots.bots[MAX_TOKEN].webhook_url
    gone = owner_api("DELETE", "channels/max", owner_token(SALON))
    assert gone.status_code == 200, gone.text
    assert stack.bots.bots[MAX_TOKEN].webhook_url is None
    assert not db.collection(bots.BOT_LINKS).document(f"{SALON}_max").get().exists
    again = owner_api("DELETE", "channels/max", owner_token(SALON))
    assert again.status_code == 404 and again.json()["error"]["code"] == "bot_not_connected"
    assert owner_api("PUT", "channels/viber", owner_token(SALON), json={"bot_token": MAX_TOKEN}).status_code == 404


def test_the_owner_reads_a_telegram_customers_conversation_and_answers_from_the_page(bot, db):
    connect(TG_TOKEN)
    customer = BotCustomer("telegram", TG_TOKEN, 1001, name="Анна")
    customer.say("Здравствуйте! Есть парковка у салона?")
    token = owner_token(SALON)
    conv = owner_api("GET", "conversations/tg:1001", token)
    assert conv.status_code == 200 and "парковка" in conv.json()["messages"][0]["text"], conv.text
    sent = owner_api("POST", "conversations/tg:1001/reply", token, json={"id": "reply-0001", "text": "Да, во дворе."})
    assert sent.status_code == 200, sent.text
    wait_for(lambda: [m for m in customer.received() if m["text"] == "Да, во дворе."], 10, "the owner's answer")
    customer.send(text="Спасибо!")
    bot.stack.dispatcher.wait_idle()
    assert customer.received()[-1]["text"] == "Да, во дворе.", "the bot keeps out while a person answers"


def _bind_owner(token: str, owner_id: int = 5005) -> BotCustomer:
    code = owner_api("POST", "channels/telegram/owner-link", owner_token(SALON)).json()["link"].split("=", 1)[1]
    owner = BotCustomer("telegram", token, owner_id, name="Владелец")
    owner.say(f"/start {code}")
    return owner


def test_the_owners_chat_survives_a_reconnect_and_goes_with_its_bot(bot, db, stack):
    from aiadmin.core import repositories

    connect(TG_TOKEN)
    _bind_owner(TG_TOKEN)
    connect(TG_TOKEN)  # the same bot again (a token pasted twice)
    assert repositories.get_company(db, SALON).owner_bot_chat == "tg:5005"
    assert bots.get_link(db, SALON, "telegram").owner_chat == "tg:5005"

    other = "7098765432:AAHk3v9Xc2QpLmN8rT5sYwZ0aBcDeFgOther"
    connect(other)  # the salon switches to another bot: the old one is let go
    assert repositories.get_company(db, SALON).owner_bot_chat is None
    assert stack.bots.bots[TG_TOKEN].webhook_url is None, "the old bot's webhook is deleted"
    assert not db.collection(bots.BOT_IDS).document(f"telegram_{TG_TOKEN.split(':')[0]}").get().exists


def test_a_revoked_token_marks_the_bot_broken_and_the_reminder_takes_whatsapp(bot, db, stack):
    from aiadmin.whatsapp.chat import SendRequest, queue_send

    connect(TG_TOKEN)
    customer = BotCustomer("telegram", TG_TOKEN, 1001)
    customer.say("Здравствуйте")
    stack.bots.revoked.add(TG_TOKEN)
    from aiadmin.core.settings import get_settings
    from aiadmin.core.task_queue import get_task_queue

    request = SendRequest(
        key="probe-revoked", salon_id=SALON, phone="tg:1001", text="Напоминание", fallbacks=["79035557788"]
    )
    queue_send(get_task_queue(), get_settings().session_host_url, request)
    wait_for(lambda: [m for m in bot.outbox() if m["to"] == "79035557788" and m["text"] == "Напоминание"], 10, "WA")
    assert bots.get_link(db, SALON, "telegram").broken, "the owner page says the bot stopped working"


def test_uninstalling_lets_the_salons_bots_go(bot, db, stack):
    from tests.integration.test_webhooks import lifecycle

    connect(TG_TOKEN)
    connect(MAX_TOKEN, "max")
    assert lifecycle("uninstall").status_code == 200
    wait_for(lambda: not bots.links(db, SALON), 10, "the links dropped")
    assert stack.bots.bots[TG_TOKEN].webhook_url is None and stack.bots.bots[MAX_TOKEN].webhook_url is None
    assert not list(db.collection(bots.BOT_IDS).stream()), "the bots are free for a salon that connects them"
