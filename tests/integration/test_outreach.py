"""Messages the salon sends first after a visit, on the whole local stack with the clock pinned to a Wednesday
morning: YCLIENTS marks a visit attended (through its real visits API, which sends the record webhook), one review
request follows after the delay, and the customer's rating and words go where they should; «стоп», a customer who
never wrote and quiet hours are respected; a missed visit gets a word when the owner turned that on."""

from __future__ import annotations

import datetime as dt

import requests

from aiadmin.sync.outreach_plan import OUTREACH, outreach_id
from tests.clock import travel
from tests.conftest import GATEWAY, PARTNER_TOKEN, TASK_SECRET, TASKS, USER_TOKEN, wait_for
from tests.integration.conftest import NOTICES_TO, SALON, Chat
from tests.integration.helpers import owner_api, owner_token
from tests.integration.test_reminders import NOW, client_of, run, salon_books, wednesday  # noqa: F401

LINK = "https://yandex.ru/maps/org/liliya/123"


def outreach_tasks(record_id: int) -> list[dict]:
    tasks = requests.get(f"{TASKS}/tasks", params={"queue": "reminders"}, timeout=10).json()
    return [t for t in tasks if t["name"].startswith("outreach-") and t["payload"]["record_id"] == record_id]


def a_visit_today(stack, phone_client: dict) -> dict:
    """A booking this morning, before the pinned now (the visit has happened)."""
    data = stack.data
    svc = next(s for s in data.services.values() if s["title"] == "Мужская стрижка")
    staff = svc["staff"][0]
    body = {
        "id": max(data.records) + 1,
        "staff_id": staff["id"],
        "service_id": svc["id"],
        "datetime": f"{NOW.date().isoformat()}T09:00:00",
        "client_id": phone_client["id"],
        "seance_length": 3600,
    }
    resp = requests.post(f"{stack.yclients}/_standin/salons/{SALON}/records", json=body, timeout=10)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["record"]


def salon_marks(stack, record: dict, attendance: int) -> None:
    """The salon marks the visit in YCLIENTS (its visits API sends the record webhook), which YCLIENTS may send
    again: the same webhook twice more."""
    rec = stack.data.records[record["id"]]
    headers = {"Authorization": f"Bearer {PARTNER_TOKEN}, User {USER_TOKEN}"}
    url = f"{stack.yclients}/api/v1/visits/{rec['visit_id']}/{rec['id']}"
    body = {
        "attendance": attendance,
        "comment": "",
    }  # YCLIENTS's rate limit may say 429: asked again, as a client would
    wait_for(lambda: requests.put(url, json=body, headers=headers, timeout=10).ok, 10, "YCLIENTS took the mark")
    hook = stack.standin_state.installs[SALON]["webhook_urls"][0]
    body = {"company_id": SALON, "resource": "record", "resource_id": rec["id"], "status": "update", "data": {}}
    for _ in range(2):
        assert requests.post(hook, json=body, timeout=10).status_code == 200


def test_an_attended_visit_gets_one_review_request_and_a_five_gets_the_review_link(wednesday, bot, db):  # noqa: F811
    assert owner_api("PUT", "settings", owner_token(SALON), json={"reviews": {"link": LINK, "delay_min": 60}}).ok
    who = client_of(bot.stack, 3)
    customer = Chat(bot.stack, str(who["phone"]))
    customer.say("Здравствуйте, вы до скольки сегодня?")  # the customer has written to the salon before
    record = a_visit_today(bot.stack, who)
    salon_marks(bot.stack, record, 1)
    tasks = wait_for(lambda: outreach_tasks(record["id"]), 10, "the review request planned")
    bot.stack.dispatcher.wait_idle()
    assert len(outreach_tasks(record["id"])) == 1, "a webhook delivered three times plans one request"
    due = dt.datetime.fromisoformat(tasks[0]["schedule_time"].replace("Z", "+00:00"))
    assert due == dt.datetime.fromisoformat(f"{NOW.date()}T11:00:00+03:00"), "an hour after the visit ended"

    run(tasks[0])
    asked = wait_for(lambda: [t for t in customer.replies() if "Оцените" in t], 10, "the review request")
    assert len(asked) == 1 and "«Мужская стрижка»" in asked[0] and "от 1 до 5" in asked[0] and "«стоп»" in asked[0]
    customer.seen = len(customer.replies())
    thanks = customer.say("5")
    assert thanks.startswith("Спасибо за оценку!") and LINK in thanks, thanks
    event = db.collection(OUTREACH).document(outreach_id(SALON, "review", record["id"])).get().to_dict()
    assert event["rating"] == 5 and event["state"] == "answered" and event["master"]
    again = requests.post(  # Cloud Tasks delivers at least once: the same task again
        f"{GATEWAY}/_fn/outreach_worker",
        json=tasks[0]["payload"],
        headers={"X-AIAdmin-Task-Secret": TASK_SECRET},
        timeout=15,
    )
    assert again.json()["state"] == "duplicate"
    bot.stack.dispatcher.wait_idle()
    assert len([t for t in customer.replies() if "Оцените" in t]) == 1


