"""Messages through the session host: inbound stored once and handed to the AI turn, staff messages recorded,
outbound sends paced, sent once per key, permanent failures not retried."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import requests

from aiadmin.core import repositories
from aiadmin.core.models import Installer, utcnow
from aiadmin.core.settings import get_settings
from aiadmin.core.task_queue import get_task_queue
from aiadmin.whatsapp import chat, session_lease
from aiadmin.whatsapp.chat import SendRequest
from aiadmin.whatsapp.session_status import SessionState
from session_host import outbound
from tests.conftest import GATEWAY, HOST_PORT, TASK_SECRET, running_session_host, wait_for
from tests.integration.conftest import NOTICES_TO
from tests.integration.helpers import register

SID = "company_962302"
CUSTOMER = "79035557788"


@pytest.fixture
def host(stack, db, tmp_path):
    register()
    with running_session_host(db, tmp_path, "host-msg", sender_opts={"interval_s": 0.4, "jitter_s": 0.1}) as host:
        yield from _linked(db, host)


def _linked(db, host):
    db.collection("wa_commands").document("c1").set(
        {"session_id": SID, "salon_id": 962302, "command": "start_qr", "reason": "test", "state": "pending"}
    )
    wait_for(lambda: (db.collection("wa_sessions").document(SID).get().to_dict() or {}).get("state") == "qr", 5, "qr")
    host.driver.scan(SID, "79161234567")
    wait_for(lambda: db.collection("wa_sessions").document(SID).get().get("state") == SessionState.CONNECTED, 5, "on")
    yield host


def messages(db) -> list[dict]:
    conv = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(962302, CUSTOMER))
    return [d.to_dict() for d in conv.collection("messages").order_by("stored_at").stream()]


def sim(path: str, body: dict) -> requests.Response:
    return requests.post(f"{GATEWAY}/simulator/sessions/{SID}/{path}", json=body, timeout=10)


def test_a_customer_message_is_stored_then_handed_to_the_ai_turn_once(host, db, stack):
    for _ in range(2):  # WhatsApp delivers the same message twice
        assert sim("inbound", {"from": CUSTOMER, "text": "Здравствуйте! Есть окно завтра?", "message_id": "3AXYZ"}).ok
    # The salon is linked but not activated yet, so its turn ends in silence (`skipped`), once.
    stored = wait_for(lambda: (m := messages(db)) and m[0]["turn"] == "skipped" and m, 5, "the AI turn")
    assert len(stored) == 1 and stored[0]["direction"] == "customer" and stored[0]["text"].startswith("Здравствуйте")
    stack.dispatcher.wait_idle()
    turns = [t for t in stack.dispatcher.listing("ai-turns", None)]
    assert len(turns) == 1 and turns[0]["state"] == "done"


def test_staff_writing_from_the_phone_is_recorded_as_staff_and_starts_no_turn(host, db, stack):
    assert sim("from-owner", {"to": CUSTOMER, "text": "Добрый день, записала вас на 15:00"}).ok
    stored = wait_for(lambda: messages(db), 5, "the staff message")
    assert stored[0]["direction"] == "staff" and stored[0]["turn"] == "not_needed"
    conv = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(962302, CUSTOMER)).get().to_dict()
    assert conv["last_staff_message_at"]
    assert stack.dispatcher.listing("ai-turns", None) == []


def test_sends_are_paced_per_session_and_a_retried_key_sends_once(host, db, stack):
    queue, url = get_task_queue(), get_settings().session_host_url
    for i in range(3):
        chat.queue_send(queue, url, SendRequest(key=f"reply-{i}", salon_id=962302, phone=CUSTOMER, text=f"Ответ {i}"))
    chat.queue_send(queue, url, SendRequest(key="reply-0", salon_id=962302, phone=CUSTOMER, text="Ответ 0"))
    sent = wait_for(lambda: len(host.driver.outbox.get(SID, [])) >= 3 and host.driver.outbox[SID], 10, "3 sends")
    stack.dispatcher.wait_idle()
    assert sorted(m["text"] for m in host.driver.outbox[SID]) == ["Ответ 0", "Ответ 1", "Ответ 2"]
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(sent)]
    assert all(g >= 0.39 for g in gaps), f"one message per 0.4 s per session, got gaps {gaps}"
    bot = [m for m in messages(db) if m["direction"] == "bot"]
    assert len(bot) == 3, "each sent message is in the conversation"


PACE_S = 6.0  # the session's interval between its own messages


@pytest.fixture
def slow_paced_host(stack, db, tmp_path):
    register()
    with running_session_host(db, tmp_path, "host-pace", sender_opts={"interval_s": PACE_S, "jitter_s": 0.0}) as host:
        yield from _linked(db, host)


def test_customers_writing_at_once_are_answered_at_once_and_one_chat_keeps_a_gap(slow_paced_host, stack):
    """Two customers write at once: neither waits behind the other's answer (the session's interval does not hold
    replies); a second message to the same customer comes a moment later, not in the same instant. Waiting would
    cost a whole interval; under a loaded machine a send may still take a second or two, so half of it tells."""
    host, queue, url = slow_paced_host, get_task_queue(), get_settings().session_host_url
    for i, phone in enumerate(("79030000001", "79030000002")):
        req = SendRequest(key=f"first-{i}", salon_id=962302, phone=phone, text="Ответ", reply_to_customer=True)
        chat.queue_send(queue, url, req)
    more = SendRequest(key="second-0", salon_id=962302, phone="79030000001", text="Ещё", reply_to_customer=True)
    chat.queue_send(queue, url, more)
    sent = wait_for(lambda: len(host.driver.outbox.get(SID, [])) >= 3 and host.driver.outbox[SID], 15, "3 sends")
    first = {m["to"]: m["at"] for m in sent if m["text"] == "Ответ"}
    assert abs(first["79030000001"] - first["79030000002"]) < PACE_S / 2, "neither customer waited for the other"
    again = next(m["at"] for m in sent if m["text"] == "Ещё")
    assert again - first["79030000001"] >= outbound.CHAT_GAP_S - 0.05, "two messages to one chat keep a gap"


def test_a_number_not_on_whatsapp_fails_once_and_is_not_retried(host, db, stack):
    chat.queue_send(
        get_task_queue(),
        get_settings().session_host_url,
        SendRequest(key="bad-1", salon_id=962302, phone="12345", text="Напоминание"),
    )
    entry = wait_for(
        lambda: (d := db.collection(chat.OUTBOX).document("bad-1").get().to_dict()) and d["state"] == "failed" and d,
        5,
        "the failure recorded",
    )
    assert "not on WhatsApp" in entry["error"]
    stack.dispatcher.wait_idle()
    task = next(t for t in stack.dispatcher.listing("outbound", None) if t["name"] == "send-bad-1")
    assert task["attempts"] == 1 and task["state"] == "done"


def test_an_idle_conversation_and_its_messages_are_due_for_deletion_after_the_retention(stack, db):
    """Firestore's TTL policies (web/firestore.indexes.json) delete on `expire_at`; every message moves the date."""
    first = chat.ChatMessage(message_id="m1", salon_id=962302, phone=CUSTOMER, direction="customer", text="Привет")
    later = chat.ChatMessage(
        message_id="m2",
        salon_id=962302,
        phone=CUSTOMER,
        direction="customer",
        text="Есть окно?",
        stored_at=first.stored_at + timedelta(days=3),
    )
    conv = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(962302, CUSTOMER))
    assert chat.store_message(db, first)
    assert conv.get().get("expire_at") == first.stored_at + chat.RETENTION
    assert chat.store_message(db, later)
    assert conv.get().get("expire_at") == later.stored_at + chat.RETENTION  # activity extends it
    assert [m["expire_at"] for m in messages(db)] == [m.stored_at + chat.RETENTION for m in (first, later)]


