"""The salon owner in the loop (issue 17): the owner page opened from YCLIENTS, what it may read, takeover and
«Вернуть боту», settings that steer the next turn, notices that reach the owner once, and the daily summary
counted as things happen."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlparse

import pytest
import requests

from aiadmin.core import repositories
from aiadmin.core.errors import ServiceUnavailable
from aiadmin.core.models import utcnow
from aiadmin.core.settings import get_settings
from aiadmin.core.task_queue import get_task_queue
from aiadmin.marketplace import owner_reports, owner_view
from aiadmin.sync import runner
from aiadmin.whatsapp import activity, owner_notices
from tests.conftest import GATEWAY, TASK_SECRET, wait_for
from tests.integration.conftest import CUSTOMER, NOTICES_TO, SALON, SID
from tests.integration.helpers import follow_registration, owner_api, redirect_params, register
from tests.integration.test_firestore_rules import browser_get

api = owner_api


def owner_messages(bot) -> list[str]:
    return bot.replies(to=NOTICES_TO)


def view(db, view_id: str) -> dict:
    return db.collection(owner_view.OWNER_VIEWS).document(view_id).get().to_dict() or {}


@pytest.fixture
def owner(bot, db):
    """The owner opened the app from YCLIENTS: the active salon's link leads to the owner page."""
    resp = follow_registration(redirect_params(SALON))
    location = urlparse(resp.headers["Location"])
    assert resp.status_code == 302 and location.path == "/marketplace/owner", resp.headers["Location"]
    token = location.query.split("token=", 1)[1]
    opened = api("GET", "page", token)
    assert opened.status_code == 200, opened.text
    return token, opened.json()


def test_a_salon_not_yet_working_is_sent_to_onboarding_not_the_owner_page(stack):
    first = follow_registration(redirect_params(SALON))
    assert urlparse(first.headers["Location"]).path == "/marketplace/onboarding"


def test_a_handoff_is_in_the_inbox_first_and_the_owner_is_told_once(bot, db, owner):
    token, opened = owner
    bot.say("Здравствуйте! Сколько стоит мужская стрижка?")
    bot.say("Хочу поговорить с администратором")
    told = wait_for(lambda: [t for t in owner_messages(bot) if "просит администратора" in t], 10, "the owner told")
    assert f"+{CUSTOMER}" in told[0]
    inbox = wait_for(
        lambda: [c for c in view(db, opened["owner_view_id"]).get("inbox", []) if c.get("waiting_since")],
        5,
        "the handoff in the inbox",
    )
    assert inbox[0]["phone"] == CUSTOMER and inbox[0]["waiting_reason"] == "handoff"
    # The customer writes again, WhatsApp delivers it three times: the chat is a person's now, nothing more is sent.
    again = {"from": CUSTOMER, "text": "Ау, администратор?", "message_id": "3AHUMAN"}
    for _ in range(3):
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/inbound", json=again, timeout=10)
    bot.stack.dispatcher.wait_idle()
    assert len([t for t in owner_messages(bot) if "просит администратора" in t]) == 1
    transcript = api("GET", f"conversations/{CUSTOMER}", token).json()["messages"]
    assert [m["direction"] for m in transcript[:2]] == ["customer", "bot"]
    assert transcript[0]["text"].startswith("Здравствуйте")


def test_takeover_silences_the_bot_for_that_customer_and_give_back_resumes_it(bot, db, owner):
    token, opened = owner
    assert "1300" in bot.say("Сколько стоит мужская стрижка?")
    taken = api("POST", f"conversations/{CUSTOMER}/takeover", token)
    assert taken.status_code == 200 and taken.json()["bot"] == "paused"
    entry = wait_for(lambda: [c for c in view(db, opened["owner_view_id"])["inbox"] if c.get("taken_over_at")], 5, "on")
    assert entry[0]["phone"] == CUSTOMER
    bot.say("А на завтра есть время?", expect_reply=False)
    assert api("POST", f"conversations/{CUSTOMER}/resume", token).json()["bot"] == "answering"
    assert "«" in bot.say("Есть время на мужскую стрижку завтра?"), "the bot answers again"


