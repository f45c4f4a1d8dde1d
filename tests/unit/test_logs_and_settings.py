import json
import logging

from aiadmin.core.logs import TRACE_KEY, CloudLoggingFormatter, bind_trace, mask_phone
from aiadmin.core.settings import Settings


def test_log_lines_are_cloud_logging_json_with_fields():
    record = logging.makeLogRecord(
        {"levelname": "WARNING", "msg": "webhook %s", "args": ("stored",), "salon_id": 962302, "name": "t"}
    )
    line = json.loads(CloudLoggingFormatter().format(record))
    assert line["severity"] == "WARNING" and line["message"] == "webhook stored" and line["salon_id"] == 962302


def test_phone_numbers_are_masked_in_the_middle():
    assert mask_phone("+7 (916) 123-45-67") == "791*****567"
    assert mask_phone(None) is None


def test_missing_lists_required_settings_by_name_only():
    settings = Settings(env="prod", yclients_partner_token="dev-only-x", jwt_secret="", tasks_driver="local")
    missing = settings.missing()
    assert "YCLIENTS_PARTNER_TOKEN" in missing and "JWT_SECRET" in missing
    assert all("dev-only" not in m for m in missing)


def test_log_lines_of_a_request_carry_its_cloud_trace():
    bind_trace("105445aa7843bc8bf206b12000100000/1;o=1", "ai-admin-prod")
    try:
        line = json.loads(CloudLoggingFormatter().format(logging.makeLogRecord({"msg": "x", "levelname": "INFO"})))
        assert line[TRACE_KEY] == "projects/ai-admin-prod/traces/105445aa7843bc8bf206b12000100000"
    finally:
        bind_trace(None, None)


def test_a_webhook_urls_token_never_reaches_a_log_line():
    from aiadmin.core.http import loggable_path

    assert loggable_path("/webhook/yclients/962302/4981b5b6ab9f3fc49f0f1b311272bfb9f8732dac") == (
        "/webhook/yclients/962302/…"
    )
    assert loggable_path("/marketplace/activate") == "/marketplace/activate"


def test_a_question_waits_a_short_quiet_and_a_fragment_the_whole_burst_window():
    from aiadmin.core.settings import Settings
    from aiadmin.whatsapp.chat import quiet_for

    settings = Settings(ai_burst_quiet_s=3.0, ai_complete_quiet_s=0.8)
    assert quiet_for("Сколько стоит мужская стрижка?", settings) == 0.8
    assert quiet_for("Здравствуйте", settings) == 3.0
    assert quiet_for("сколько стоит", settings) == 3.0
