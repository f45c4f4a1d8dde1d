"""The real google-genai client against the scripted Gemini-compatible server, through the whole stack: Stage 1's
JSON is executed, a plain question costs one model call, a reply needing words costs two, and every failure of
the model (down, slow, off-schema, claiming an action that did not happen) falls back to the rules."""

from __future__ import annotations

import time

import pytest
import requests

from aiadmin.whatsapp import voice_notes
from devstack import voice_fixtures
from tests.conftest import GATEWAY, wait_for
from tests.integration.conftest import CUSTOMER, SALON, SID, records_by_us
from tests.integration.helpers import owner_api, owner_token


def prices_command(service: str = "маникюр") -> dict:
    return {"json": {"commands": [{"type": "show_prices", "service": service}]}}


def test_stage1_json_is_executed_and_a_plain_question_is_one_call(bot, gemini):
    gemini.play(prices_command())
    reply = bot.say("скок стоит ноготочки?")
    assert "Маникюр с покрытием гель-лак — 2200 ₽" in reply, reply
    assert len(gemini.requests) == 1, "prices come from the salon's data: no second call"
    asked = gemini.requests[0]["json"]
    assert asked["generationConfig"]["responseMimeType"] == "application/json"
    assert "commands" in str(asked["generationConfig"]["responseSchema"]), "constrained by the pydantic schema"
    assert "скок стоит ноготочки?" in str(asked["contents"])


def test_a_reply_in_words_is_the_second_call_and_books_nothing(bot, gemini):
    stage1 = {"json": {"commands": [{"type": "search_slots", "service": "женская стрижка", "date": "завтра"}]}}
    gemini.play(stage1, {"text": "Завтра на женскую стрижку есть несколько окошек — выбирайте!"})
    reply = bot.say("хочу подстричься завтра")
    assert reply == "Завтра на женскую стрижку есть несколько окошек — выбирайте!"
    assert len(gemini.requests) == 2 and records_by_us(bot.stack) == []


def test_a_model_claiming_a_booking_that_did_not_happen_is_not_believed(bot, gemini):
    stage1 = {"json": {"commands": [{"type": "search_slots", "service": "женская стрижка", "date": "завтра"}]}}
    gemini.play(stage1, {"text": "Готово! Вы записаны на завтра."})
    reply = bot.say("хочу подстричься завтра")
    assert "Вы записаны" not in reply and reply.startswith("Свободное время на «Женская стрижка»"), reply
    assert records_by_us(bot.stack) == []


@pytest.mark.parametrize(
    "failure",
    [{"status": 503}, {"status": 429}, {"raw": '```json {"commands": []}```'}, {"delay_s": 3, **prices_command()}],
    ids=["down", "quota", "off-schema", "too-slow"],
)
def test_any_model_failure_falls_back_to_the_rules(bot, gemini, failure):
    gemini.play(failure)
    reply = bot.say("Сколько стоит маникюр?")
    assert "Маникюр с покрытием гель-лак — 2200 ₽" in reply, reply


def _voice_messages(db) -> list[dict]:
    conv = db.collection("conversations").document(f"{SALON}_{CUSTOMER}")
    return [m for m in (s.to_dict() for s in conv.collection("messages").stream()) if m.get("media") == "voice"]


def test_a_voice_note_is_heard_and_answered_in_one_call_and_its_words_are_kept_for_the_owner(bot, gemini, db):
    gemini.play(prices_command())  # Stage 1 as the model reads the words it hears; the stand-in fills `heard`
    reply = bot.say("", audio=voice_fixtures.audio("price_manicure"), seconds=4)
    assert "Маникюр с покрытием гель-лак — 2200 ₽" in reply, reply
    assert len(gemini.requests) == 1, "heard and understood in the same call"
    sent = [p for c in gemini.requests[0]["json"]["contents"] for p in c["parts"] if "inlineData" in p]
    mimes = [p["inlineData"].get("mimeType") or p["inlineData"].get("mime_type") for p in sent]  # the SDK sends either
    assert mimes == ["audio/ogg"], "the note's audio is given to the model"
    [voice] = _voice_messages(db)
    assert voice["transcript"] == voice_fixtures.TRANSCRIPTS["price_manicure"] and voice["audio_seconds"] == 4
    token = owner_token()
    shown = owner_api("GET", f"conversations/{CUSTOMER}", token).json()["messages"]
    assert shown[0]["transcript"] == voice_fixtures.TRANSCRIPTS["price_manicure"], shown[0]