def test_a_low_rating_asks_what_went_wrong_and_the_words_reach_the_owner_only(wednesday, bot, db):  # noqa: F811
    who = client_of(bot.stack, 4)
    customer = Chat(bot.stack, str(who["phone"]))
    customer.say("Добрый день")
    record = a_visit_today(bot.stack, who)
    salon_marks(bot.stack, record, 1)
    run(wait_for(lambda: outreach_tasks(record["id"]), 10, "planned")[0])
    wait_for(lambda: [t for t in customer.replies() if "Оцените" in t], 10, "the review request")
    customer.seen = len(customer.replies())
    sorry = customer.say("2")
    assert "Что было не так?" in sorry and "http" not in sorry, sorry
    passed = customer.say("Ждала 20 минут, стрижка кривая")
    assert passed.startswith("Спасибо, передал ваши слова владельцу салона"), passed
    told = wait_for(lambda: [t for t in customer.replies(to=NOTICES_TO) if "оценил визит" in t], 10, "the owner")
    assert "на 2 из 5" in told[-1] and "Ждала 20 минут, стрижка кривая" in told[-1]
    event = db.collection(OUTREACH).document(outreach_id(SALON, "review", record["id"])).get().to_dict()
    assert event["rating"] == 2 and event["comment"] == "Ждала 20 минут, стрижка кривая"
    conv = db.collection("conversations").document(f"{SALON}_{who['phone']}").get().to_dict()
    assert conv["waiting_reason"] == "review", "the inbox shows the chat as waiting for a person"


def test_stop_never_wrote_and_quiet_hours_are_respected_but_reminders_still_go(wednesday, bot, db):  # noqa: F811
    stopper, silent = client_of(bot.stack, 5), client_of(bot.stack, 6)
    chat = Chat(bot.stack, str(stopper["phone"]))
    chat.say("Здравствуйте")
    answer = chat.say("стоп")
    assert answer.startswith("Хорошо, больше не будем присылать"), answer
    for who in (stopper, silent):
        record = a_visit_today(bot.stack, who)
        salon_marks(bot.stack, record, 1)
        run(wait_for(lambda r=record: outreach_tasks(r["id"]), 10, "planned")[0])
        bot.stack.dispatcher.wait_idle()
        event = db.collection(OUTREACH).document(outreach_id(SALON, "review", record["id"])).get().to_dict()
        assert event["state"] == "skipped"
    reasons = sorted(d.to_dict()["why"] for d in db.collection(OUTREACH).where("state", "==", "skipped").stream())
    assert reasons == ["the customer asked not to get such messages", "the customer never wrote to the salon"]
    assert not [t for t in bot.outbox() if "Оцените" in t["text"]]

    # The reminder of a booking the stopped customer has still goes.
    booked = salon_books(bot.stack, stopper)
    from tests.integration.test_reminders import planned

    run(planned(booked["id"])["day_before"])
    wait_for(lambda: [t for t in chat.replies() if "Ответьте, пожалуйста" in t], 10, "the reminder")

    # Late in the evening a request waits for the morning.
    third = client_of(bot.stack, 7)
    Chat(bot.stack, str(third["phone"])).say("Здравствуйте")
    record = a_visit_today(bot.stack, third)
    salon_marks(bot.stack, record, 1)
    task = wait_for(lambda: outreach_tasks(record["id"]), 10, "planned")[0]
    with travel(NOW.replace(hour=22, minute=30)):
        run(task)
        later = wait_for(lambda: [t for t in outreach_tasks(record["id"]) if t["name"] != task["name"]], 10, "moved")
    morning = dt.datetime.fromisoformat(later[0]["schedule_time"].replace("Z", "+00:00"))
    assert morning == dt.datetime.fromisoformat(f"{NOW.date() + dt.timedelta(days=1)}T09:00:00+03:00")
    assert not [t for t in bot.outbox() if "Оцените" in t["text"]]


