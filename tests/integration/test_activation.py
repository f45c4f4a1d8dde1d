"""POST /marketplace/activate: key stored first, YCLIENTS told once, every answer of YCLIENTS on its path."""

from __future__ import annotations

import re

from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.marketplace import webhook_url_token
from tests.conftest import APP_ID, GATEWAY, WEBHOOK_SECRET, wait_for
from tests.integration.helpers import (
    activate,
    company,
    connect_whatsapp,
    event_types,
    follow_registration,
    redirect_params,
    register,
    token_with,
)

S = IntegrationStatus
CALLBACK = "/marketplace/partner/callback/redirect"


def _ready_salon(db) -> str:
    token = register()
    connect_whatsapp(db)
    return token


def test_activation_sends_the_stored_key_to_yclients_and_marks_the_salon_active(stack, db):
    token = _ready_salon(db)
    resp = activate(token)
    assert resp.status_code == 200, resp.text
    assert resp.json()["success"] is True and resp.json()["already_active"] is False

    salon = company(db)
    assert salon.integration_status == S.ACTIVE and salon.activated_at is not None
    assert re.fullmatch(r"[0-9a-f]{64}", salon.api_key)
    calls = stack.calls(CALLBACK)
    assert len(calls) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", salon.webhook_nonce), "the URL carries this install's nonce"
    token_part = webhook_url_token.token_for(WEBHOOK_SECRET, 962302, salon.webhook_nonce)
    assert calls[0]["json"] == {
        "salon_id": 962302,
        "application_id": int(APP_ID),
        "api_key": salon.api_key,
        "webhook_urls": [f"{GATEWAY}/webhook/yclients/962302/{token_part}"],
    }
    assert calls[0]["partner_ok"]
    assert event_types(db)[:3] == ["registration_started", "activation_started", "integration_activated"]
    assert salon.installer.user_id == "1234567" and salon.installer.phone == "79001234567", "who completed it"


def test_a_salon_yclients_does_not_show_ai_admin_installed_in_does_not_go_live(stack, db):
    token = _ready_salon(db)
    stack.fault("/marketplace/salon/962302/application/", "404", times=1)
    resp = activate(token)
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "activation_failed", resp.text
    assert "not installed" in resp.json()["error"]["details"]["reason"]
    salon = company(db)
    assert salon.integration_status == S.ACTIVATION_FAILED and salon.installer is None
    assert activate(token).status_code == 200, "once YCLIENTS shows it installed, the retry goes live"
    assert company(db).integration_status == S.ACTIVE


def test_the_installer_is_whoever_completed_the_first_activation_of_the_install(stack, db):
    first = _ready_salon(db)
    assert activate(first).status_code == 200
    colleague = {"id": 2345678, "name": "Ольга Смирнова", "phone": "79002345678", "is_approved": True}
    again = follow_registration(redirect_params(user={**colleague, "salon_name": company(db).title}))
    token = again.headers["Location"].split("token=", 1)[1]
    assert activate(token).json()["already_active"] is True
    assert company(db).installer.user_id == "1234567", "a later link of another account changes nothing"


def test_activation_queues_the_post_activation_task_which_runs_once(stack, db):
    token = _ready_salon(db)
    assert activate(token).json()["post_activation_queued"] is True
    run = wait_for(lambda: repositories.post_activation_ref(db, 962302).get().to_dict(), what="post-activation")
    assert run["activation_id"] == company(db).activation_id
    assert activate(token).status_code == 200  # a second click re-queues nothing new
    stack.dispatcher.wait_idle()
    assert event_types(db).count("post_activation_received") == 1


def test_activating_an_active_salon_answers_success_without_a_second_callback(stack, db):
    token = _ready_salon(db)
    assert activate(token).status_code == 200
    again = activate(token)
    assert again.status_code == 200 and again.json()["already_active"] is True
    assert len(stack.calls(CALLBACK)) == 1
    assert event_types(db).count("integration_activated") == 1


def test_activation_before_whatsapp_is_connected_is_409_and_calls_nobody(stack, db):
    token = register()
    resp = activate(token)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "whatsapp_not_connected"
    assert stack.calls(CALLBACK) == []
    assert company(db).integration_status == S.PENDING_WHATSAPP


def test_tampered_expired_or_foreign_tokens_are_rejected_and_change_nothing(stack, db):
    token = _ready_salon(db)
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    assert activate(tampered).status_code == 401
    assert activate(token_with(secret="someone-elses-secret-0123456789abcdef")).status_code == 401
    assert activate(token_with(type="something_else")).status_code == 401
    expired = activate(token_with(iat=1_000_000, exp=1_003_600))
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "registration_expired"
    assert activate("not-a-jwt").status_code == 401
    assert stack.calls(CALLBACK) == []
    assert company(db).integration_status == S.PENDING_WHATSAPP and company(db).api_key is None


