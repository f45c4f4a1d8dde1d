"""The real google-genai client against the scripted Gemini-compatible server, through the whole stack: Stage 1's
JSON is executed, a plain question costs one model call, a reply needing words costs two, and every failure of
the model (down, slow, off-schema, claiming an action that did not happen) falls back to the rules."""

from __future__ import annotations

import threading

import pytest
from pydantic import SecretStr
from werkzeug.serving import make_server

from aiadmin.ai.providers import get_provider
from aiadmin.core.settings import get_settings
from devstack.gemini_standin import Script, create_app
from tests.conftest import GEMINI_PORT
from tests.integration.conftest import records_by_us


@pytest.fixture(scope="module")
def script():
    sc = Script()
    server = make_server("127.0.0.1", GEMINI_PORT, create_app(sc), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield sc
    server.shutdown()


@pytest.fixture
def gemini(script, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "ai_provider", "gemini")
    monkeypatch.setattr(settings, "gemini_api_key", SecretStr("test-key"))
    monkeypatch.setattr(settings, "gemini_base_url", f"http://127.0.0.1:{GEMINI_PORT}")
    monkeypatch.setattr(settings, "gemini_timeout_s", 1.5)
    get_provider.cache_clear()
    yield script
    get_provider.cache_clear()


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
