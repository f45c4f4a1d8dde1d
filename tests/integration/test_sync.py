"""Salon data sync against the Firestore emulator and the YCLIENTS stand-in: each module's mapping (legacy shapes
included), change-only writes, deletions, incremental bookings, failures, and the scheduler's dispatch."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from aiadmin.core import repositories
from aiadmin.core.models import utcnow
from aiadmin.sync import runner
from aiadmin.sync.documents import BOOKINGS, CATEGORIES, CLIENTS, SCHEDULES, SERVICES, STAFF, VISITS
from aiadmin.sync.timetable import JOBS_BY_NAME
from aiadmin.yclients.client import get_yclients
from tests.conftest import GATEWAY, TASK_SECRET, wait_for
from tests.integration.helpers import register

SALON = 962302


@pytest.fixture
def salon(stack, db):
    """An active salon whose YCLIENTS data lives in the stand-in (mutable through `salon.data`)."""
    register()
    repositories.company_ref(db, SALON).update({"integration_status": "active", "whatsapp_connected": True})
    stack.data = stack.standin_state.salon(SALON)
    return stack


def run(db, module: str) -> runner.RunResult:
    return runner.run(db, get_yclients(), SALON, module, slot="test")


def docs(db, collection: str) -> dict[str, dict]:
    coll = repositories.company_ref(db, SALON).collection(collection)
    return {snap.id: snap.to_dict() for snap in coll.stream()}


def state(db, module: str):
    return runner.load_state(db, SALON, module)


def test_services_with_categories_and_legacy_string_ids_and_prices(salon, db):
    result = run(db, "services")
    assert result.state == "ok"
    services = docs(db, SERVICES)
    assert len(services) == len(salon.data.services) == 12
    legacy = services["1002"]  # sent as {"id": "1002", "price_min": "1300.00"}
    assert isinstance(salon.data.services[1002]["id"], str)
    assert legacy["id"] == 1002 and legacy["price_min"] == 1300.0 and legacy["category"] == "Стрижки"
    assert legacy["staff_durations"] == {"2001": 2700, "2002": 2700, "2005": 2700}
    assert {c["title"] for c in docs(db, CATEGORIES).values()} >= {"Стрижки", "Маникюр и педикюр"}
    st = state(db, "services")
    assert (st.state, st.read, st.written, st.yclients_requests) == ("ok", 16, 16, 2)


def test_staff_without_the_dismissed_and_with_empty_positions(salon, db):
    salon.data.staff[2003]["fired"] = 1
    salon.data.staff[2004]["hidden"] = 1
    run(db, "staff")
    staff = docs(db, STAFF)
    assert set(staff) == {"2001", "2002", "2004", "2005"}, "a dismissed master is never offered"
    assert staff["2005"]["position"] is None, "PHP's `position: []`"
    assert staff["2004"]["hidden"] is True


def test_clients_paged_with_phones_normalised(salon, db):
    salon.data.clients.update(
        {9000 + i: {"id": 9000 + i, "name": f"Клиент {i}", "phone": 79990000000 + i} for i in range(400)}
    )
    salon.data.clients[9000]["phone"] = "+7 (999) 000-00-00"
    run(db, "clients")
    clients = docs(db, CLIENTS)
    assert len(clients) == 440
    assert clients["9000"]["phone"] == "79990000000"
    assert state(db, "clients").yclients_requests == 3, "pages of 200"


def test_schedules_with_busy_intervals_and_bookings_with_offsets(pinned_now, salon, db):
    run(db, "bookings_full")
    bookings = docs(db, BOOKINGS)
    assert len(bookings) == 30
    rec = salon.data.records[700000]
    stored = bookings["700000"]
    assert stored["starts_at"] == datetime.fromisoformat(rec["datetime"])
    assert stored["date"] == rec["datetime"][:10] and stored["client_phone"] == rec["client"]["phone"][1:]
    assert rec["last_change_date"].endswith("+0300"), "the legacy offset without a colon"
    assert stored["changed_at"] == datetime.fromisoformat(rec["last_change_date"][:-2] + ":00")
    run(db, "schedules_30d")
    schedules = docs(db, SCHEDULES)
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    assert len(schedules) == len(salon.data.schedule(today, today + timedelta(days=29)))
    day = schedules[f"{rec['staff_id']}_{rec['datetime'][:10]}"]
    assert any(b["start"] == rec["datetime"][11:16] for b in day["busy"]), "the booking is its master's busy time"


def test_visits_hold_the_past_and_bookings_only_what_is_ahead(pinned_now, salon, db):
    past = datetime.now() - timedelta(days=10)
    salon.data.put_record(800001, 2001, 1001, past.replace(hour=12, minute=0, second=0, microsecond=0), 5000)
    run(db, "visits")
    run(db, "bookings_full")
    assert "800001" in docs(db, VISITS) and "800001" not in docs(db, BOOKINGS)


def test_a_second_run_writes_nothing_and_a_change_writes_one_document(salon, db):
    run(db, "services")
    again = run(db, "services")
    assert (again.counts.written, again.counts.unchanged) == (0, 16)
    salon.data.services[1001]["price_min"] = 1999
    changed = run(db, "services")
    assert (changed.counts.written, changed.counts.unchanged) == (1, 15)
    assert docs(db, SERVICES)["1001"]["price_min"] == 1999.0


def test_deletions_upstream_are_reflected(salon, db):
    for module in ("staff", "clients", "bookings_full", "services"):
        run(db, module)
    salon.data.delete_record(700001)
    del salon.data.records[700002]  # gone without a trace
    salon.data.staff[2005]["status"] = 1  # deleted in YCLIENTS
    del salon.data.clients[5001]
    del salon.data.services[1032]
    for module in ("staff", "clients", "bookings_full", "services"):
        run(db, module)
    assert not {"700001", "700002"} & set(docs(db, BOOKINGS))
    assert "2005" not in docs(db, STAFF) and "5001" not in docs(db, CLIENTS) and "1032" not in docs(db, SERVICES)
    assert state(db, "bookings_full").deleted == 2


def test_incremental_bookings_read_only_what_changed(pinned_now, salon, db):
    first = run(db, "bookings")
    assert first.counts.written == 30, "the first run is a full one"
    rec = salon.data.records[700003]
    moved = datetime.fromisoformat(rec["datetime"]).replace(tzinfo=None) + timedelta(hours=1)
    salon.data.put_record(700003, rec["staff_id"], rec["services"][0]["id"], moved, rec["client"]["id"])
    salon.data.delete_record(700004)
    second = run(db, "bookings")
    assert (second.counts.read, second.counts.written, second.counts.deleted) == (2, 1, 1)
    assert state(db, "bookings").yclients_requests == 1
    stored = docs(db, BOOKINGS)
    assert stored["700003"]["starts_at"].hour == (moved.hour - 3) % 24 and stored["700004"]["deleted"] is True


def test_a_failing_module_records_its_error_and_blocks_no_other(salon, db):
    salon.fault("/services", "500", times=10)
    failed = run(db, "services")
    assert failed.state == "failed" and failed.retry, "a 5xx is transient: Cloud Tasks tries again"
    st = state(db, "services")
    assert st.state == "failed" and "500" in st.last_error and st.consecutive_failures == 1
    assert run(db, "staff").state == "ok"
    health = requests.get(f"{GATEWAY}/marketplace/health", headers={"X-AIAdmin-Task-Secret": TASK_SECRET}, timeout=10)
    health = health.json()
    assert health["sync"]["failing"] == [f"{SALON}_services"], "operators see which salon's module fails"
    salon.standin_state.faults.clear()
    assert run(db, "services").state == "ok"
    st = state(db, "services")
    assert st.consecutive_failures == 0 and st.last_success_at is not None


def test_access_lost_is_permanent_and_not_retried(salon, db):
    salon.fault("/staff", "403", times=5)
    result = run(db, "staff")
    assert result.state == "failed" and not result.retry


def test_429_is_honoured_with_retry_after(salon, db):
    salon.fault("/services", "429", times=1, retry_after=1)
    began = time.monotonic()
    assert run(db, "services").state == "ok"
    assert time.monotonic() - began >= 1.0


def test_an_inactive_salon_is_not_synced(salon, db):
    repositories.company_ref(db, SALON).update({"integration_status": "frozen"})
    assert run(db, "services").state == "skipped"
    assert docs(db, SERVICES) == {}


def test_scheduler_dispatch_names_tasks_by_slot_so_a_retry_adds_none(salon, db):
    register(962303)
    repositories.company_ref(db, 962303).update({"integration_status": "active"})
    headers = {
        "X-AIAdmin-Task-Secret": TASK_SECRET,
        "X-CloudScheduler-JobName": "sync-services",
        "X-CloudScheduler-ScheduleTime": "2026-11-26T22:00:00Z",
    }
    url = f"{GATEWAY}/_fn/sync_dispatch"
    first = requests.post(url, json={"job": "sync-services"}, headers=headers, timeout=10).json()
    again = requests.post(url, json={"job": "sync-services"}, headers=headers, timeout=10).json()
    assert (first["created"], first["existing"]) == (2, 0), "one task per active salon"
    assert (again["created"], again["existing"]) == (0, 2), "Cloud Scheduler's retry adds nothing"
    assert first["slot"] == "20261126T2200"
    wait_for(lambda: state(db, "services").state == "ok" and state(db, "services").last_slot == "20261126T2200", 15)
    assert len(docs(db, SERVICES)) == 12
    unknown = requests.post(url, json={"job": "nope"}, headers=headers, timeout=10)
    assert unknown.status_code == 404
    assert requests.post(url, json={"job": "sync-services"}, timeout=10).status_code == 401


def test_the_timetable_is_the_seeds(salon):
    expected = {
        "sync-services": "0 1 * * *",
        "sync-staff": "0 2 * * *",
        "sync-clients": "0 3 * * *",
        "sync-visits": "0 4 * * *",
        "sync-schedules-30d": "0 5 * * *",
        "sync-schedules-today": "0 8-23 * * *",
        "sync-company": "0 0 * * 0",
        "sync-bookings": "*/15 * * * *",
    }
    assert {name: JOBS_BY_NAME[name].schedule for name in expected} == expected


def test_company_info_follows_yclients(salon, db):
    salon.data.company["title"] = "Салон «Лилия» на Тверской"
    assert run(db, "company").counts.written == 1
    assert repositories.get_company(db, SALON).title == "Салон «Лилия» на Тверской"
    assert run(db, "company").counts.written == 0
    assert utcnow() - state(db, "company").last_success_at < timedelta(minutes=1)
