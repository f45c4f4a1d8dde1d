"""Sync as a salon meets it: activation fills the salon's data and ends with one welcome message in its
WhatsApp; YCLIENTS's record webhooks change the bookings at once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import requests

from aiadmin.core import repositories
from aiadmin.sync import runner
from aiadmin.sync.documents import BOOKINGS, CLIENTS, SERVICES
from aiadmin.sync.timetable import ACTIVATION_FIRST, ACTIVATION_THEN
from tests.conftest import GATEWAY, TASK_SECRET, YCLIENTS, running_session_host, wait_for
from tests.integration.helpers import activate, connect_whatsapp, register

SALON, SID, PHONE = 962302, "company_962302", "79161234567"


def api(method: str, path: str, token: str, **kwargs) -> requests.Response:
    return requests.request(
        method, f"{GATEWAY}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=15, **kwargs
    )


def bookings(db) -> dict[str, dict]:
    """The live bookings (a cancelled one stays as a tombstone until the nightly full pass)."""
    coll = repositories.company_ref(db, SALON).collection(BOOKINGS)
    return {s.id: s.to_dict() for s in coll.stream() if not s.to_dict().get("deleted")}


def outbox() -> list[dict]:
    return requests.get(f"{GATEWAY}/simulator/sessions/{SID}/outbox", timeout=10).json()


def linked_and_activated(db) -> str:
    """Through the page's API and the simulator, as an owner would; returns the page's view id."""
    token = register()
    view_id = api("GET", "/marketplace/api/session", token).json()["view_id"]
    assert api("POST", "/marketplace/api/qr", token).json()["status"] == "qr"
    requests.post(f"{GATEWAY}/simulator/sessions/{SID}/scan", json={"phone": PHONE}, timeout=10)
    wait_for(lambda: repositories.get_company(db, SALON).whatsapp_connected, 5, "linked")
    assert activate(token).status_code == 200
    return view_id


def test_activation_syncs_the_salon_then_welcomes_it_once(stack, db, tmp_path):
    with running_session_host(db, tmp_path, "host-sync", sender_opts={"interval_s": 0.1, "jitter_s": 0.0}):
        view_id = linked_and_activated(db)

        welcome = wait_for(outbox, 20, "the welcome message")
        for module in (*ACTIVATION_FIRST, *ACTIVATION_THEN):
            wait_for(lambda m=module: runner.load_state(db, SALON, m).state == "ok", 20, f"{module} synced")
        assert len(welcome) == 1 and welcome[0]["to"] == PHONE
        assert "Салон красоты «Лилия»" in welcome[0]["text"] and "12 услуг" in welcome[0]["text"]
        salon = repositories.company_ref(db, SALON)
        assert len(list(salon.collection(SERVICES).stream())) == 12
        assert len(list(salon.collection(CLIENTS).stream())) == 40
        assert len(bookings(db)) == 30
        view = db.collection("onboarding_views").document(view_id)
        wait_for(lambda: view.get().to_dict()["setup"]["state"] == "done", 10, "the owner's page hears the data is in")

        # The task delivered again (Cloud Tasks is at-least-once): no second welcome, no second task.
        task = {"salon_id": SALON, "activation_id": repositories.get_company(db, SALON).activation_id}
        again = requests.post(
            f"{GATEWAY}/_fn/post_activation_worker",
            json=task,
            headers={"X-AIAdmin-Task-Secret": TASK_SECRET},
            timeout=30,
        )
        assert again.status_code == 200 and again.json()["duplicate"] is True
        stack.dispatcher.wait_idle()
        assert len(outbox()) == 1


def test_modules_that_fail_for_good_stop_no_other_and_the_page_says_what_comes_later(stack, db, tmp_path):
    stack.fault(f"/company/{SALON}/services", "404", times=1000)  # gone for this salon: permanent
    stack.fault("/clients/search", "404", times=1000)
    with running_session_host(db, tmp_path, "host-sync", sender_opts={"interval_s": 0.1, "jitter_s": 0.0}):
        view_id = linked_and_activated(db)
        welcome = wait_for(outbox, 20, "the welcome message, services or not")
        for module in ("company", "staff", "schedules_30d", "bookings_full", "visits"):
            wait_for(lambda m=module: runner.load_state(db, SALON, m).state == "ok", 20, f"{module} synced")
        for module in ("services", "clients"):
            wait_for(lambda m=module: runner.load_state(db, SALON, m).state == "failed", 20, f"{module} recorded")
        view = db.collection("onboarding_views").document(view_id)
        setup = wait_for(lambda: view.get().to_dict().get("setup", {}).get("state") == "partial" and view.get(), 10)
        assert setup.to_dict()["setup"]["message"] == (
            "Салон подключён; услуги и цены загрузятся позже — мы повторим автоматически."
        )
        assert len(welcome) == 1 and "Салон красоты «Лилия»" in welcome[0]["text"]
        events = [e for e in repositories.list_events(db, SALON) if e.type == "setup_failed"]
        assert [e.data["module"] for e in events] == ["services"]
        assert len(bookings(db)) == 30, "bookings do not depend on the catalogue"


def test_a_salon_without_service_categories_still_gets_its_services(stack, db, tmp_path):
    stack.fault("/service_categories", "404", times=1000)  # some YCLIENTS accounts answer 404 here
    with running_session_host(db, tmp_path, "host-sync", sender_opts={"interval_s": 0.1, "jitter_s": 0.0}):
        view_id = linked_and_activated(db)
        welcome = wait_for(outbox, 20, "the welcome message")
        view = db.collection("onboarding_views").document(view_id)
        wait_for(lambda: view.get().to_dict().get("setup", {}).get("state") == "done", 10, "setup done")
    assert runner.load_state(db, SALON, "services").state == "ok"
    services = list(repositories.company_ref(db, SALON).collection(SERVICES).stream())
    assert len(services) == 12 and all(s.get("category") is None for s in services)
    assert "12 услуг" in welcome[0]["text"]


def test_a_failed_first_sync_is_visible_and_retried(stack, db):
    stack.fault(f"/company/{SALON}/services", "500", times=12)  # YCLIENTS down for the first tries
    token = register()
    connect_whatsapp(db)
    assert activate(token).status_code == 200
    wait_for(lambda: runner.load_state(db, SALON, "services").state == "failed", 20, "the failure recorded")
    # The event is written just after the sync state, so it is awaited rather than read at once.
    wait_for(lambda: "setup_failed" in [e.type for e in repositories.list_events(db, SALON)], 10, "an operator sees it")
    wait_for(lambda: runner.load_state(db, SALON, "services").state == "ok", 30, "the retried task succeeds")


@pytest.fixture
def active_salon(stack, db):
    """Activated through the real flow, so YCLIENTS (the stand-in) holds our per-salon webhook URL."""
    token = register()
    connect_whatsapp(db)
    repositories.company_ref(db, SALON).update({"whatsapp_phone": None})  # no session host here: no welcome
    assert activate(token).status_code == 200
    wait_for(lambda: runner.load_state(db, SALON, "bookings_full").state == "ok", 20, "first sync")
    return stack


def our_webhook_url(stack) -> str:
    """The data-webhook URL we gave YCLIENTS at activation."""
    with stack.standin_state.lock:
        return stack.standin_state.installs[SALON]["webhook_urls"][0]


def standin(path: str, method: str = "POST", **body) -> dict:
    resp = requests.request(method, f"{YCLIENTS}/_standin/salons/{SALON}{path}", json=body or None, timeout=20)
    assert resp.ok, resp.text
    return resp.json()


def test_record_webhooks_change_bookings_at_once(active_salon, db):
    when = (datetime.now() + timedelta(days=3)).replace(hour=15, minute=30, second=0, microsecond=0)
    made = standin("/records", id=900001, staff_id=2003, service_id=1021, datetime=when.isoformat(), client_id=5000)
    assert made["webhooks"] == [200], "YCLIENTS delivered it to our per-salon URL"
    booked = wait_for(lambda: bookings(db).get("900001"), 10, "the new booking")
    assert booked["staff_id"] == 2003 and booked["services"][0]["title"] == "Маникюр с покрытием гель-лак"

    later = when + timedelta(hours=2)
    standin("/records", id=900001, staff_id=2003, service_id=1021, datetime=later.isoformat(), client_id=5000)
    wait_for(
        lambda: (
            (b := bookings(db).get("900001")) and b["changed_at"] and b["starts_at"].hour != booked["starts_at"].hour
        ),
        10,
        "moved",
    )

    standin("/records/900001", method="DELETE")
    wait_for(lambda: "900001" not in bookings(db), 10, "the cancelled booking gone")
    # A late copy of the earlier update (webhooks come in no guaranteed order) does not bring it back.
    late = {
        "company_id": SALON,
        "resource": "record",
        "resource_id": 900001,
        "status": "update",
        "data": made["record"],
    }
    assert requests.post(our_webhook_url(active_salon), json=late, timeout=10).status_code == 200
    time.sleep(3.0)
    assert "900001" not in bookings(db)


def test_a_missed_webhook_is_caught_by_the_next_incremental_pass(active_salon, db):
    when = (datetime.now() + timedelta(days=2)).replace(hour=11, minute=0, second=0, microsecond=0)
    requests.post(
        f"{YCLIENTS}/_standin/salons/{SALON}/records?notify=0",
        json={"id": 900002, "staff_id": 2001, "service_id": 1001, "datetime": when.isoformat(), "client_id": 5001},
        timeout=10,
    )
    assert "900002" not in bookings(db), "YCLIENTS never told us"
    from aiadmin.yclients.client import get_yclients

    assert runner.run(db, get_yclients(), SALON, "bookings").state == "ok"
    assert "900002" in bookings(db)


def test_a_forged_data_webhook_changes_nothing_yclients_does_not_say(active_salon, db):
    """Whoever learns the URL cannot move a client's booking onto their phone, pin it with a change date in
    2099, or cancel it: the webhook only makes us read the record again."""
    record = active_salon.standin_state.salon(SALON).records[700001]
    before = bookings(db)["700001"]
    forged = [
        {**record, "client": {**record["client"], "phone": "+79990001122"}, "last_change_date": "2099-01-01 00:00:00"},
        {"id": 700001, "deleted": True},
    ]
    url = our_webhook_url(active_salon)
    for status, data in (("update", forged[0]), ("delete", forged[1])):
        body = {"company_id": SALON, "resource": "record", "resource_id": 700001, "status": status, "data": data}
        assert requests.post(url, json=body, timeout=10).status_code == 200
    wait_for(
        lambda: all(t["state"] == "done" for t in active_salon.dispatcher.listing("webhooks", None)), 10, "applied"
    )
    time.sleep(0.5)
    after = bookings(db)["700001"]
    assert after["client_phone"] == before["client_phone"] == record["client"]["phone"].lstrip("+")
    assert after["changed_at"] == before["changed_at"] and after["changed_at"].year < 2099
    assert len(active_salon.calls("/record/962302/700001")) >= 1, "YCLIENTS was asked instead"

    # A real change later is still taken: nothing was pinned.
    moved = datetime.fromisoformat(record["datetime"]).replace(tzinfo=None) + timedelta(hours=1)
    standin(
        "/records",
        id=700001,
        staff_id=record["staff_id"],
        service_id=record["services"][0]["id"],
        datetime=moved.isoformat(),
        client_id=record["client"]["id"],
    )
    wait_for(lambda: bookings(db)["700001"]["starts_at"] != before["starts_at"], 10, "the real change")