def test_a_missed_visit_gets_a_word_only_when_the_owner_turned_it_on(wednesday, bot, db):  # noqa: F811
    who, other = client_of(bot.stack, 8), client_of(bot.stack, 9)
    for w in (who, other):
        Chat(bot.stack, str(w["phone"])).say("Здравствуйте")
    first = a_visit_today(bot.stack, other)
    salon_marks(bot.stack, first, -1)
    bot.stack.dispatcher.wait_idle()
    assert outreach_tasks(first["id"]) == [], "off by default"
    assert owner_api("PUT", "settings", owner_token(SALON), json={"no_show": {"enabled": True}}).ok
    record = a_visit_today(bot.stack, who)
    salon_marks(bot.stack, record, -1)
    run(wait_for(lambda: outreach_tasks(record["id"]), 10, "planned")[0])
    customer = Chat(bot.stack, str(who["phone"]))
    sent = wait_for(lambda: [t for t in customer.replies() if "не получилось прийти" in t], 10, "the word")
    assert "Жаль, что сегодня не получилось прийти на запись («Мужская стрижка»)" in sent[0] and "«стоп»" in sent[0]


def test_retention_settings_are_validated_field_by_field(bot):
    token = owner_token(SALON)
    for bad in (
        {"reviews": {"delay_min": 5}},
        {"reviews": {"link": "javascript:alert(1)"}},
        {"reviews": {"stars": 5}},
        {"rebooking": {"default_interval_days": 3}},
        {"rebooking": {"per_service": {"abc": 30}}},
    ):
        resp = owner_api("PUT", "settings", token, json=bad)
        assert resp.status_code == 400, (bad, resp.text)
    ok = owner_api("PUT", "settings", token, json={"reviews": {"enabled": False, "link": LINK}})
    assert ok.status_code == 200 and ok.json()["settings"]["reviews"] == {
        "enabled": False,
        "delay_min": 120,
        "link": LINK,
    }


def test_a_booking_request_after_a_low_rating_is_a_booking_not_a_complaint(wednesday, bot, db):  # noqa: F811
    who = client_of(bot.stack, 10)
    customer = Chat(bot.stack, str(who["phone"]))
    customer.say("Здравствуйте")
    record = a_visit_today(bot.stack, who)
    salon_marks(bot.stack, record, 1)
    run(wait_for(lambda: outreach_tasks(record["id"]), 10, "planned")[0])
    wait_for(lambda: [t for t in customer.replies() if "Оцените" in t], 10, "the review request")
    customer.seen = len(customer.replies())
    assert "Что было не так?" in customer.say("3")
    slots = customer.say("Запишите меня на мужскую стрижку завтра")
    assert "Свободное время" in slots or "свободного времени" in slots, slots
    bot.stack.dispatcher.wait_idle()
    assert not [t for t in customer.replies(to=NOTICES_TO) if "оценил визит" in t], "no complaint was made up"
    event = db.collection(OUTREACH).document(outreach_id(SALON, "review", record["id"])).get().to_dict()
    assert event["rating"] == 3 and not event.get("comment")


def test_two_visits_of_one_customer_in_a_day_get_one_request_and_a_reminder_answer_is_not_a_rating(
    wednesday,  # noqa: F811
    bot,
    db,
):
    who = client_of(bot.stack, 11)
    customer = Chat(bot.stack, str(who["phone"]))
    customer.say("Здравствуйте")
    first = a_visit_today(bot.stack, who)
    second = a_visit_today(bot.stack, who)
    for record in (first, second):
        salon_marks(bot.stack, record, 1)
        run(wait_for(lambda r=record: outreach_tasks(r["id"]), 10, "planned")[0])
    bot.stack.dispatcher.wait_idle()
    assert len([t for t in customer.replies() if "Оцените" in t]) == 1, "one question for the customer's day"

    # A reminder of the next booking arrives before the customer rates: «1» confirms that visit.
    from tests.integration.test_reminders import planned

    booked = salon_books(bot.stack, who)
    run(planned(booked["id"])["day_before"])
    wait_for(lambda: [t for t in customer.replies() if "Ответьте, пожалуйста" in t], 10, "the reminder")
    customer.seen = len(customer.replies())
    confirmed = customer.say("1")
    assert confirmed.startswith("Спасибо, что подтвердили"), confirmed
    events = [d.to_dict() for d in db.collection(OUTREACH).stream()]
    assert not [e for e in events if e.get("rating")], "«1» was not taken as a rating"


