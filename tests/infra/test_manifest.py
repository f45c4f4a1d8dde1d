"""infra/app.json is what Terraform deploys from the code: it must be current, and it must change (so the check
fails until someone regenerates it) whenever a function, queue, scheduled job or secret setting is added."""

from __future__ import annotations

import json
from dataclasses import replace

from pydantic import SecretStr

from aiadmin.core.queues import QueueSpec
from aiadmin.core.settings import Settings
from tests.infra.conftest import INFRA, load_script

manifest = load_script("manifest")

NEW_HANDLER = '''

@functions_framework.http
@json_endpoint("POST")
def reminder_worker(request: flask.Request):
    """Task: one visit reminder."""
    task = task_payload(request, WebhookTask)
    return json_response({"success": True, "key": task.receipt_key})


@functions_framework.http
def reminder_preview(request: flask.Request):
    return json_response({"success": True})
'''


def _stale(capsys) -> bool:
    code = manifest.main(["--check"])
    return code == 1 and "make infra-manifest" in capsys.readouterr().err


def test_the_committed_manifest_is_what_the_code_says(capsys):
    assert json.loads((INFRA / "app.json").read_text()) == manifest.build()
    assert manifest.main(["--check"]) == 0, capsys.readouterr().err


def test_every_entry_point_is_listed_with_its_privacy(app):
    functions = app["functions"]
    assert functions["activate"] == {"entry_point": "activate", "private": False}
    assert functions["ai_turn_worker"]["private"] is True  # Cloud Tasks only
    assert functions["sync_dispatch"]["private"] is True  # Cloud Scheduler only
    assert functions["registration_redirect"]["private"] is False


def test_a_new_function_makes_the_manifest_stale(tmp_path, monkeypatch, capsys):
    main_py = tmp_path / "main.py"
    main_py.write_text(manifest.FUNCTIONS_MAIN.read_text() + NEW_HANDLER)
    monkeypatch.setattr(manifest, "FUNCTIONS_MAIN", main_py)
    functions = manifest.build()["functions"]
    assert functions["reminder_worker"] == {"entry_point": "reminder_worker", "private": True}
    assert functions["reminder_preview"]["private"] is False
    assert _stale(capsys)


def test_a_new_queue_makes_the_manifest_stale(monkeypatch, capsys):
    queues = {**manifest.QUEUES, "exports": QueueSpec("exports", 5, 5, 5, 10, 300)}
    monkeypatch.setattr(manifest, "QUEUES", queues)
    assert manifest.build()["queues"]["exports"]["max_backoff"] == "300s"
    assert _stale(capsys)


def test_a_new_scheduled_job_makes_the_manifest_stale(monkeypatch, capsys):
    reminders = replace(manifest.JOBS[0], name="reminders-evening", schedule="0 19 * * *", description="reminders")
    monkeypatch.setattr(manifest, "JOBS", (*manifest.JOBS, reminders))
    assert manifest.build()["schedule"]["jobs"]["reminders-evening"]["schedule"] == "0 19 * * *"
    assert _stale(capsys)


def test_a_new_secret_setting_makes_the_manifest_stale(monkeypatch, capsys):
    class WithReminderKey(Settings):
        sms_api_key: SecretStr | None = None

    monkeypatch.setattr(manifest, "Settings", WithReminderKey)
    assert manifest.build()["secrets"]["SMS_API_KEY"] == "sms-api-key"
    assert _stale(capsys)


def test_local_only_secrets_are_not_deployed(app):
    assert "TASK_SHARED_SECRET" not in app["secrets"]  # OIDC stands in for it when deployed
    assert set(app["secrets"]) == {
        "GEMINI_API_KEY",
        "JWT_SECRET",
        "WEBHOOK_SECRET",
        "YCLIENTS_PARTNER_TOKEN",
        "YCLIENTS_USER_TOKEN",
    }
