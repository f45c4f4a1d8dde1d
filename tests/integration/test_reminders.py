"""Reminders on the whole local stack (issue 16): planned when a booking is written (the bot's own, or the salon's
through a record webhook), fired by the task dispatcher's RunTask, sent through the simulated WhatsApp once, and
answered — «1», «да, буду», 👍 set attendance 2 in YCLIENTS exactly once; «3» offers a move, then cancels for
real. A clock pinned to a Wednesday morning in Moscow makes every due time exact."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import requests

from aiadmin.core import repositories
from tests.clock import travel, wednesday_morning
from tests.conftest import GATEWAY, TASK_SECRET, TASKS, wait_for
from tests.integration.conftest import NOTICES_TO, SALON, SID, Chat, records_by_us

MSK = ZoneInfo("Europe/Moscow")
NOW = wednesday_morning()


@pytest.fixture
def wednesday(request):
    with travel(NOW):
        yield NOW
        dispatcher = request.getfixturevalue("local_stack").dispatcher
        dispatcher.wait_idle()
        dispatcher.clear()


def reminder_tasks(record_id: int, besides: frozenset[str] = frozenset()) -> dict[str, dict]:
    """A booking's reminder tasks by kind; `besides`: names to leave out (a moved booking's old ones)."""
    tasks = requests.get(f"{TASKS}/tasks", params={"queue": "reminders"}, timeout=10).json()
    return {
        t["payload"]["kind"]: t
        for t in tasks
        if t["name"].startswith("rem-") and t["payload"]["record_id"] == record_id and t["name"] not in besides
    }


def planned(record_id: int, besides: frozenset[str] = frozenset()) -> dict[str, dict]:
    """Both reminders of a booking two days ahead, once both are queued (they are enqueued in parallel)."""
    return wait_for(
        lambda: t if len(t := reminder_tasks(record_id, besides)) == 2 else None, 10, "both reminders planned"
    )


def run(task: dict) -> None:
    assert requests.post(f"{TASKS}/tasks/{task['name']}:run", timeout=10).status_code == 200
    wait_for(
        lambda: (
            next(t for t in requests.get(f"{TASKS}/tasks", timeout=10).json() if t["name"] == task["name"])["state"]
            in ("done", "failed")
        ),
        15,
        f"task {task['name']} ran",
    )


def deliver_again(task: dict) -> dict:
    """Cloud Tasks delivers at least once: the same task's payload, posted to the worker again."""
    resp = requests.post(
        f"{GATEWAY}/_fn/reminder_worker",
        json=task["payload"],
        headers={"X-AIAdmin-Task-Secret": TASK_SECRET},
        timeout=15,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def salon_books(stack, phone_client: dict, days_ahead: int = 2, service_title: str = "Мужская стрижка") -> dict:
    """The salon books a customer at the front desk: YCLIENTS sends a record webhook."""
    data = stack.data
    svc = next(s for s in data.services.values() if s["title"] == service_title)
    for offset in range(days_ahead, days_ahead + 10):
        day = NOW.date() + dt.timedelta(days=offset)
        for staff in svc["staff"]:
            free = data.free_times(staff["id"], day, int(svc["duration"]))
            if free:
                body = {
                    "id": max(data.records) + 1,
                    "staff_id": staff["id"],
                    "service_id": svc["id"],
                    "datetime": f"{day.isoformat()}T{free[0]['time']}:00",
                    "client_id": phone_client["id"],
                    "seance_length": int(svc["duration"]),
                }
                resp = requests.post(f"{stack.yclients}/_standin/salons/{SALON}/records", json=body, timeout=10)
                assert resp.status_code == 201, resp.text
                return resp.json()["record"]
    raise AssertionError("no free time")


def client_of(stack, phone_suffix: int) -> dict:
    return sorted(stack.data.clients.values(), key=lambda c: c["id"])[phone_suffix]


def visit_puts(stack, record_id: int) -> list[dict]:
    return [c for c in stack.calls("/visits/") if c["path"].endswith(f"/{record_id}") and c["method"] == "PUT"]


@pytest.fixture(params=["Europe/Moscow", "Asia/Yekaterinburg"])
def salon_zone(request, stack) -> ZoneInfo:
    """The demo salon on Moscow time, or two hours east: YCLIENTS then gives its times with +05:00."""
    from devstack.yclients_salon import Salon

    stack.standin_state.salons[SALON] = Salon.demo(SALON, zone=request.param)
    return ZoneInfo(request.param)


def test_a_booking_made_through_the_bot_gets_its_two_reminders_at_the_salons_local_times(wednesday, salon_zone, bot):
    local = salon_zone
    slots = bot.say("Когда свободно на мужскую стрижку послезавтра?")
    chosen = re.search(r"в (\d{2}:\d{2})", slots).group(1)
    if "Как вас зовут" in bot.say(f"давайте в {chosen}"):
        bot.say("Пётр")
    assert bot.say("да").startswith("Готово! Вы записаны")
    record = records_by_us(bot.stack)[0]
    tasks = planned(record["id"])
    visit = dt.datetime.fromisoformat(record["datetime"]).astimezone(local)
    assert f"{visit:%H:%M}" == chosen, "the customer was offered the salon's wall-clock time"
    day_before = dt.datetime.combine(visit.date() - dt.timedelta(days=1), dt.time(19), local)
    assert dt.datetime.fromisoformat(tasks["day_before"]["schedule_time"]) == day_before, "19:00 there, the day before"
    two_hours = max(visit - dt.timedelta(hours=2), visit.replace(hour=9, minute=0))  # never before 09:00
    assert dt.datetime.fromisoformat(tasks["two_hours"]["schedule_time"]) == two_hours
    assert tasks["day_before"]["state"] == "pending"


def test_one_reminder_delivered_three_times_sends_one_message_that_says_it_all(wednesday, bot):
    customer = client_of(bot.stack, 0)
    phone = str(customer["phone"])
    record = salon_books(bot.stack, customer)
    tasks = planned(record["id"])
    run(tasks["day_before"])
    deliver_again(tasks["day_before"])
    deliver_again(tasks["day_before"])
    sent = wait_for(lambda: [m for m in bot.outbox() if m["to"] == phone], 10, "the reminder")
    bot.stack.dispatcher.wait_idle()
    sent = [m for m in bot.outbox() if m["to"] == phone]
    assert len(sent) == 1, sent
    text = sent[0]["text"]
    for fact in ("Напоминаем о вашей записи", "«Мужская стрижка» (1300 ₽)", "мастер —", "Тверская", "1 — подтверждаю"):
        assert fact in text, text
    assert "послезавтра" in text or "в пятницу" in text or "во " in text or ", в " in text


def test_a_moved_booking_reminds_of_the_new_time_only_and_a_cancelled_one_not_at_all(wednesday, bot, db):
    customer = client_of(bot.stack, 1)
    phone = str(customer["phone"])
    record = salon_books(bot.stack, customer)
    old = planned(record["id"])
    moved_at = dt.datetime.fromisoformat(record["datetime"]).replace(tzinfo=None) + dt.timedelta(days=1)
    body = {
        "id": record["id"],
        "staff_id": record["staff_id"],
        "service_id": record["services"][0]["id"],
        "datetime": moved_at.isoformat(),
        "client_id": customer["id"],
        "seance_length": record["seance_length"],
    }
    requests.post(f"{bot.stack.yclients}/_standin/salons/{SALON}/records", json=body, timeout=10).raise_for_status()
    new = planned(record["id"], besides=frozenset(t["name"] for t in old.values()))
    assert deliver_again(old["day_before"])["state"] == "skipped: the booking was moved"
    run(new["day_before"])
    wait_for(lambda: [m for m in bot.outbox() if m["to"] == phone], 10, "the new reminder")
    assert len([m for m in bot.outbox() if m["to"] == phone]) == 1

    requests.delete(f"{bot.stack.yclients}/_standin/salons/{SALON}/records/{record['id']}", timeout=10)
    booking = repositories.company_ref(db, SALON).collection("bookings").document(str(record["id"]))
    wait_for(lambda: booking.get().to_dict().get("deleted"), 10, "the cancellation synced")
    assert deliver_again(new["two_hours"])["state"] == "skipped: the booking was cancelled"
    assert len([m for m in bot.outbox() if m["to"] == phone]) == 1


@pytest.mark.parametrize("answer", ["1", "да, буду", "👍"])
def test_an_answer_to_the_reminder_confirms_the_visit_once(wednesday, bot, answer):
    customer = client_of(bot.stack, 2)
    phone = str(customer["phone"])
    record = salon_books(bot.stack, customer)
    tasks = planned(record["id"])
    run(tasks["day_before"])
    reminder = wait_for(lambda: [m for m in bot.outbox() if m["to"] == phone], 10, "the reminder")[0]
    chat = Chat(bot.stack, phone)
    if answer == "👍":
        body = {"from": phone, "message_id": reminder["id"], "emoji": "👍"}
        requests.post(f"{GATEWAY}/simulator/sessions/{SID}/react", json=body, timeout=10).raise_for_status()
        reply = wait_for(lambda: chat.replies()[chat.seen :], 15, "a reply to the reaction")[-1]
    else:
        reply = chat.say(answer, message_id=f"ANS-{record['id']}")
        requests.post(  # WhatsApp delivers the answer again
            f"{GATEWAY}/simulator/sessions/{SID}/inbound",
            json={"from": phone, "text": answer, "message_id": f"ANS-{record['id']}"},
            timeout=10,
        )
    assert reply.startswith("Спасибо, что подтвердили!"), reply
    bot.stack.dispatcher.wait_idle()
    assert len(visit_puts(bot.stack, record["id"])) == 1
    assert bot.stack.data.records[record["id"]]["attendance"] == 2
    assert deliver_again(tasks["two_hours"])["state"] == "skipped: the customer already confirmed"


def test_three_offers_a_move_and_then_cancels_for_real(wednesday, bot):
    customer = client_of(bot.stack, 3)
    phone = str(customer["phone"])
    record = salon_books(bot.stack, customer)
    run(planned(record["id"])["day_before"])
    wait_for(lambda: [m for m in bot.outbox() if m["to"] == phone], 10, "the reminder")
    chat = Chat(bot.stack, phone)
    offer = chat.say("3")
    assert "Могу перенести" in offer and "Для отмены ответьте «да»" in offer, offer
    assert not bot.stack.data.records[record["id"]]["deleted"]
    done = chat.say("да")
    assert "отменена" in done, done
    rec = bot.stack.data.records[record["id"]]
    assert rec["deleted"] and rec["attendance"] != -1, "a real cancel, never a no-show mark"
    assert visit_puts(bot.stack, record["id"]) == []


def test_a_reminder_whatsapp_refuses_is_recorded_counted_and_not_retried(wednesday, bot, db):
    customer = client_of(bot.stack, 4)
    phone = str(customer["phone"])
    requests.post(f"{GATEWAY}/simulator/refuse", json={"phone": phone}, timeout=10).raise_for_status()
    record = salon_books(bot.stack, customer)
    task = planned(record["id"])["day_before"]
    run(task)
    company = lambda: repositories.get_company(db, SALON)  # noqa: E731
    wait_for(lambda: company().reminders_refused == 1, 10, "the refusal counted")
    stored = db.collection("reminders").document(task["name"]).get().to_dict()
    assert stored["state"] == "refused" and "463" in stored["error"]
    assert deliver_again(task)["state"].startswith("skipped: WhatsApp refused")
    bot.stack.dispatcher.wait_idle()
    assert company().reminders_refused == 1 and not [m for m in bot.outbox() if m["to"] == phone]
    told = wait_for(lambda: [t for t in bot.replies(to=NOTICES_TO) if "не доставил" in t], 10, "the owner told")
    assert f"+{phone}" in told[0] and "Напишите ему с телефона салона" in told[0]
    second = reminder_tasks(record["id"])["two_hours"]  # refused again: the owner is not told twice
    run(second)
    wait_for(lambda: company().reminders_refused == 2, 10, "the second refusal counted")
    bot.stack.dispatcher.wait_idle()
    assert len([t for t in bot.replies(to=NOTICES_TO) if "не доставил" in t]) == 1


def notice_tasks(record_id: int) -> list[dict]:
    tasks = requests.get(f"{TASKS}/tasks", params={"queue": "reminders", "state": "pending"}, timeout=10).json()
    return [t for t in tasks if t["name"].startswith(f"notice-{SALON}-{record_id}-")]


def run_notices(record_id: int) -> None:
    for task in notice_tasks(record_id):
        run(task)


def test_a_salon_side_booking_move_and_cancel_each_make_one_notice(wednesday, bot):
    customer = client_of(bot.stack, 5)
    phone = str(customer["phone"])
    record = salon_books(bot.stack, customer, service_title="Укладка")
    wait_for(lambda: notice_tasks(record["id"]), 10, "a notice planned from the webhook")
    run_notices(record["id"])
    told = wait_for(lambda: [m["text"] for m in bot.outbox() if m["to"] == phone], 10, "the notice")
    assert len(told) == 1 and told[0].startswith("Здравствуйте") and "Вы записаны" in told[0], told
    assert "«Укладка»" in told[0] and "2 — перенести, 3 — отменить" in told[0]

    at = dt.datetime.fromisoformat(record["datetime"]).replace(tzinfo=None)
    for hours in (1, 2):  # moved twice within a minute: one notice, of the last time
        body = {
            "id": record["id"],
            "staff_id": record["staff_id"],
            "service_id": record["services"][0]["id"],
            "datetime": (at + dt.timedelta(hours=hours)).isoformat(),
            "client_id": customer["id"],
            "seance_length": record["seance_length"],
        }
        requests.post(f"{bot.stack.yclients}/_standin/salons/{SALON}/records", json=body, timeout=10).raise_for_status()
    wait_for(lambda: notice_tasks(record["id"]), 10, "the move noticed")
    bot.stack.dispatcher.wait_idle()
    run_notices(record["id"])
    told = wait_for(lambda: [m["text"] for m in bot.outbox() if m["to"] == phone][1:], 10, "the move notice")
    assert len(told) == 1 and "перенесена" in told[0] and f"{at + dt.timedelta(hours=2):%H:%M}" in told[0], told
    assert "было " in told[0]

    requests.delete(f"{bot.stack.yclients}/_standin/salons/{SALON}/records/{record['id']}", timeout=10)
    wait_for(lambda: notice_tasks(record["id"]), 10, "the cancellation noticed")
    run_notices(record["id"])
    told = wait_for(lambda: [m["text"] for m in bot.outbox() if m["to"] == phone][2:], 10, "the cancel notice")
    assert len(told) == 1 and "отменена салоном" in told[0] and "«Укладка»" in told[0], told


def test_the_bots_own_booking_makes_no_notice(wednesday, bot):
    slots = bot.say("Когда свободно на женскую стрижку послезавтра?")
    chosen = re.search(r"в (\d{2}:\d{2})", slots).group(1)
    if "Как вас зовут" in bot.say(f"давайте в {chosen}"):
        bot.say("Анна")
    assert bot.say("да").startswith("Готово! Вы записаны")
    record = records_by_us(bot.stack)[0]
    bot.stack.dispatcher.wait_idle()
    replies = len(bot.replies())
    run_notices(record["id"])
    # Had the webhook been applied before the bot's reply was written, a notice would be waiting: it finds that
    # the customer already knows.
    raced = {"salon_id": SALON, "record_id": record["id"], "phone": bot.phone}
    headers = {"X-AIAdmin-Task-Secret": TASK_SECRET}
    late = requests.post(f"{GATEWAY}/_fn/notice_worker", json=raced, headers=headers, timeout=15).json()
    assert late["state"] == "skipped: nothing new for the customer"
    bot.stack.dispatcher.wait_idle()
    assert len(bot.replies()) == replies, f"an echo of the bot's own booking: {bot.replies()[replies:]}"


def test_a_booking_made_where_whatsapp_hides_the_number_is_reminded_there_and_answered_there(wednesday, bot):
    """The number typed in a hidden-number chat may be anyone's: the reminder goes to the chat the booking was
    made in, and «1» there confirms the visit."""
    hidden = Chat(bot.stack, "lid:201234567890777")
    slots = hidden.say("Когда свободно на мужскую стрижку послезавтра?")
    chosen = re.search(r"в (\d{2}:\d{2})", slots).group(1)
    if "Как вас зовут" in hidden.say(f"давайте в {chosen}"):
        hidden.say("Пётр")
    assert "номер" in hidden.say("да")
    assert hidden.say("+7 916 555-77-88").startswith("Готово! Вы записаны")
    record = records_by_us(bot.stack)[0]
    run(planned(record["id"])["day_before"])
    reminder = wait_for(lambda: [t for t in hidden.replies() if "Напоминаем" in t], 10, "the reminder in that chat")
    assert "1 — подтверждаю" in reminder[0]
    assert not [m for m in bot.outbox() if m["to"] == "79165557788"], "nothing to the number typed there"
    hidden.seen = len(hidden.replies())
    assert hidden.say("1").startswith("Спасибо, что подтвердили")
    assert bot.stack.data.records[record["id"]]["attendance"] == 2