def past_visit(stack, phone_client: dict, days_ago: int, staff_index: int = 0) -> dict:
    """An attended visit `days_ago` days before the pinned today (YCLIENTS's history)."""
    data = stack.data
    svc = next(s for s in data.services.values() if s["title"] == "Мужская стрижка")
    body = {
        "id": max(data.records) + 1,
        "staff_id": svc["staff"][staff_index]["id"],
        "service_id": svc["id"],
        "datetime": f"{(NOW.date() - dt.timedelta(days=days_ago)).isoformat()}T12:00:00",
        "client_id": phone_client["id"],
        "seance_length": 3600,
    }
    resp = requests.post(f"{stack.yclients}/_standin/salons/{SALON}/records?notify=0", json=body, timeout=10)
    assert resp.status_code in (200, 201), resp.text
    record = resp.json()["record"]
    data.records[record["id"]]["attendance"] = 1
    return record


def test_a_customer_whose_interval_has_passed_gets_one_nudge_with_real_times_and_books_from_it(
    wednesday,  # noqa: F811
    bot,
    db,
):
    from aiadmin.core.task_queue import get_task_queue
    from aiadmin.sync import runner
    from aiadmin.yclients.client import get_yclients
    from tests.integration.conftest import offered_times, records_by_us

    assert owner_api("PUT", "settings", owner_token(SALON), json={"rebooking": {"enabled": True}}).ok
    due, booked, quiet = client_of(bot.stack, 12), client_of(bot.stack, 13), client_of(bot.stack, 14)
    for who in (due, booked, quiet):
        Chat(bot.stack, str(who["phone"])).say("Здравствуйте")
    for who in (due, booked):  # visits 60 and 30 days ago: their own interval is 30 days, and it has passed
        past_visit(bot.stack, who, 60)
        past_visit(bot.stack, who, 30)
    past_visit(bot.stack, quiet, 10)  # ten days since: the default 28 has not passed
    ahead = salon_books(bot.stack, booked)  # this one has booked already
    bookings = db.collection("companies").document(str(SALON)).collection("bookings")
    wait_for(lambda: bookings.document(str(ahead["id"])).get().exists, 10, "the booking synced from its webhook")
    runner.run(db, get_yclients(), SALON, "visits", slot="t1", queue=get_task_queue())
    scans = wait_for(
        lambda: [
            t
            for t in requests.get(f"{TASKS}/tasks", params={"queue": "reminders"}, timeout=10).json()
            if t["name"].startswith("outreach-nudge_scan-")
        ],
        10,
        "the day's scan planned",
    )
    due_at = dt.datetime.fromisoformat(scans[0]["schedule_time"].replace("Z", "+00:00"))
    assert due_at == dt.datetime.fromisoformat(f"{NOW.date()}T11:00:00+03:00")
    with travel(NOW.replace(hour=11, minute=0)):  # the scan's hour: the customers wrote 40 minutes before
        run(scans[0])
        customer = Chat(bot.stack, str(due["phone"]))
        nudge = wait_for(lambda: [t for t in customer.replies() if "Записать вас снова" in t], 15, "the nudge")[-1]
        assert "С вашего визита «Мужская стрижка» прошло 4 недели" in nudge, nudge
        times = offered_times(nudge)
        assert 1 <= len(times) <= 3 and "«стоп»" in nudge
        bot.stack.dispatcher.wait_idle()
        for who in (booked, quiet):
            assert not [t for t in Chat(bot.stack, str(who["phone"])).replies() if "Записать вас снова" in t]

        customer.seen = len(customer.replies())
        proposal = customer.say(f"давайте в {times[0]}")
        assert "Подтверждаете?" in proposal and times[0] in proposal, proposal
        done = customer.say("да")
        assert done.startswith("Готово! Вы записаны"), done
        assert any(r["client"]["phone"] == f"+{due['phone']}" for r in records_by_us(bot.stack))
        nudged = [d.to_dict() for d in db.collection(OUTREACH).stream() if d.to_dict()["kind"] == "nudge"]
        assert len(nudged) == 1 and nudged[0]["booked_record"], "the booking counts for the nudge"

        runner.run(db, get_yclients(), SALON, "visits", slot="t2", queue=get_task_queue())  # the scan again
        bot.stack.dispatcher.wait_idle()
        assert len([t for t in customer.replies() if "Записать вас снова" in t]) == 1, "one nudge per visit"


