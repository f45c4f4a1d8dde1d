"""GET /marketplace/health: real checks, booleans for settings, never a value."""

from __future__ import annotations

import requests

from aiadmin.core.settings import get_settings
from tests.conftest import GATEWAY, JWT_SECRET, PARTNER_TOKEN, TASK_SECRET

HEALTH = f"{GATEWAY}/marketplace/health"
OURS = {"X-AIAdmin-Task-Secret": TASK_SECRET}  # what the private endpoints accept locally


def test_the_public_health_answer_says_only_up_or_degraded(stack, monkeypatch):
    assert requests.get(HEALTH, timeout=10).json() == {"status": "ok"}
    monkeypatch.setattr(get_settings(), "jwt_secret", None)
    resp = requests.get(HEALTH, timeout=10)
    assert resp.status_code == 503 and resp.json() == {"status": "degraded"}, "no setting names, no salon ids"
    assert requests.get(HEALTH, headers={"X-AIAdmin-Task-Secret": "guess"}, timeout=10).json() == {"status": "degraded"}


def test_health_is_ok_when_storage_queue_and_settings_are_fine(stack):
    resp = requests.get(HEALTH, headers=OURS, timeout=10)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok" and body["missing"] == [] and body["failed"] == []
    assert body["checks"]["firestore"]["ok"] and body["checks"]["task_queue"]["ok"]
    assert all(v is True for v in body["settings"].values())


def test_health_names_missing_settings_without_revealing_any_value(stack, monkeypatch):
    monkeypatch.setattr(get_settings(), "jwt_secret", None)
    resp = requests.get(HEALTH, headers=OURS, timeout=10)
    assert resp.status_code == 503
    body = resp.json()
    assert body["missing"] == ["JWT_SECRET"] and body["settings"]["JWT_SECRET"] is False
    assert PARTNER_TOKEN not in resp.text and JWT_SECRET not in resp.text


def test_health_fails_when_the_task_queue_is_unreachable(stack, monkeypatch):
    monkeypatch.setattr(get_settings(), "tasks_local_url", "http://127.0.0.1:9")
    resp = requests.get(HEALTH, headers=OURS, timeout=10)
    assert resp.status_code == 503 and resp.json()["failed"] == ["task_queue"]


def test_dev_only_placeholders_count_as_missing_in_production(stack, monkeypatch):
    from aiadmin.marketplace.health import check_health

    settings = get_settings()
    monkeypatch.setattr(settings, "env", "prod")
    monkeypatch.setattr(settings, "jwt_secret", type(settings.jwt_secret)("dev-only-jwt-secret"))
    healthy, body = check_health(settings)
    assert not healthy and "JWT_SECRET" in body["missing"]


def test_task_handlers_refuse_callers_without_the_task_secret(stack):
    resp = requests.post(f"{GATEWAY}/_fn/webhook_worker", json={"receipt_key": "x"}, timeout=10)
    assert resp.status_code == 401
    # and they are not reachable through the public (Hosting) paths at all
    assert requests.post(f"{GATEWAY}/webhook_worker", json={}, timeout=10).status_code == 404