def test_a_send_that_never_gets_through_lands_in_the_dead_letters_not_nowhere(host, db):
    """Cloud Tasks' last try of a message whose session stays down: kept with its text and reason, alerted on,
    and a retry after that sends nothing."""
    host.driver.drop(SID, for_s=60)  # WhatsApp stays away
    req = SendRequest(key="reply-962302-lost", salon_id=962302, phone=CUSTOMER, text="Свободно завтра в 12:00.")
    url = f"http://127.0.0.1:{HOST_PORT}/send"

    def post(retry: int) -> requests.Response:
        headers = {"X-AIAdmin-Task-Secret": TASK_SECRET, "X-CloudTasks-TaskRetryCount": str(retry)}
        return requests.post(url, json=req.model_dump(mode="json"), headers=headers, timeout=10)

    assert post(3).status_code == 503, "an early try is retried"
    assert not db.collection(chat.DEAD_LETTERS).document(req.key).get().exists
    last = post(19)  # the outbound queue's 20th attempt
    assert last.status_code == 200 and last.json()["state"] == "dead_letter"
    letter = db.collection(chat.DEAD_LETTERS).document(req.key).get().to_dict()
    assert letter["text"] == req.text and letter["attempts"] == 20 and letter["phone"] == CUSTOMER
    assert post(19).json().get("duplicate") is True, "a late redelivery sends nothing"