def test_a_freed_time_goes_to_the_first_waiting_customer_then_to_the_next_who_books_it(
    wednesday,  # noqa: F811
    bot,
    db,
):
    holder, first, second = client_of(bot.stack, 15), client_of(bot.stack, 16), client_of(bot.stack, 17)
    taken = salon_books(bot.stack, holder)
    at = dt.datetime.fromisoformat(taken["datetime"])
    master = taken["staff"]["name"].split()[0]
    bookings = db.collection("companies").document(str(SALON)).collection("bookings")
    wait_for(lambda: bookings.document(str(taken["id"])).get().exists, 10, "the booking synced")
    ask = f"Запишите на мужскую стрижку {at:%d.%m} в {at:%H:%M} к {master}"
    waiting = []
    for who in (first, second):
        customer = Chat(bot.stack, str(who["phone"]))
        customer.say(f"Здравствуйте, меня зовут {who['name'].split()[0]}")
        busy = customer.say(ask)
        assert "уже занято" in busy and "«в лист ожидания»" in busy, busy
        listed = customer.say("Поставьте в лист ожидания")
        assert listed.startswith("Готово, записал вас в лист ожидания") and f"{at:%H:%M}" in listed, listed
        waiting.append(customer)

    # The salon cancels the booking that held the time: the first waiting customer gets it, for 15 minutes.
    assert requests.delete(f"{bot.stack.yclients}/_standin/salons/{SALON}/records/{taken['id']}", timeout=10).ok
    offer = wait_for(lambda: [t for t in waiting[0].replies() if "Освободилось время" in t], 15, "the offer")
    assert f"в {at:%H:%M}" in offer[0] and "«да» в течение 15 минут" in offer[0], offer[0]
    assert not [t for t in waiting[1].replies() if "Освободилось время" in t], "one customer at a time"

    # The first stays silent past the window: the next one gets it, and «да» books it.
    window = wait_for(
        lambda: [t for t in outreach_tasks(taken["id"]) if t["name"].startswith("outreach-waitlist_next-")],
        10,
        "the window's end planned",
    )
    run(window[0])
    wait_for(lambda: [t for t in waiting[1].replies() if "Освободилось время" in t], 15, "the offer to the next")
    waiting[1].seen = len(waiting[1].replies())
    done = waiting[1].say("да")
    assert done.startswith("Готово! Вы записаны") and f"{at:%H:%M}" in done, done
    from tests.integration.conftest import records_by_us

    mine = [r for r in records_by_us(bot.stack) if r["client"]["phone"] == f"+{second['phone']}"]
    assert len(mine) == 1 and mine[0]["datetime"].startswith(at.strftime("%Y-%m-%dT%H:%M"))


def test_two_freed_times_go_to_their_own_waiting_customers_and_each_books_their_own(wednesday, bot, db):  # noqa: F811
    from tests.integration.conftest import records_by_us

    bookings = db.collection("companies").document(str(SALON)).collection("bookings")
    held, customers = [], []
    for n in (18, 19):
        record = salon_books(bot.stack, client_of(bot.stack, n), days_ahead=2 + (n - 18))
        wait_for(lambda r=record: bookings.document(str(r["id"])).get().exists, 10, "synced")
        held.append(record)
    for n, record in zip((20, 21), held, strict=True):
        who = client_of(bot.stack, n)
        at = dt.datetime.fromisoformat(record["datetime"])
        customer = Chat(bot.stack, str(who["phone"]))
        customer.say(f"Здравствуйте, меня зовут {who['name'].split()[0]}")
        master = record["staff"]["name"].split()[0]
        assert "уже занято" in customer.say(f"Запишите на мужскую стрижку {at:%d.%m} в {at:%H:%M} к {master}")
        customer.say("в лист ожидания, пожалуйста")
        customers.append((customer, who, at))
    for record in held:
        assert requests.delete(f"{bot.stack.yclients}/_standin/salons/{SALON}/records/{record['id']}", timeout=10).ok
    for customer, _who, at in customers:
        wait_for(lambda c=customer: [t for t in c.replies() if "Освободилось время" in t], 15, "the offer")
        customer.seen = len(customer.replies())
        done = customer.say("да")
        assert done.startswith("Готово! Вы записаны") and f"{at:%H:%M}" in done, done
    for _, who, at in customers:
        mine = [r for r in records_by_us(bot.stack) if r["client"]["phone"] == f"+{who['phone']}"]
        assert len(mine) == 1 and mine[0]["datetime"].startswith(at.strftime("%Y-%m-%dT%H:%M")), mine