def test_the_owner_answers_from_the_page_once_and_the_bot_keeps_out(bot, db, owner):
    token, _ = owner
    assert "1300" in bot.say("Сколько стоит мужская стрижка? И можно ли прийти с собакой?")
    body = {"text": "Добрый день! Это Анна, администратор. С собакой можно.", "id": "reply-0001"}
    for _ in range(3):  # a double click and a retried request: one message
        assert api("POST", f"conversations/{CUSTOMER}/reply", token, json=body).status_code == 200
    sent = wait_for(lambda: [t for t in bot.replies() if t.startswith("Добрый день! Это Анна")], 10, "the reply")
    bot.stack.dispatcher.wait_idle()
    assert len([t for t in bot.replies() if t.startswith("Добрый день! Это Анна")]) == len(sent) == 1
    bot.seen = len(bot.replies())
    transcript = api("GET", f"conversations/{CUSTOMER}", token).json()["messages"]
    assert transcript[-1]["direction"] == "staff" and transcript[-1]["text"] == body["text"]
    bot.say("Спасибо! А на завтра есть время?", expect_reply=False)  # a person is in the chat: the bot keeps out
    for bad in ({"text": "", "id": "reply-0002"}, {"text": "Привет"}, {"text": "x", "id": "bad id!"}):
        assert api("POST", f"conversations/{CUSTOMER}/reply", token, json=bad).status_code == 400, bad
    other_salon = register(962303)  # a valid token of another salon, whose owner page it cannot open either
    assert api("POST", f"conversations/{CUSTOMER}/reply", other_salon, json=body).status_code in (403, 404)


def test_settings_take_effect_on_the_next_turn_and_bad_ones_are_refused(bot, db, owner):
    token, _ = owner
    saved = api("PUT", "settings", token, json={"welcome_text": "Добрый день! Салон «Лилия» на связи."})
    assert saved.status_code == 200, saved.text
    assert bot.say("Привет") == "Добрый день! Салон «Лилия» на связи."
    assert api("PUT", "settings", token, json={"bot_enabled": False}).status_code == 200
    bot.say("Сколько стоит мужская стрижка?", expect_reply=False)
    for bad in ({"staff_pause_min": 1}, {"phone": "12"}, {"summary_hour": 30}, {"colour": "red"}):
        resp = api("PUT", "settings", token, json=bad)
        assert resp.status_code == 400 and resp.json()["error"]["message"], (bad, resp.text)
    saved = api("PUT", "settings", token, json={"bot_enabled": True}).json()
    assert saved["settings"]["bot_enabled"] is True
    moved = api("PUT", "settings", token, json={"phone": "8 (916) 555-44-33"})  # needs the new number's code
    assert moved.status_code == 403 and moved.json()["error"]["code"] == "phone_code_required"
    assert repositories.get_company(db, SALON).owner_phone() == NOTICES_TO


def test_the_owner_page_reads_only_its_own_salon(bot, db, owner, stack):
    token, opened = owner
    assert browser_get(f"{owner_view.OWNER_VIEWS}/{opened['owner_view_id']}").status_code == 200
    bot.say("Сколько стоит мужская стрижка?")
    for path in (f"conversations/{SALON}_{CUSTOMER}", f"owner_activity/{SALON}_x", "owner_notices/x", "owner_pages/1"):
        assert browser_get(path).status_code == 403, path
    near = opened["owner_view_id"][:-1] + ("1" if opened["owner_view_id"].endswith("0") else "0")
    assert browser_get(f"{owner_view.OWNER_VIEWS}/{near}").status_code == 403
    # A valid JWT of another salon (962303, not working yet: nobody is its owner) reaches nothing here.
    other = register(962303)
    assert api("GET", f"conversations/{CUSTOMER}", other).status_code == 403
    assert api("POST", f"conversations/{CUSTOMER}/takeover", other).status_code == 403
    assert api("GET", "page", other).json()["error"]["code"] == "owner_code_required"
    assert api("GET", "page", "not-a-token").status_code == 401
    assert api("GET", "conversations/../../companies", token).status_code in (400, 404)


