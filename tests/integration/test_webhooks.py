"""YCLIENTS webhooks: lifecycle (uninstall / freeze) and per-salon data changes; stored, applied once."""

from __future__ import annotations

from typing import Any

import requests

from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.marketplace import webhook_intake, webhook_url_token
from tests.conftest import APP_ID, GATEWAY, PARTNER_TOKEN, TASK_SECRET, WEBHOOK_SECRET, wait_for
from tests.integration.helpers import activate, collection_size, company, event_types, register

S = IntegrationStatus
LIFECYCLE = f"{GATEWAY}/webhook/yclients"


def lifecycle(event: str, **overrides: Any) -> requests.Response:
    body = {"salon_id": 962302, "application_id": int(APP_ID), "event": event, "partner_token": PARTNER_TOKEN}
    body.update(overrides)
    return requests.post(LIFECYCLE, json=body, timeout=10)


NONCE = "install-nonce-1"


def _salon_in(db, status: S) -> None:
    register()
    repositories.company_ref(db, 962302).update(
        {"integration_status": status.value, "whatsapp_connected": True, "api_key": "k" * 64, "webhook_nonce": NONCE}
    )


def _receipt(db, key: str) -> dict:
    return wait_for(
        lambda: (d := repositories.receipt_ref(db, key).get().to_dict()) and d["state"] != "received" and d,
        what="the webhook task to run",
    )


def test_uninstall_stops_the_bot_and_requests_the_session_stop(stack, db):
    _salon_in(db, S.ACTIVE)
    resp = lifecycle("uninstall")
    assert resp.status_code == 200 and resp.json()["success"] is True
    receipt = _receipt(db, resp.json()["receipt"])
    assert receipt["state"] == "processed"
    assert "partner_token" not in receipt["body"], "the partner token is never stored"

    salon = company(db)
    assert salon.integration_status == S.UNINSTALLED and salon.whatsapp_connected is False
    commands = [d.to_dict() for d in db.collection("wa_commands").stream()]
    assert [(c["session_id"], c["command"], c["state"]) for c in commands] == [("company_962302", "stop", "pending")]
    assert event_types(db)[-1] == "uninstalled"