def test_bad_body_is_a_400_naming_the_problem(stack):
    import requests

    resp = requests.post(f"{GATEWAY}/marketplace/activate", data="{not json", timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "malformed_json"
    resp = requests.post(f"{GATEWAY}/marketplace/activate", json={}, timeout=10)
    assert resp.status_code == 400 and "token" in resp.json()["error"]["message"]
    assert requests.get(f"{GATEWAY}/marketplace/activate", timeout=10).status_code == 405


def test_yclients_4xx_fails_the_activation_with_its_message_and_keeps_the_key(stack, db):
    token = _ready_salon(db)
    stack.standin_config.application_id = "999"  # YCLIENTS does not know our app: "Агрегатор не найден"
    try:
        resp = activate(token)
    finally:
        stack.standin_config.application_id = APP_ID
    assert resp.status_code == 502
    assert "Агрегатор не найден" in resp.json()["error"]["message"]
    salon = company(db)
    assert salon.integration_status == S.ACTIVATION_FAILED
    assert salon.api_key and stack.calls(CALLBACK)[0]["json"]["api_key"] == salon.api_key, "stored before"
    assert len(stack.calls(CALLBACK)) == 1, "a 4xx is not retried"
    events = repositories.list_events(db, 962302)
    assert events[-1].type == "integration_failed" and "Агрегатор не найден" in events[-1].data["reason"]

    retry = activate(token)
    assert retry.status_code == 200
    assert company(db).integration_status == S.ACTIVE
    assert stack.calls(CALLBACK)[-1]["json"]["api_key"] == salon.api_key, "the same key is sent again"


def test_persistent_5xx_is_retried_a_bounded_number_of_times_then_fails(stack, db):
    token = _ready_salon(db)
    stack.fault(CALLBACK, "500", times=10)
    resp = activate(token)
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "activation_failed"
    assert len(stack.calls(CALLBACK)) == 3
    assert company(db).integration_status == S.ACTIVATION_FAILED
    assert company(db).api_key, "the key was saved before the callback"


def test_transient_5xx_html_and_timeout_answers_are_retried_to_success(stack, db):
    token = _ready_salon(db)
    stack.fault(CALLBACK, "503", times=1)
    stack.fault(CALLBACK, "html", times=1)
    resp = activate(token)
    assert resp.status_code == 200, resp.text
    assert len(stack.calls(CALLBACK)) == 3
    assert company(db).integration_status == S.ACTIVE


def test_a_timeout_is_retried(stack, db):
    token = _ready_salon(db)
    stack.fault(CALLBACK, "timeout", times=1)
    assert activate(token).status_code == 200
    assert len(stack.calls(CALLBACK)) == 2


def test_html_every_time_is_a_failure_not_a_success(stack, db):
    token = _ready_salon(db)
    stack.fault(CALLBACK, "html", times=10)
    resp = activate(token)
    assert resp.status_code == 502 and "HTML" in resp.json()["error"]["message"]
    assert company(db).integration_status == S.ACTIVATION_FAILED


def test_a_200_json_answer_is_success_too(stack, db):
    stack.standin_config.callback_answer = 200
    token = _ready_salon(db)
    assert activate(token).status_code == 200
    assert company(db).integration_status == S.ACTIVE


def test_uninstalled_salon_cannot_be_activated(stack, db):
    token = _ready_salon(db)
    repositories.company_ref(db, 962302).update({"integration_status": "uninstalled"})
    resp = activate(token)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "uninstalled"
    assert stack.calls(CALLBACK) == []


def test_an_install_accepted_behind_an_html_answer_is_recognised_on_retry(stack, db):
    """YCLIENTS stored the install but answered HTML; the retry hears "already installed": that is done."""
    token = _ready_salon(db)
    stack.fault(CALLBACK, "accept_html", times=1)
    resp = activate(token)
    assert resp.status_code == 200, resp.text
    assert company(db).integration_status == S.ACTIVE
    activated = [e for e in repositories.list_events(db, 962302) if e.type == "integration_activated"]
    assert activated[0].data["already_installed"] is True


def test_two_simultaneous_activations_call_yclients_once(stack, db):
    from concurrent.futures import ThreadPoolExecutor

    token = _ready_salon(db)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(activate, [token, token]))
    assert sorted(a.status_code for a in answers)[0] == 200
    assert {a.status_code for a in answers} <= {200, 409}
    assert len(stack.calls(CALLBACK)) == 1
    assert company(db).integration_status == S.ACTIVE