def _post_send(req: SendRequest, retry: int = 0) -> requests.Response:
    headers = {"X-AIAdmin-Task-Secret": TASK_SECRET, "X-CloudTasks-TaskRetryCount": str(retry)}
    return requests.post(
        f"http://127.0.0.1:{HOST_PORT}/send", json=req.model_dump(mode="json"), headers=headers, timeout=40
    )


def _sent_to(host, phone: str) -> list[dict]:
    return [m for m in host.driver.outbox.get(SID, []) if m["to"] == phone]


def test_a_send_whatsapp_took_without_answering_is_kept_for_a_person_not_sent_twice(host, db):
    """The driver's wait ran out after WhatsApp had the message: it may have arrived, so no retry sends it again;
    a dead letter says so and keeps the text for someone to check the chat."""
    assert requests.post(f"{GATEWAY}/simulator/stall", json={"phone": CUSTOMER}, timeout=10).ok
    req = SendRequest(key="reply-962302-stalled", salon_id=962302, phone=CUSTOMER, text="Записали вас на 12:00.")
    first = _post_send(req)
    assert first.status_code == 200 and first.json()["state"] == "dead_letter"
    assert _post_send(req, retry=1).json().get("duplicate") is True, "Cloud Tasks' retry sends nothing"
    assert len(_sent_to(host, CUSTOMER)) == 1, "the customer got it once"
    letter = db.collection(chat.DEAD_LETTERS).document(req.key).get().to_dict()
    assert letter["reason"].startswith("outcome unknown") and letter["text"] == req.text
    assert db.collection(chat.OUTBOX).document(req.key).get().get("state") == "unknown"


def test_a_send_a_crash_left_half_done_is_not_resent_and_one_in_flight_is_waited_for(host, db):
    """`sending` with nobody behind it: the host died between handing the message over and recording the answer."""
    req = SendRequest(key="reply-962302-crashed", salon_id=962302, phone=CUSTOMER, text="Свободно завтра в 12:00.")
    outbox = db.collection(chat.OUTBOX).document(req.key)
    in_flight = chat.OutboxEntry(key=req.key, salon_id=962302, phone=CUSTOMER, updated_at=utcnow())
    outbox.set(in_flight.to_firestore())
    waiting = _post_send(req)
    assert waiting.status_code == 429 and waiting.headers["Retry-After"], "another attempt may still answer"
    crashed = in_flight.model_copy(update={"updated_at": utcnow() - timedelta(minutes=2)})
    outbox.set(crashed.to_firestore())
    resp = _post_send(req)
    assert resp.status_code == 200 and resp.json()["state"] == "dead_letter"
    assert _sent_to(host, CUSTOMER) == [], "not sent again blindly"
    assert "outcome unknown" in db.collection(chat.DEAD_LETTERS).document(req.key).get().get("reason")


def test_whatever_keeps_a_send_from_going_its_last_try_is_a_dead_letter(host, db, monkeypatch):
    def unavailable(*_: object) -> str:
        raise RuntimeError("Firestore unavailable")

    monkeypatch.setattr("session_host.outbound.session_id_for", unavailable)  # fails before anything is sent
    req = SendRequest(key="reply-962302-broken", salon_id=962302, phone=CUSTOMER, text="Свободно завтра в 12:00.")
    assert _post_send(req, retry=3).status_code == 500, "an early try is retried"
    last = _post_send(req, retry=19)
    assert last.status_code == 200 and last.json()["state"] == "dead_letter"
    assert "Firestore unavailable" in db.collection(chat.DEAD_LETTERS).document(req.key).get().get("reason")