def test_a_voice_note_whose_sound_comes_after_the_message_is_waited_for(bot, gemini, db):
    """The host hands the message over before the download (nothing is lost if it dies meanwhile); the turn waits
    for the sound instead of answering that it could not make it out."""
    gemini.play(prices_command())
    reply = bot.say("", audio=voice_fixtures.audio("price_manicure"), seconds=4, audio_after_s=4)
    assert "Маникюр с покрытием гель-лак — 2200 ₽" in reply, reply
    assert _voice_messages(db)[0]["transcript"] == voice_fixtures.TRANSCRIPTS["price_manicure"]


def test_a_voice_note_whose_download_failed_is_answered_at_once_without_asking_the_model(bot, gemini, db):
    gemini.play()
    started = time.monotonic()
    reply = bot.say("", audio=voice_fixtures.audio("price_manicure"), seconds=4, audio_fails=True)
    assert reply.startswith("Не получилось разобрать голосовое сообщение"), reply
    assert time.monotonic() - started < settings_wait(), "not after waiting out the sound's time"
    assert gemini.requests == []


def test_text_with_a_voice_note_nobody_heard_answers_the_text_and_says_so(bot, db):
    """In one burst or in two turns, whichever the quiet window makes of them: the voice note is never ignored."""
    inbound = f"{GATEWAY}/simulator/sessions/{SID}/inbound"
    voice = {"from": CUSTOMER, "media": "voice", "audio": "T2dnUw==", "seconds": 3}
    text = {"from": CUSTOMER, "text": "Сколько стоит маникюр с покрытием?"}
    for body in (voice, text):  # the rules provider cannot listen
        assert requests.post(inbound, json=body, timeout=10).status_code == 200
    said = wait_for(lambda: "2200 ₽" in "\n".join(bot.replies()) and "\n".join(bot.replies()), 15, "the price")
    assert said.count("Голосовые сообщения я пока не слушаю") == 1, said


def settings_wait() -> float:
    from aiadmin.core.settings import get_settings

    return get_settings().ai_voice_wait_s


def test_a_voice_note_the_model_cannot_hear_or_answer_asks_for_text_and_claims_nothing(bot, gemini, db):
    gemini.play({"json": {"commands": [{"type": "unclear"}]}})
    unheard = bot.say("", audio=b"OggS not a fixture", seconds=3)
    assert unheard.startswith("Не получилось разобрать голосовое сообщение — напишите"), unheard
    gemini.play({"status": 503})  # the model is down: the rules cannot listen, and say so
    down = bot.say("", audio=voice_fixtures.audio("haircut_tomorrow"), seconds=5)
    assert down.startswith("Не получилось разобрать голосовое сообщение"), down
    assert all(not m.get("transcript") for m in _voice_messages(db)) and records_by_us(bot.stack) == []


def test_with_the_rules_provider_a_voice_note_keeps_its_polite_answer_and_nothing_is_asked_of_a_model(bot, db):
    reply = bot.say("", audio=voice_fixtures.audio("price_manicure"), seconds=4)
    assert reply.startswith("Голосовые сообщения я пока не слушаю — напишите, пожалуйста, текстом"), reply
    [voice] = _voice_messages(db)
    assert voice.get("transcript") is None and voice["audio_seconds"] == 4


def test_a_voice_note_too_long_to_download_is_answered_without_its_sound(bot, gemini, db):
    gemini.play()  # nothing scripted, nothing asked so far
    too_long = voice_notes.MAX_SECONDS + 1
    reply = bot.say("", audio=voice_fixtures.audio("price_manicure"), seconds=too_long)
    assert reply.startswith("Не получилось разобрать голосовое сообщение"), reply
    assert gemini.requests == [], "no sound, nothing to give the model"
    assert _voice_messages(db)[0]["audio_seconds"] == too_long


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"media": "voice", "audio": "not base64!", "seconds": 3}, "audio must be base64"),
        ({"media": "image", "audio": "T2dnUw==", "seconds": 3}, "audio comes with media: voice"),
        ({"media": "voice", "audio": "T2dnUw=="}, "seconds ≥ 1"),
    ],
)
def test_the_simulator_refuses_a_voice_note_it_cannot_deliver_as_whatsapp_would(bot, db, extra, says):
    resp = requests.post(f"{GATEWAY}/simulator/sessions/{SID}/inbound", json={"from": CUSTOMER, **extra}, timeout=10)
    assert resp.status_code == 400 and says in resp.json()["error"]["message"], resp.text
    assert _voice_messages(db) == []