def test_the_same_uninstall_delivered_three_times_has_one_effect(stack, db):
    _salon_in(db, S.ACTIVE)
    answers = [lifecycle("uninstall") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    receipt = _receipt(db, answers[0].json()["receipt"])
    assert receipt["deliveries"] == 3
    stack.dispatcher.wait_idle()
    assert event_types(db).count("uninstalled") == 1
    assert collection_size(db, "wa_commands") == 1
    assert collection_size(db, "webhook_receipts") == 1


def test_wrong_partner_token_or_application_id_is_401_and_changes_nothing(stack, db):
    _salon_in(db, S.ACTIVE)
    assert lifecycle("uninstall", partner_token="guess").status_code == 401
    assert lifecycle("uninstall", application_id=1).status_code == 401
    assert collection_size(db, "webhook_receipts") == 0
    assert company(db).integration_status == S.ACTIVE


def test_freeze_silences_an_active_salon_and_a_payment_brings_it_back(stack, db):
    _salon_in(db, S.ACTIVE)
    _receipt(db, lifecycle("freeze").json()["receipt"])
    assert company(db).integration_status == S.FROZEN
    _receipt(db, lifecycle("payment").json()["receipt"])
    salon = company(db)
    assert salon.integration_status == S.ACTIVE and salon.last_payment_date is not None
    assert event_types(db)[-2:] == ["frozen", "payment_received"]
    commands = sorted(d.get("command") for d in db.collection("wa_commands").stream())
    assert commands == ["pause", "resume"], "the session host is asked to pause, then to resume"


def test_event_type_is_accepted_as_an_alias_of_event(stack, db):
    _salon_in(db, S.ACTIVE)
    body = {"salon_id": 962302, "application_id": APP_ID, "event_type": "freeze"}
    body["partner_token"] = PARTNER_TOKEN
    resp = requests.post(LIFECYCLE, json=body, timeout=10)
    assert resp.status_code == 200
    _receipt(db, resp.json()["receipt"])
    assert company(db).integration_status == S.FROZEN


def test_a_salon_frozen_during_onboarding_stays_frozen_until_it_pays(stack, db):
    """YCLIENTS's billing is a fact: a freeze before activation is kept, not thrown away."""
    token = register()
    repositories.company_ref(db, 962302).update({"whatsapp_connected": True, "whatsapp_phone": "79001112233"})
    receipt = _receipt(db, lifecycle("freeze").json()["receipt"])
    assert receipt["state"] == "processed" and "pending_whatsapp -> frozen" in receipt["outcome"]
    assert company(db).integration_status == S.FROZEN and "frozen" in event_types(db)

    refused = activate(token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "frozen"
    assert stack.calls("/marketplace/partner/callback") == [], "a frozen salon never starts answering customers"

    _receipt(db, lifecycle("payment").json()["receipt"])
    assert company(db).integration_status == S.PENDING_WHATSAPP, "back where it was, not to 'active'"
    commands = sorted(d.get("command") for d in db.collection("wa_commands").stream())
    assert commands == ["pause", "resume"], "the linked phone is paused, then resumed"
    assert activate(token).status_code == 200 and company(db).integration_status == S.ACTIVE


def test_lifecycle_webhooks_apply_in_the_order_they_arrived_whatever_order_their_tasks_run(stack, db, monkeypatch):
    from aiadmin.core.settings import get_settings

    _salon_in(db, S.ACTIVE)
    monkeypatch.setattr(get_settings(), "tasks_local_url", "http://127.0.0.1:9")  # stored, not queued
    keys = []
    for event in ("freeze", "payment"):
        assert lifecycle(event).status_code == 503
        body = {"salon_id": 962302, "application_id": int(APP_ID), "event": event}
        keys.append(webhook_intake.idempotency_key("lifecycle", 962302, body))
    monkeypatch.undo()
    worker = f"{GATEWAY}/_fn/webhook_worker"
    headers = {"X-AIAdmin-Task-Secret": TASK_SECRET}
    late = requests.post(worker, json={"receipt_key": keys[1]}, headers=headers, timeout=20)  # payment's task first
    assert late.status_code == 200 and late.json()["state"] == "processed"
    early = requests.post(worker, json={"receipt_key": keys[0]}, headers=headers, timeout=20)
    assert early.json()["state"] == "already_done", "the freeze was applied first, by the payment's task"
    assert company(db).integration_status == S.ACTIVE
    assert event_types(db)[-2:] == ["frozen", "payment_received"]


def test_freeze_payment_freeze_leaves_the_salon_frozen(stack, db):
    """Byte-identical freezes a minute apart are two events when a payment came between them."""
    _salon_in(db, S.ACTIVE)
    answers = []
    for event in ("freeze", "payment", "freeze"):
        answers.append(lifecycle(event))
        _receipt(db, answers[-1].json()["receipt"])
    assert [a.json()["duplicate"] for a in answers] == [False, False, False]
    assert company(db).integration_status == S.FROZEN
    assert event_types(db)[-3:] == ["frozen", "payment_received", "frozen"]


def test_a_freeze_after_an_uninstall_changes_nothing_and_is_recorded(stack, db):
    _salon_in(db, S.UNINSTALLED)
    receipt = _receipt(db, lifecycle("freeze").json()["receipt"])
    assert receipt["state"] == "processed" and "uninstalled" in receipt["outcome"]
    assert company(db).integration_status == S.UNINSTALLED


def test_lifecycle_for_an_unknown_salon_is_stored_and_ignored(stack, db):
    receipt = _receipt(db, lifecycle("uninstall", salon_id=5550001).json()["receipt"])
    assert receipt["state"] == "ignored"
    assert company(db, 5550001) is None


def test_malformed_or_incomplete_lifecycle_bodies_are_400_and_store_nothing(stack, db):
    headers = {"Content-Type": "application/json"}
    bad_json = requests.post(LIFECYCLE, data="{oops", headers=headers, timeout=10)
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "malformed_json"
    missing = requests.post(LIFECYCLE, json={"salon_id": 962302, "partner_token": PARTNER_TOKEN}, timeout=10)
    assert missing.status_code == 400
    fields = {f["field"] for f in missing.json()["error"]["details"]["fields"]}
    assert fields == {"application_id", "event"}
    assert requests.get(LIFECYCLE, timeout=10).status_code == 405
    assert collection_size(db, "webhook_receipts") == 0


# --- data-change webhooks -------------------------------------------------------------------------------

RECORD = {
    "company_id": 962302,
    "resource": "record",
    "resource_id": 700001,
    "status": "update",
    "data": {"id": 700001, "comment": "перенесли на 18:00"},
}


def data_url(salon_id: int = 962302, token: str | None = None, nonce: str | None = NONCE) -> str:
    """The URL given to YCLIENTS at activation (the salon's install nonce in its token)."""
    token = token or webhook_url_token.token_for(WEBHOOK_SECRET, salon_id, nonce)
    return f"{GATEWAY}/webhook/yclients/{salon_id}/{token}"


def test_data_webhook_is_stored_durably_and_acknowledged(stack, db):
    _salon_in(db, S.ACTIVE)
    resp = requests.post(data_url(), json=RECORD, timeout=10)
    assert resp.status_code == 200
    stored = repositories.receipt_ref(db, resp.json()["receipt"]).get().to_dict()
    assert stored["kind"] == "data" and stored["body"] == RECORD and stored["salon_id"] == 962302


def test_the_same_data_webhook_three_times_is_one_receipt(stack, db):
    _salon_in(db, S.ACTIVE)
    keys = {requests.post(data_url(), json=RECORD, timeout=10).json()["receipt"] for _ in range(3)}
    assert len(keys) == 1
    assert repositories.receipt_ref(db, keys.pop()).get().to_dict()["deliveries"] == 3
    assert collection_size(db, "webhook_receipts") == 1


def test_data_webhook_with_a_wrong_token_is_rejected_and_stores_nothing(stack, db, caplog):
    _salon_in(db, S.ACTIVE)
    assert requests.post(data_url(token="0" * 40), json=RECORD, timeout=10).status_code == 404
    other_salons_token = webhook_url_token.token_for(WEBHOOK_SECRET, 962303, NONCE)
    assert requests.post(data_url(962302, other_salons_token), json=RECORD, timeout=10).status_code == 404
    assert requests.post(f"{GATEWAY}/webhook/yclients/abc/def", json=RECORD, timeout=10).status_code == 404
    assert collection_size(db, "webhook_receipts") == 0
    forged = [r for r in caplog.records if r.getMessage() == "webhook to a retired or forged URL"]
    assert len(forged) == 2, "counted from the log (a log-based metric), not by a write anyone could make"


def test_an_earlier_installs_webhook_url_stops_working_on_uninstall_and_reinstall(stack, db):
    _salon_in(db, S.ACTIVE)
    legacy = data_url(nonce=None)  # the nonce-less URL of a salon activated before nonces: refused once it has one
    assert requests.post(legacy, json=RECORD, timeout=10).status_code == 404
    assert requests.post(data_url(), json=RECORD, timeout=10).status_code == 200
    _receipt(db, lifecycle("uninstall").json()["receipt"])
    assert requests.post(data_url(), json=RECORD, timeout=10).status_code == 404, "uninstalled: no URL answers"
    register()  # reinstalled: the next activation gets a new nonce, the old URL stays dead
    assert company(db).webhook_nonce is None
    assert requests.post(data_url(), json=RECORD, timeout=10).status_code == 404


def test_data_webhook_for_another_company_or_missing_fields_is_400(stack, db):
    _salon_in(db, S.ACTIVE)
    assert requests.post(data_url(), json={**RECORD, "company_id": 1}, timeout=10).status_code == 400
    incomplete = requests.post(data_url(), json={"company_id": 962302, "resource": "record"}, timeout=10)
    assert incomplete.status_code == 400
    assert {f["field"] for f in incomplete.json()["error"]["details"]["fields"]} == {"resource_id", "status"}
    assert collection_size(db, "webhook_receipts") == 0


def test_a_burst_of_data_webhooks_is_handled_by_one_ordered_task_per_salon_window(stack, db):
    from aiadmin.marketplace.webhook_processing import pending_data_receipts

    _salon_in(db, S.ACTIVE)
    keys = []
    for i in range(5):  # partial data, as YCLIENTS may send: each record is fetched again
        body = {**RECORD, "resource_id": 700000 + i, "data": {"id": 700000 + i}}
        keys.append(requests.post(data_url(), json=body, timeout=10).json()["receipt"])

    def data_tasks():
        tasks = [t for t in stack.dispatcher.listing("webhooks", None) if t["name"].startswith("whdata-962302-")]
        return tasks if tasks and all(t["state"] == "done" for t in tasks) else None

    tasks = wait_for(data_tasks, timeout_s=10, what="the salon's data task")
    assert 1 <= len(tasks) <= 2, "one task per 2-second window, not one per webhook"
    assert pending_data_receipts(db, 962302) == []
    receipts = [repositories.receipt_ref(db, k).get().to_dict() for k in keys]
    assert all(r["state"] == "processed" for r in receipts), [r["outcome"] for r in receipts]
    done_at = [r["processed_at"] for r in receipts]
    assert done_at == sorted(done_at), "applied oldest first"
    bookings = repositories.company_ref(db, 962302).collection("bookings")
    assert sorted(int(d.id) for d in bookings.stream()) == [700000 + i for i in range(5)]


def test_an_uninstall_that_cannot_be_queued_is_kept_and_applied_when_delivered_again(stack, db, monkeypatch):
    from aiadmin.core.settings import get_settings

    _salon_in(db, S.ACTIVE)
    monkeypatch.setattr(get_settings(), "tasks_local_url", "http://127.0.0.1:9")
    first = lifecycle("uninstall")
    assert first.status_code == 503 and first.headers["Retry-After"]
    assert collection_size(db, "webhook_receipts") == 1, "stored before answering"
    assert company(db).integration_status == S.ACTIVE
    monkeypatch.undo()
    again = lifecycle("uninstall")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    _receipt(db, again.json()["receipt"])
    assert company(db).integration_status == S.UNINSTALLED


def test_the_same_body_after_the_dedup_window_is_a_new_happening(stack, db, monkeypatch):
    """Uninstall, reinstall, uninstall again: YCLIENTS sends byte-identical bodies; both must apply."""
    from aiadmin.core.settings import get_settings

    _salon_in(db, S.ACTIVE)
    _receipt(db, lifecycle("uninstall").json()["receipt"])
    register()
    repositories.company_ref(db, 962302).update({"integration_status": "active"})
    monkeypatch.setattr(get_settings(), "webhook_dedup_window_s", 0)
    second = lifecycle("uninstall")
    assert second.status_code == 200 and second.json()["duplicate"] is False
    wait_for(lambda: company(db).integration_status == S.UNINSTALLED, what="the second uninstall")
    assert event_types(db).count("uninstalled") == 2
    assert collection_size(db, "wa_commands") == 2, "each uninstall leaves its own stop request"