def test_a_driver_failing_mid_send_is_an_unknown_outcome_not_a_resend(host, db, monkeypatch):
    def broken(*_: object) -> str:
        raise RuntimeError("driver bug")

    monkeypatch.setattr(host.driver, "send_text", broken)
    req = SendRequest(key="reply-962302-midway", salon_id=962302, phone=CUSTOMER, text="Свободно завтра в 12:00.")
    assert _post_send(req).json()["state"] == "dead_letter"
    assert _post_send(req, retry=1).json().get("duplicate") is True
    assert "driver bug" in db.collection(chat.DEAD_LETTERS).document(req.key).get().get("reason")


def test_a_send_that_reaches_a_host_not_holding_the_salon_is_passed_to_the_one_that_does(host, db, stack, tmp_path):
    """Several hosts: the task goes to the default host's URL; the salon is held by another, whose URL is in the
    lease. The message goes out once, from the host holding the salon's WhatsApp."""
    other_port = HOST_PORT + 5
    # One device store for both (as the Cloud SQL one is): the salon's link is there for either host.
    with running_session_host(
        db, tmp_path, "host-b", sender_opts={"interval_s": 0.1, "jitter_s": 0.0}, port=other_port
    ) as other:
        host.shutdown(timeout_s=5)  # the salon moves: host-msg lets go, host-b adopts it without a scan
        wait_for(lambda: SID in other.owned, 10, "host-b holds the salon")
        assert session_lease.live_holder(db, SID).url == f"http://127.0.0.1:{other_port}"
        wait_for(lambda: other.driver.snapshot(SID)["connected"], 10, "connected on host-b")
        req = SendRequest(key="reply-962302-moved", salon_id=962302, phone=CUSTOMER, text="Записали вас на 12:00.")
        chat.queue_send(get_task_queue(), get_settings().session_host_url, req)  # the default host's URL
        sent = wait_for(lambda: [m for m in other.driver.outbox.get(SID, []) if m["to"] == CUSTOMER], 10, "sent")
        stack.dispatcher.wait_idle()
        assert len(sent) == 1 and not host.driver.outbox.get(SID)
        assert db.collection(chat.OUTBOX).document(req.key).get().get("state") == "sent"


def _refused_reminder(key: str, until_h: float) -> SendRequest:
    return SendRequest(
        key=key,
        salon_id=962302,
        phone=CUSTOMER,
        text="Напоминаем: завтра в 15:00 вас ждут на «Мужская стрижка».",
        resend_until=utcnow() + timedelta(hours=until_h),
    )


def test_a_message_whatsapp_refused_is_sent_when_the_customer_writes_and_the_owner_is_told_once(host, db, stack):
    """463: the customer never wrote to the salon's number. The owner hears of it once; the reminder still true
    is sent as soon as the customer writes, a stale one is not."""
    installer = Installer(user_id="1234567", phone=NOTICES_TO)  # what activation records; the salon is not active
    repositories.company_ref(db, 962302).update({"installer": installer.to_firestore()})
    requests.post(f"{GATEWAY}/simulator/refuse", json={"phone": CUSTOMER}, timeout=10).raise_for_status()
    for key, hours in (("rem-a", 5), ("rem-stale", -1)):
        chat.queue_send(get_task_queue(), get_settings().session_host_url, _refused_reminder(key, hours))
    refusal = db.collection("wa_refusals").document(f"962302_{CUSTOMER}")
    wait_for(lambda: refusal.get().exists and len(refusal.get().get("pending")) == 2, 10, "both refusals kept")
    told = wait_for(lambda: [m for m in host.driver.outbox.get(SID, []) if m["to"] == NOTICES_TO], 10, "owner")
    stack.dispatcher.wait_idle()
    assert len(told) == 1 and f"+{CUSTOMER}" in told[0]["text"], "the owner is told once per customer"
    conv = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(962302, CUSTOMER))
    assert conv.get().get("refused_at")

    assert sim("inbound", {"from": CUSTOMER, "text": "Добрый вечер"}).ok
    resent = wait_for(
        lambda: [m for m in host.driver.outbox.get(SID, []) if m["to"] == CUSTOMER], 10, "the reminder sent again"
    )
    stack.dispatcher.wait_idle()
    resent = [m for m in host.driver.outbox[SID] if m["to"] == CUSTOMER and "Напоминаем" in m["text"]]
    assert len(resent) == 1, "the true reminder once, the stale one never"
    assert not refusal.get().exists and "refused_at" not in (conv.get().to_dict() or {})


