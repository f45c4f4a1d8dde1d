"""The Telegram and MAX clients against their stand-ins served on loopback (real HTTP, the real paths): what a
blocked customer, an unknown chat, a revoked token and a dead server become; how each messenger's updates are read
(whose number a shared contact is, a deep link's payload, groups ignored); and the sealed tokens."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from aiadmin.channels.bot_api import BadToken, BotRefused, BotUnavailable, SendUnknown
from aiadmin.channels.max_api import MaxBot
from aiadmin.channels.max_api import parse_update as parse_max
from aiadmin.channels.telegram_api import TelegramBot
from aiadmin.channels.telegram_api import parse_update as parse_telegram
from aiadmin.core import secret_box
from aiadmin.core.errors import ConfigurationError
from aiadmin.core.settings import Settings
from devstack import bot_standin, max_standin, telegram_standin

TG = "7012345678:AAHk3v9Xc2QpLmN8rT5sYwZ0aBcDeFgHiJk"
MX = "f9LHodD0cOKZ7Rk3nA6Jq2WbE8sTvXyU1mPzGhQi"


@pytest.fixture
def servers() -> Iterator[tuple[str, str, bot_standin.StandinState]]:
    state = bot_standin.StandinState()
    started = []
    for app in (telegram_standin.create_app(state), max_standin.create_app(state)):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    tg, mx = (f"http://127.0.0.1:{s.server_port}" for s in started)
    yield tg, mx, state
    for server in started:
        server.shutdown()


def test_telegram_blocked_unknown_chat_revoked_token_and_a_dead_server_are_told_apart(servers):
    tg_base, _, state = servers
    bot = TelegramBot(TG, tg_base, 3)
    assert bot.me().username.endswith("_bot")
    standin = state.bot(TG, int(TG.split(":")[0]))
    with pytest.raises(BotRefused, match=r"(?i)chat not found"):
        bot.send(1001, "Здравствуйте", [], False)
    standin.written.add(1001)
    assert bot.send(1001, "Здравствуйте", ["1", "2", "3"], False)
    assert standin.sent[-1]["reply_markup"]["keyboard"] == [[{"text": "1"}, {"text": "2"}, {"text": "3"}]]
    bot.send(1001, "Номер?", [], True)
    assert standin.sent[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    standin.blocked.add(1001)
    with pytest.raises(BotRefused, match=r"(?i)blocked"):
        bot.send(1001, "Напоминание", [], False)
    state.revoked.add(TG)
    with pytest.raises(BadToken):
        bot.me()
    with pytest.raises(BotUnavailable):
        TelegramBot(TG, "http://127.0.0.1:9", 1).me()


def test_max_sends_with_the_token_in_the_header_and_maps_its_errors(servers):
    _, max_base, state = servers
    bot = MaxBot(MX, max_base, 3)
    info = bot.me()
    standin = state.bot(MX)
    assert info.id == standin.id
    bot.set_webhook("http://127.0.0.1:1/channels/max/1", "s3cret-s3cret")
    assert standin.webhook_url and standin.secret == "s3cret-s3cret"
    with pytest.raises(BotRefused, match=r"chat\.not\.found"):
        bot.send(2001, "Здравствуйте", [], False)
    standin.written.add(2001)
    mid = bot.send(2001, "Номер?", [], True)
    assert mid.startswith("mid.") and standin.sent[-1]["attachments"][0]["payload"]["buttons"][0][0]["type"] == (
        "request_contact"
    )
    bot.send(2001, "Подтвердите", ["1", "2", "3"], False)
    assert [b["type"] for b in standin.sent[-1]["attachments"][0]["payload"]["buttons"][0]] == ["message"] * 3
    standin.blocked.add(2001)
    with pytest.raises(BotRefused, match=r"chat\.denied"):
        bot.send(2001, "Напоминание", [], False)
    bot.delete_webhook("http://127.0.0.1:1/channels/max/1")
    assert standin.webhook_url is None
    state.revoked.add(MX)
    with pytest.raises(BadToken):
        bot.me()


def test_a_send_that_times_out_is_unknown_not_retried():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(SendUnknown):
            MaxBot(MX, base, 0.5).send(1, "x", [], False)
        with pytest.raises(BotUnavailable):  # reading who the bot is may be asked again
            MaxBot(MX, base, 0.5).me()
    finally:
        listener.close()


def _tg_message(**message) -> dict:
    base = {
        "message_id": 5,
        "date": 1767225600,
        "chat": {"id": 1001, "type": "private"},
        "from": {"id": 1001, "is_bot": False, "first_name": "Анна", "last_name": "Ким"},
    }
    return {"update_id": 42, "message": {**base, **message}}


def test_telegram_updates_are_read_for_who_wrote_what_and_whose_number_it_is():
    said = parse_telegram(_tg_message(text="Сколько стоит стрижка?"))
    assert said is not None and (said.update_id, said.chat_id, said.name) == ("42", 1001, "Анна Ким")
    own = parse_telegram(_tg_message(contact={"phone_number": "+79161234567", "first_name": "А", "user_id": 1001}))
    assert own is not None and own.contact_phone == "+79161234567"
    card = parse_telegram(_tg_message(contact={"phone_number": "+79990001122", "first_name": "Б", "user_id": 7}))
    assert card is not None and card.contact_phone is None and card.text == "+79990001122", "someone else's card"
    start = parse_telegram(_tg_message(text="/start abc_DEF-123"))
    assert start is not None and start.start == "abc_DEF-123" and start.text == ""
    hello = parse_telegram(_tg_message(text="/start"))
    assert hello is not None and hello.start is None and hello.text == "Здравствуйте"
    voice = parse_telegram(_tg_message(voice={"file_id": "v", "file_unique_id": "u", "duration": 3}))
    assert voice is not None and voice.media == "voice"
    group = _tg_message(text="всем привет")
    group["message"]["chat"] = {"id": -100, "type": "group"}
    assert parse_telegram(group) is None
    assert parse_telegram({"update_id": 43, "edited_message": _tg_message(text="x")["message"]}) is None


def _max_message(body: dict, chat_type: str = "dialog") -> dict:
    sender = {"user_id": 2001, "first_name": "Анна", "is_bot": False}
    message = {
        "sender": sender,
        "recipient": {"chat_id": 2001, "chat_type": chat_type, "user_id": 99},
        "timestamp": 1767225600000,
        "body": {"mid": "mid.0001", "seq": 1, **body},
    }
    return {"update_type": "message_created", "timestamp": 1767225600000, "message": message}


def test_max_updates_are_read_and_a_shared_card_counts_as_a_typed_number():
    said = parse_max(_max_message({"text": "Есть время завтра?"}))
    assert said is not None and (said.update_id, said.chat_id, said.text) == ("mid.0001", 2001, "Есть время завтра?")
    vcf = "BEGIN:VCARD\nVERSION:3.0\nTEL;TYPE=cell:+79161234567\nEND:VCARD"
    # MAX's hash that would prove a card is the account's own cannot be checked: every card is a typed number.
    own = {"type": "contact", "payload": {"vcf_info": vcf, "hash": "h", "max_info": {"user_id": 2001}}}
    shared = parse_max(_max_message({"attachments": [own]}))
    assert shared.contact_phone is None and shared.text == "+79161234567"
    other = {"type": "contact", "payload": {"vcf_info": vcf, "hash": "h", "max_info": {"user_id": 5}}}
    card = parse_max(_max_message({"attachments": [other]}))
    assert card.contact_phone is None and card.text == "+79161234567"
    assert parse_max(_max_message({"text": "всем"}, chat_type="chat")) is None
    started = parse_max(
        {"update_type": "bot_started", "timestamp": 5, "chat_id": 2001, "user": {"user_id": 2001}, "payload": "code"}
    )
    assert started is not None and started.start == "code" and started.chat_id == 2001


def test_a_sealed_token_opens_only_in_its_own_salon_and_never_shows_in_the_document():
    box = secret_box.LocalWrapper("local-key-for-tests")
    sealed = secret_box.seal(TG, "telegram:962302", box)
    assert TG not in sealed.model_dump_json() and TG.split(":")[1] not in sealed.model_dump_json()
    assert secret_box.open_sealed(sealed, "telegram:962302", box) == TG
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.open_sealed(sealed, "telegram:962303", box)  # copied into another salon's link
    tampered = sealed.model_copy(update={"ciphertext": sealed.ciphertext[:-4] + "AAA="})
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.open_sealed(tampered, "telegram:962302", box)
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.open_sealed(sealed, "telegram:962302", secret_box.LocalWrapper("another key"))
    assert secret_box.seal(TG, "telegram:962302", box).ciphertext != sealed.ciphertext, "a fresh data key each time"


def test_a_deployed_environment_without_a_kms_key_refuses_to_keep_tokens():
    with pytest.raises(ConfigurationError, match="SECRETS_KMS_KEY"):
        secret_box._wrapper(Settings(env="prod", local_secret_key="dev-only-x"))
    assert secret_box._wrapper(Settings(env="local", local_secret_key="x")).name == "local"


def test_no_log_line_carries_a_bot_token(servers):
    """httpx logs each request's URL at INFO, and a Telegram URL carries the token: it must stay quiet."""
    import io
    import logging

    from aiadmin.core.logs import configure_logging

    tg_base, max_base, state = servers
    configure_logging("INFO")  # what every function does at import
    root, lines = logging.getLogger(), io.StringIO()
    handler = logging.StreamHandler(lines)
    root.addHandler(handler)
    try:
        TelegramBot(TG, tg_base, 3).me()
        MaxBot(MX, max_base, 3).me()
        state.revoked.add(TG)
        with pytest.raises(BadToken):
            TelegramBot(TG, tg_base, 3).me()
    finally:
        root.removeHandler(handler)
    assert TG.split(":")[1] not in lines.getvalue() and MX not in lines.getvalue()


def test_a_send_that_never_reached_the_messenger_is_tried_again_not_called_unknown():
    with pytest.raises(BotUnavailable):
        TelegramBot(TG, "http://127.0.0.1:9", 1).send(1, "x", [], False)
    with pytest.raises(BotUnavailable):
        MaxBot(MX, "http://127.0.0.1:9", 1).send(1, "x", [], False)