def test_every_notice_kind_reaches_the_owner_once_under_three_deliveries(bot, db, stack):
    company = repositories.get_company(db, SALON)
    queue, host = get_task_queue(), get_settings().session_host_url
    since = utcnow() - timedelta(hours=3)
    for _ in range(3):
        owner_reports.sync_failing(db, queue, get_settings(), SALON, "staff", since, "YclientsUnavailable: 503")
        owner_notices.notify(db, queue, host, company, "handoff", "m1", "Клиент просит администратора")
        owner_notices.notify(db, queue, host, company, "unanswered", "m2", "Вопрос без ответа")
        owner_notices.notify(db, queue, host, company, "refused", "p1", "WhatsApp не доставил сообщение")
    assert not owner_reports.sync_failing(db, queue, get_settings(), SALON, "clients", utcnow(), "x"), "not yet 2 h"
    stack.dispatcher.wait_idle()
    got = wait_for(lambda: len(owner_messages(bot)) >= 4 and owner_messages(bot), 10, "four notices")
    stack.dispatcher.wait_idle()
    got = owner_messages(bot)
    assert len(got) == 4, got
    assert any("«мастера»" in t and "устаревшими" in t for t in got)
    assert [m["text"] for m in bot.outbox() if m["to_owner"]] == got, "the simulator shows them as the owner's"


def test_a_notice_that_could_not_be_queued_is_sent_when_its_event_comes_again(bot, db, stack):
    class QueueDown:
        def enqueue(self, task):
            raise ServiceUnavailable("Cloud Tasks is unavailable", code="tasks_unavailable")

    company = repositories.get_company(db, SALON)
    host = get_settings().session_host_url
    text = "Клиент +79035557788 просит администратора."
    with pytest.raises(ServiceUnavailable):  # the turn fails and Cloud Tasks retries it…
        owner_notices.notify(db, QueueDown(), host, company, "handoff", "m9", text)
    owner_notices.notify(db, get_task_queue(), host, company, "handoff", "m9", text)  # …which sends it, once
    owner_notices.notify(db, get_task_queue(), host, company, "handoff", "m9", text)
    wait_for(lambda: text in owner_messages(bot), 10, "the notice")
    stack.dispatcher.wait_idle()
    assert owner_messages(bot).count(text) == 1


def test_a_logged_out_salon_is_recorded_for_the_owner_page_not_sent(bot, db, owner):
    _, opened = owner
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/logout", timeout=10)
    kept = wait_for(
        lambda: [n for n in view(db, opened["owner_view_id"]).get("notices", []) if n["kind"] == "logged_out"],
        10,
        "the notice on the owner page",
    )
    assert kept[0]["state"] == "recorded" and "Подключить WhatsApp заново" in kept[0]["text"]
    assert not [t for t in owner_messages(bot) if "отключён" in t], "nothing can carry it: no message pretends to"