def test_a_sender_known_only_by_lid_is_stored_at_the_phone_the_store_knows_or_in_a_chat_of_that_lid(host, db):
    assert sim("inbound", {"from": CUSTOMER, "lid": "201234567890123", "text": "Здравствуйте"}).ok
    assert sim("inbound", {"lid": "201234567890123", "text": "Есть окно завтра?", "message_id": "3ALID1"}).ok
    known = wait_for(lambda: [m for m in messages(db) if m["message_id"] == "3ALID1"], 5, "the LID mapped")
    assert known[0]["phone"] == CUSTOMER

    assert sim("inbound", {"lid": "209999999999999", "text": "Сколько стоит стрижка?", "message_id": "3ALID2"}).ok
    hidden = db.collection(chat.CONVERSATIONS).document(chat.conversation_id(962302, "lid:209999999999999"))
    kept = wait_for(lambda: hidden.collection("messages").document("3ALID2").get().to_dict(), 5, "its own chat")
    assert kept["text"] == "Сколько стоит стрижка?" and kept["direction"] == "customer"
    assert len(messages(db)) == 2, "no phone made up for a number nobody knows"
    bad = sim("inbound", {"text": "no sender"})
    assert bad.status_code == 400 and "from (or lid)" in bad.json()["error"]["message"]


def test_a_freshly_linked_number_writes_first_to_strangers_a_minute_apart_but_to_its_customers_at_once(host, db):
    """Warm-up: the salon linked its number just now (the fixture), so what it starts to people who never wrote
    to it is spread out; a customer who wrote is reminded as usual; a number linked 8 days ago is past it."""
    sender = outbound.Sender(db, host, interval_s=0.01, jitter_s=0.0, warmup_days=7, warmup_cold_interval_s=60.0)

    def remind(key: str, phone: str, by: outbound.Sender = sender) -> tuple[int, dict, dict]:
        req = SendRequest(key=key, salon_id=962302, phone=phone, text="Напоминаем о записи завтра в 12:00.")
        return by.send(req, 0)

    assert remind("warm-1", "79110000001")[0] == 200
    status, body, _ = remind("warm-2", "79110000002")
    assert status == 200 and body["state"] == "deferred" and 55 <= body["after_s"] <= 60, body
    status, body, _ = remind("warm-3", "79110000003")
    assert body["state"] == "deferred" and 115 <= body["after_s"] <= 120, "deferred sends line up a minute apart"
    assert _sent_to(host, "79110000002") == [] and _sent_to(host, "79110000003") == []
    assert sim("inbound", {"from": CUSTOMER, "text": "Здравствуйте"}).ok
    wait_for(lambda: messages(db), 5, "the customer's message stored")
    assert remind("warm-4", CUSTOMER)[0] == 200, "a customer who wrote is no stranger"

    # A deferred send comes back as a task of its own when its turn comes, and goes out once. (A 4 s gap with
    # deferral from 0.5 s: however slow this machine is between the two sends, the second is deferred.)
    quick = outbound.Sender(
        db, host, interval_s=0.01, jitter_s=0.0, warmup_days=7, warmup_cold_interval_s=4.0, defer_after_s=0.5
    )
    assert remind("warm-5", "79110000005", quick)[0] == 200
    deferred = remind("warm-6", "79110000006", quick)[1]
    assert deferred.get("state") == "deferred", deferred
    wait_for(lambda: _sent_to(host, "79110000006"), 20, "the deferred send, when due")
    assert len(_sent_to(host, "79110000006")) == 1

    repositories.company_ref(db, 962302).update({"whatsapp_connected_at": utcnow() - timedelta(days=8)})
    seasoned = outbound.Sender(db, host, interval_s=0.01, jitter_s=0.0, warmup_days=7, warmup_cold_interval_s=60.0)
    for i in range(3):
        req = SendRequest(key=f"old-{i}", salon_id=962302, phone=f"7911000001{i}", text="Напоминаем о записи.")
        wait_for(lambda r=req: seasoned.send(r, 0)[0] == 200, 2, "sent after the usual interval")
    assert len(_sent_to(host, "79110000010")) == 1