def test_the_daily_summary_counts_a_scripted_day(pinned_now, bot, db, stack):
    """Yesterday, as counted by the turns: three customers, one booking, one handoff, one question left waiting."""
    company = repositories.get_company(db, SALON)
    yesterday = company.today() - timedelta(days=1)
    turns = [
        activity.TurnActivity("79030000001", "a1", off_hours=False),
        activity.TurnActivity(
            "79030000001",
            "a2",
            off_hours=False,
            actions=[activity.BotAction(kind="booked", record_id=1, service="Стрижка", customer="79030000001")],
        ),
        activity.TurnActivity("79030000002", "b1", off_hours=True, handed_over=True),
        activity.TurnActivity("79030000003", "c1", off_hours=True, unanswered=True),
        activity.TurnActivity("79030000003", "c1", off_hours=True, unanswered=True),  # a retried turn
    ]
    for turn in turns:
        activity.record(db, SALON, yesterday, turn)
    db.collection("conversations").document(f"{SALON}_79030000003").set(
        {"salon_id": SALON, "phone": "79030000003", "waiting_since": utcnow(), "updated_at": utcnow()}
    )
    day = activity.days(db, SALON, yesterday, 1)[0]
    text = owner_reports.summary_text(day, owner_reports.waiting_count(db, SALON))
    assert text == (
        "Вчера бот ответил 3 клиентам, записал 1, перенёс 0, отменил 0. Просили администратора: 1. 1 вопрос ждёт вас."
    )
    # Off by default; on at 09:00 local it goes once, whichever of the hour's runs deliver it.
    at_nine = datetime.combine(company.today(), datetime.min.time(), company.zone()).replace(hour=9)
    assert owner_reports.dispatch_summaries(db, get_task_queue(), get_settings(), at_nine) == 0
    repositories.company_ref(db, SALON).set({"owner": {"summary_hour": 9}}, merge=True)
    for _ in range(3):
        owner_reports.dispatch_summaries(db, get_task_queue(), get_settings(), at_nine)
    assert owner_reports.dispatch_summaries(db, get_task_queue(), get_settings(), at_nine + timedelta(hours=1)) == 0
    sent = wait_for(lambda: [t for t in owner_messages(bot) if t.startswith("Вчера бот")], 10, "the summary")
    stack.dispatcher.wait_idle()
    assert [t for t in owner_messages(bot) if t.startswith("Вчера бот")] == sent == [text]


def test_the_days_counters_follow_real_conversations(pinned_now, bot, db):
    """Three customers through the real turns: one asks a price, one books, one asks for a person (and the first
    asks again, and WhatsApp delivers a message twice): the day shows 3 customers, 1 booking, 1 handoff."""
    from tests.integration.conftest import Chat
    from tests.integration.test_ai_dialogues import book_something

    bot.say("Сколько стоит мужская стрижка?")
    bot.say("А женская?")
    booker = Chat(bot.stack, phone="79030000011")
    book_something(booker)
    asker = Chat(bot.stack, phone="79030000012")
    asker.say("Позовите администратора, пожалуйста", message_id="3ATWICE")
    requests.post(
        f"{GATEWAY}/simulator/sessions/{SID}/inbound",
        json={"from": "79030000012", "text": "Позовите администратора, пожалуйста", "message_id": "3ATWICE"},
        timeout=10,
    )
    bot.stack.dispatcher.wait_idle()
    company = repositories.get_company(db, SALON)
    day = activity.days(db, SALON, company.today(), 1)[0]
    assert (len(day.customers), day.count("booked"), len(day.handoffs)) == (3, 1, 1)
    assert owner_reports.summary_text(day, owner_reports.waiting_count(db, SALON)).endswith(
        "записал 1, перенёс 0, отменил 0. Просили администратора: 1. 1 вопрос ждёт вас."
    )


def test_a_sync_failing_for_two_hours_is_told_once_per_run_of_failures(bot, db, stack):
    """Through the real worker, delivered three times: the stand-in fails, the module has failed for three hours."""
    state = runner.state_ref(db, SALON, "staff")
    state.set(
        {"consecutive_failures": 2, "failing_since": utcnow() - timedelta(hours=3), "state": "failed"}, merge=True
    )
    stack.fault("/staff", "503", times=100)
    payload = runner.sync_task(SALON, "staff", "t1", "test").payload
    headers = {"X-AIAdmin-Task-Secret": TASK_SECRET}
    try:
        for _ in range(3):
            resp = requests.post(f"{GATEWAY}/_fn/sync_worker", json=payload, headers=headers, timeout=60)
            assert resp.status_code == 503, "transient: Cloud Tasks tries again"
    finally:
        stack.standin_state.faults.clear()
    told = wait_for(lambda: [t for t in owner_messages(bot) if "«мастера»" in t], 15, "the owner told")
    stack.dispatcher.wait_idle()
    assert len([t for t in owner_messages(bot) if "«мастера»" in t]) == len(told) == 1
