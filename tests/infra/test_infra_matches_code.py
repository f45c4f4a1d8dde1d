"""The Terraform deploys what the code needs: every entry point with its settings and secrets, every queue and
scheduled job from the manifest, the Firestore indexes, TTL policies and rules from web/, alerts on log lines the
code really writes, and thin environment roots."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from aiadmin.core.settings import DEPLOYED_SETTINGS, LOCAL_ONLY_SECRETS, SESSION_HOST_SETTINGS, Settings
from tests.infra.conftest import ENVS, INFRA, MODULES, ROOT, block

WEB = ROOT / "web"
FIREBASE = json.loads((WEB / "firebase.json").read_text())
REWRITES = FIREBASE["hosting"]["rewrites"]
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def _resolve(module: str, expr: str) -> Path:
    """`"${path.module}/../../app.json"` (or `${local.web}/…`) as a path from the module's directory."""
    return (MODULES / module / expr.replace("${path.module}/", "")).resolve()


@pytest.fixture(scope="module")
def stack(modules):
    return modules["stack"]


# --- the manifest reaches every module ------------------------------------------------------------------------


def test_the_stack_reads_the_manifest_the_tests_check(stack):
    expr = stack.locals["app"]
    assert expr.startswith("${jsondecode(file(") and expr.endswith("))}")
    path = expr.removeprefix("${jsondecode(file(").removesuffix("))}").strip('"')
    assert _resolve("stack", path) == INFRA / "app.json"


@pytest.mark.parametrize(
    ("module", "argument", "manifest_key"),
    [
        ("functions", "functions", "${local.app.functions}"),
        ("queues", "queues", "${local.app.queues}"),
        ("scheduler", "jobs", "${local.app.schedule.jobs}"),
        ("scheduler", "time_zone", "${local.app.schedule.time_zone}"),
        ("secrets", "secrets", "${local.app.secrets}"),
    ],
)
def test_each_module_is_fed_from_the_manifest(stack, module, argument, manifest_key):
    assert stack.module(module)[argument] == manifest_key


def test_one_function_deployment_per_entry_point(modules, app):
    fn = modules["functions"]
    resource = fn.resource("google_cloudfunctions2_function", "function")
    assert resource["for_each"] == "${local.functions}"
    assert fn.locals["functions"].startswith("${{for name, fn in var.functions")
    assert resource["name"] == "${each.key}"
    build = block(resource["build_config"])
    assert build["entry_point"] == "${each.value.entry_point}"
    assert build["runtime"] == "python311"
    # The manifest's entry points are the functions of functions/main.py, under their own names.
    source = (ROOT / "functions" / "main.py").read_text()
    defined = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    assert set(app["functions"]) <= defined
    assert all(spec["entry_point"] == name for name, spec in app["functions"].items())
    # Per-function tuning may only name real functions.
    assert set(fn.locals["tuning"]) <= set(app["functions"])


def test_private_functions_are_internal_and_invoked_only_by_the_invoker(modules):
    fn = modules["functions"]
    service = block(fn.resource("google_cloudfunctions2_function", "function")["service_config"])
    assert service["ingress_settings"] == '${each.value.private ? "ALLOW_INTERNAL_ONLY" : "ALLOW_ALL"}'
    public = fn.resource("google_cloud_run_v2_service_iam_member", "public")
    invoker = fn.resource("google_cloud_run_v2_service_iam_member", "invoker")
    assert public["member"] == "allUsers" and "if !fn.private" in public["for_each"]
    assert invoker["member"] == "serviceAccount:${var.invoker_email}" and "if fn.private" in invoker["for_each"]


def test_hosting_rewrites_reach_exactly_the_public_functions_in_the_deployed_region(app, envs):
    routed = {r["function"]["functionId"] for r in REWRITES if "function" in r}
    public = {name for name, spec in app["functions"].items() if not spec["private"]}
    assert routed == public, "every public function needs a firebase.json rewrite, and no private one may have one"
    regions = {r["function"]["region"] for r in REWRITES if "function" in r}
    for env in envs.values():
        assert regions == {env.module("aiadmin")["region"]}


def test_queues_and_jobs_are_declared_from_their_inputs(modules):
    queue = modules["queues"].resource("google_cloud_tasks_queue", "queue")
    assert queue["for_each"] == "${var.queues}" and queue["name"] == "${each.key}"
    limits = block(queue["rate_limits"])
    assert limits["max_concurrent_dispatches"] == "${each.value.max_concurrent_dispatches}"
    assert block(queue["retry_config"])["max_attempts"] == "${each.value.max_attempts}"

    job = modules["scheduler"].resource("google_cloud_scheduler_job", "job")
    assert job["for_each"] == "${var.jobs}" and job["name"] == "${each.key}"
    assert job["schedule"] == "${each.value.schedule}"
    assert job["time_zone"] == "${var.time_zone}"
    target = block(job["http_target"])
    assert target["body"] == "${base64encode(jsonencode({job = each.key}))}"  # sync_dispatch's DispatchRequest
    assert block(target["oidc_token"])["service_account_email"] == "${var.invoker_email}"


def test_scheduler_posts_to_sync_dispatch(stack, app):
    assert stack.module("scheduler")["target_url"] == "${local.functions_base_url}/sync_dispatch"
    assert app["functions"]["sync_dispatch"]["private"] is True


# --- settings and secrets -------------------------------------------------------------------------------------


def test_functions_get_every_setting_the_code_requires(stack, app):
    env = stack.locals["function_env"]
    provided = set(env) | set(app["secrets"])
    missing = {name.upper() for name in DEPLOYED_SETTINGS} - provided
    assert not missing, f"Terraform does not set {sorted(missing)} on the functions"
    unknown = set(env) - SETTING_NAMES
    assert not unknown, f"function_env sets variables no setting reads: {sorted(unknown)}"
    assert env["ENV"] == "${var.env}" and env["TASKS_DRIVER"] == "cloud"
    assert env["TASKS_SERVICE_ACCOUNT"] == '${module.foundation.emails["invoker"]}'
    # The host's own deterministic URL: the same one the host checks its callers' audience against.
    assert env["SESSION_HOST_URL"] == "${local.session_host_url}" == stack.locals["host_env"]["SESSION_HOST_URL"]
    assert stack.locals["session_host_url"].startswith("https://session-host-${data.google_project.this.number}.")


def test_every_setting_the_code_requires_is_deployed(stack, app):
    pattern = re.compile(r"\.require\(\s*[\"']([a-z_]+)[\"']\s*\)")
    sources = [*(ROOT / "aiadmin").rglob("*.py"), ROOT / "functions" / "main.py"]
    required = {name for path in sources for name in pattern.findall(path.read_text())}
    assert {"jwt_secret", "tasks_target_base_url", "session_host_url"} <= required  # the scan finds them
    assert required <= set(DEPLOYED_SETTINGS), "a setting the code requires is missing from DEPLOYED_SETTINGS"
    provided = set(stack.locals["function_env"]) | set(app["secrets"])
    assert {name.upper() for name in required} <= provided


def test_secrets_reach_the_functions_from_secret_manager_only(stack, modules, app):
    assert not set(stack.locals["function_env"]) & set(app["secrets"]), "a secret as a plain env var"
    assert not {s.upper() for s in LOCAL_ONLY_SECRETS} & set(stack.locals["function_env"])
    functions = stack.module("functions")
    assert functions["environment"] == "${local.function_env}"
    assert functions["secrets"] == "${module.secrets.secret_ids}"
    service = block(modules["functions"].resource("google_cloudfunctions2_function", "function")["service_config"])
    assert service["environment_variables"] == "${var.environment}"
    mount = block(service["dynamic"])["secret_environment_variables"]
    assert mount["for_each"].startswith("${{for env, secret in var.secrets : env => secret if contains(")
    assert "var.group_secrets[each.value.group]" in mount["for_each"], "each function gets its group's secrets"
    assert block(mount["content"])["version"] == "latest"
    secret = modules["secrets"].resource("google_secret_manager_secret", "secret")
    assert secret["for_each"] == "${var.secrets}"
    # Created without values: no secret version anywhere in the Terraform, so no value ever enters the state.
    assert not [r for m in modules.values() for r in m.resources() if r[0] == "google_secret_manager_secret_version"]


# --- least privilege ------------------------------------------------------------------------------------------


def test_each_function_group_runs_as_its_own_account_and_reads_only_its_secrets(stack, modules, app):
    groups = stack.locals["group_secrets"]
    assert set(groups) == {"public", "tasks", "ai"}
    assert set(stack.locals["group_accounts"]) == set(groups)
    assert {a for a in stack.locals["group_accounts"].values()} == {
        f'${{module.foundation.emails["functions-{g}"]}}' for g in groups
    }
    assert set().union(*groups.values()) == set(app["secrets"]), "every secret is read by some group, no more"
    assert [g for g, names in groups.items() if "GEMINI_API_KEY" in names] == ["ai"]
    assert {g for g, names in groups.items() if {"JWT_SECRET", "WEBHOOK_SECRET"} & set(names)} == {"public"}
    functions = modules["functions"]
    assert '"ai_turn_worker" ? "ai" : (fn.private ? "tasks" : "public")' in functions.locals["functions"]
    service = block(functions.resource("google_cloudfunctions2_function", "function")["service_config"])
    assert service["service_account_email"] == "${var.runtime_service_accounts[each.value.group]}"
    readers = stack.module("secrets")["readers"]
    assert "local.group_accounts[group] if contains(names, env)" in readers
    foundation = modules["foundation"]
    accounts = foundation.locals["accounts"]
    assert {"functions-public", "functions-tasks", "functions-ai"} <= set(accounts) and "functions" not in accounts


def test_the_build_account_holds_no_unconditioned_iam_admin_or_secret_access(modules):
    foundation = modules["foundation"]
    build = foundation.locals["project_roles"]["build"]
    dangerous = {"roles/resourcemanager.projectIamAdmin", "roles/iam.serviceAccountAdmin", "roles/secretmanager.admin"}
    assert not dangerous & set(build), "granted only below, with conditions or as a narrower role"
    iam_admin = foundation.resource("google_project_iam_member", "build_iam_admin")
    assert iam_admin["role"] == "roles/resourcemanager.projectIamAdmin"
    assert "modifiedGrantsByRole" in block(iam_admin["condition"])["expression"]
    admins = [
        m
        for b in foundation.all("resource")
        for m in b.get("google_project_iam_member", {}).values()
        if m["role"] == "roles/iam.serviceAccountAdmin"
    ]
    assert admins == [], "accounts are created by a project owner: no condition can limit iam.serviceAccounts.create"
    custom = foundation.resource("google_project_iam_custom_role", "secrets_manager")
    assert not [p for p in custom["permissions"] if p.startswith("secretmanager.versions")], "never a value"


def test_secrets_wait_for_their_api_and_alerts_for_their_metrics(stack, modules):
    assert "${module.foundation}" in stack.module("secrets")["depends_on"]
    monitoring = modules["monitoring"]
    wait = monitoring.resource("time_sleep", "metrics_settle")
    assert wait["create_duration"] == "600s" and "google_logging_metric.log" in wait["triggers"]["metrics"]
    alert = monitoring.resource("google_monitoring_alert_policy", "log")
    assert "${time_sleep.metrics_settle}" in alert["depends_on"]


def test_the_session_host_gets_its_settings(stack, modules):
    host = modules["session_host"]
    keys = set(stack.locals["host_env"]) | set(host.locals["host_env"])
    missing = {name.upper() for name in SESSION_HOST_SETTINGS} - keys
    assert not missing, f"Terraform does not set {sorted(missing)} on the session host"
    assert keys - {"GOMEMLIMIT"} <= SETTING_NAMES  # the one the Go runtime reads, not our settings
    assert host.locals["host_env"]["GOMEMLIMIT"].endswith("MiB")
    assert host.locals["host_env"]["WHATSAPP_DRIVER"] == "neonize"
    assert host.locals["host_env"]["WA_CREDENTIALS"].startswith("postgres://")
    assert ":" not in host.locals["host_env"]["WA_CREDENTIALS"].split("@")[0].removeprefix("postgres://")


def test_each_session_host_is_one_always_on_private_instance_with_its_own_url(stack, modules):
    host = modules["session_host"]
    service = host.resource("google_cloud_run_v2_service", "host")
    assert service["for_each"] == "${local.host_names}" and service["name"] == "${each.value}"
    assert host.locals["host_names"].startswith("${{for i in range(var.hosts)")
    assert '"session-host"' in host.locals["host_names"], "the first host keeps the URL the functions send to"
    assert stack.locals["session_host_url"].startswith("https://session-host-")
    invoker = host.resource("google_cloud_run_v2_service_iam_member", "invoker")
    assert invoker["for_each"] == "${google_cloud_run_v2_service.host}"
    source = (ROOT / "infra" / "modules" / "session_host" / "main.tf").read_text()
    for resource in ("google_cloud_run_v2_service.host", "google_cloud_run_v2_service_iam_member.invoker"):
        assert f"from = {resource}\n" in source and f'to   = {resource}["0"]' in source, "applied ones are kept"
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    template = block(service["template"])
    assert block(template["scaling"]) == {"min_instance_count": 1, "max_instance_count": 1}
    containers = {c["name"]: c for c in template["containers"]}
    assert block(containers["host"]["resources"])["cpu_idle"] is False
    env = block(containers["host"]["dynamic"])["env"]["for_each"]
    assert env.startswith("${merge(var.environment, local.host_env, {SESSION_HOST_URL = replace(")
    assert '"https://session-host-", "https://${each.value}-"' in env, "each host's own deterministic URL"
    assert "--auto-iam-authn" in containers["cloud-sql-proxy"]["args"]
    assert block(service["traffic"]) == {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}
    assert host.resource("google_sql_user", "host")["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"


def test_every_terraform_setting_name_is_documented_in_the_configuration_reference(stack, modules):
    reference = (ROOT / "docs" / "configuration.md").read_text()
    names = set(stack.locals["function_env"]) | set(modules["session_host"].locals["host_env"])
    undocumented = sorted(n for n in names if f"`{n}`" not in reference)
    assert not undocumented, f"docs/configuration.md lacks {undocumented}"


# --- Firestore ------------------------------------------------------------------------------------------------


def test_firestore_indexes_ttl_and_rules_come_from_web(stack, modules):
    fs = stack.module("firestore")
    assert fs["indexes_file"] == "${local.web}/firestore.indexes.json"
    assert fs["rules_file"] == "${local.web}/firestore.rules"
    web = _resolve("stack", stack.locals["web"])
    assert web == WEB
    firestore = modules["firestore"]
    assert firestore.locals["config"] == "${jsondecode(file(var.indexes_file))}"
    assert firestore.resource("google_firestore_index", "composite")["for_each"] == "${local.indexes}"
    field = firestore.resource("google_firestore_field", "override")
    assert field["for_each"] == "${local.overrides}"
    assert block(field["dynamic"])["ttl_config"]["for_each"] == '${lookup(each.value, "ttl", false) ? [true] : []}'
    ruleset = firestore.resource("google_firebaserules_ruleset", "firestore")
    assert block(block(ruleset["source"])["files"])["content"] == "${file(var.rules_file)}"
    release = firestore.resource("google_firebaserules_release", "firestore")
    assert release["name"] == "cloud.firestore"


def _source(module) -> str:
    return Path(module.__file__).read_text()


def test_ttl_policies_cover_every_expiry_field_the_code_writes():
    from aiadmin.channels import contacts, first_messages
    from aiadmin.core import rate_limit
    from aiadmin.core.models import WaCommand, WebhookReceipt
    from aiadmin.core.repositories import WA_COMMANDS, WEBHOOK_RECEIPTS
    from aiadmin.marketplace import owner_access, owner_page, owner_view, registration
    from aiadmin.reminders.delivery import REMINDERS, ReminderRecord
    from aiadmin.sync import outreach_plan
    from aiadmin.sync.notice_plan import TOLD, Told
    from aiadmin.whatsapp import activity, chat, onboarding_view, owner_notices, voice_notes
    from session_host import host_load, inbound_journal

    written = {
        (WEBHOOK_RECEIPTS, "expire_at"): "expire_at" in WebhookReceipt.model_fields,
        (onboarding_view.ONBOARDING_VIEWS, "expires_at"): "expires_at" in onboarding_view.OnboardingView.model_fields,
        ("messages", "expire_at"): "expire_at" in chat.ChatMessage.model_fields,
        (chat.CONVERSATIONS, "expire_at"): '"expire_at": msg.stored_at + RETENTION' in Path(chat.__file__).read_text(),
        (REMINDERS, "expire_at"): "expire_at" in ReminderRecord.model_fields,
        (TOLD, "expire_at"): "expire_at" in Told.model_fields,
        (chat.DEAD_LETTERS, "expire_at"): "expire_at" in chat.DeadLetter.model_fields,
        (owner_notices.OWNER_NOTICES, "expire_at"): "expire_at" in owner_notices.OwnerNotice.model_fields,
        (owner_notices.NOTICE_HOURS, "expire_at"): '"expire_at": at + RETENTION'
        in Path(owner_notices.__file__).read_text(),
        (activity.OWNER_ACTIVITY, "expire_at"): '"expire_at": utcnow() + RETENTION'
        in Path(activity.__file__).read_text(),
        (owner_view.OWNER_VIEWS, "expires_at"): '{"expires_at": view.expires_at}' in _source(owner_view),
        (WA_COMMANDS, "expire_at"): "expire_at" in WaCommand.model_fields,
        (chat.OUTBOX, "expire_at"): "expire_at" in chat.OutboxEntry.model_fields,
        (inbound_journal.WA_INBOX, "expire_at"): "expire_at" in inbound_journal.JournalEntry.model_fields,
        (host_load.WA_HOSTS, "expire_at"): "expire_at" in host_load.HostLoad.model_fields,
        (chat.BOOKING_CHATS, "expire_at"): '"expire_at": utcnow() + BOOKING_CHAT_KEEP' in _source(chat),
        (registration.REGISTRATIONS, "expire_at"): "expire_at" in registration.Registration.model_fields,
        (owner_access.OWNER_CODES, "expire_at"): "expire_at" in owner_access.OwnerCode.model_fields,
        (owner_access.OWNER_GRANTS, "expire_at"): "expire_at" in owner_access.OwnerGrant.model_fields,
        (rate_limit.RATE_LIMITS, "expire_at"): '"expire_at": ends + KEEP' in _source(rate_limit),
        (owner_page.OWNER_REPLIES, "expire_at"): '"expire_at": utcnow() + timedelta(days=2)' in _source(owner_page),
        (voice_notes.VOICE, "expire_at"): "expire_at" in voice_notes.VoiceNote.model_fields,
        (contacts.CUSTOMER_CHANNELS, "expire_at"): '"expire_at": expire' in _source(contacts),
        (outreach_plan.OUTREACH, "expire_at"): "expire_at" in outreach_plan.OutreachRecord.model_fields,
        (first_messages.OUTREACH_DAYS, "expire_at"): '"expire_at": expire' in _source(first_messages),
        (outreach_plan.WAITLIST, "expire_at"): "expire_at" in outreach_plan.WaitEntry.model_fields,
    }
    assert all(written.values()), written
    config = json.loads((WEB / "firestore.indexes.json").read_text())
    ttl = {(o["collectionGroup"], o["fieldPath"]) for o in config["fieldOverrides"] if o.get("ttl")}
    assert ttl == set(written)


def test_composite_indexes_cover_the_code_queries():
    config = json.loads((WEB / "firestore.indexes.json").read_text())
    indexed = {(i["collectionGroup"], tuple(f["fieldPath"] for f in i["fields"])) for i in config["indexes"]}
    assert ("webhook_receipts", ("salon_id", "kind", "state", "received_at")) in indexed  # data_webhook_worker
    assert ("bookings", ("client_phone", "date")) in indexed  # "my bookings" in AI turns


# --- alerts ---------------------------------------------------------------------------------------------------


def _log_messages() -> set[str]:
    pattern = re.compile(r"log\.(?:debug|info|warning|error|exception|critical)\(\s*\"([^\"]+)\"")
    sources = [*(ROOT / "aiadmin").rglob("*.py"), *(ROOT / "session-host").rglob("*.py")]
    return {m for path in sources for m in pattern.findall(path.read_text())}


def test_alerts_watch_log_lines_the_code_writes(modules):
    monitoring = modules["monitoring"]
    alerts = monitoring.locals["log_alerts"]
    assert {"activation_failures", "whatsapp_logged_out", "sync_errors"} <= set(alerts)
    written = _log_messages()
    for name, alert in alerts.items():
        messages = re.findall(r'jsonPayload\.message="([^"]+)"', alert["filter"])
        assert messages, name
        assert set(messages) <= written, f"{name} watches a log line no code writes: {messages}"
    fivexx = block(monitoring.resource("google_monitoring_alert_policy", "http_5xx")["conditions"])
    assert 'response_code_class="5xx"' in block(fivexx["condition_threshold"])["filter"]


# --- roots ----------------------------------------------------------------------------------------------------


def test_environment_roots_hold_only_literals_and_module_calls(envs):
    for name, env in envs.items():
        assert set(env.blocks) <= {"terraform", "provider", "variable", "module", "output"}, name
        assert [list(b) for b in env.all("module")] == [["aiadmin"]]
        call = env.module("aiadmin")
        assert call["source"] == "../../modules/stack"
        expressions = {k: v for k, v in call.items() if isinstance(v, str) and v.startswith("${")}
        assert expressions == {"release": "${var.release}"}, f"{name}: only the build's release may be an input"
    dev, prod = envs["dev"].module("aiadmin"), envs["prod"].module("aiadmin")
    assert set(dev) == set(prod), "dev and prod must set the same arguments"
    assert dev["env"] == "dev" and prod["env"] == "prod"
    assert dev["project_id"] != prod["project_id"]


def test_each_environment_has_its_own_project_and_state(envs):
    seen = set()
    for name, env in envs.items():
        backend = block(block(env.all("terraform"))["backend"])["gcs"]
        project = env.module("aiadmin")["project_id"]
        assert backend["prefix"].endswith(f"/{name}")
        assert project in backend["bucket"]
        providers = {k: v for p in env.all("provider") for k, v in p.items()}
        assert providers["google"]["project"] == providers["google-beta"]["project"] == project
        seen.add((backend["bucket"], backend["prefix"]))
    assert len(seen) == len(ENVS)


def test_prod_is_protected_and_warm(envs):
    prod = envs["prod"].module("aiadmin")
    assert prod["deletion_protection"] is True
    assert prod["db_availability"] == "REGIONAL"
    assert prod["public_min_instances"] >= 1


def test_cabinet_urls_are_routed_by_hosting(modules):
    cabinet = modules["stack"].all("output")
    urls = next(o["yclients_cabinet"]["value"] for o in cabinet if "yclients_cabinet" in o)
    routes = {r["source"]: r["function"]["functionId"] for r in REWRITES if "function" in r}
    paths = {k: v.removeprefix("${local.base_url}") for k, v in urls.items()}
    assert routes[paths["registration_redirect_url"]] == "registration_redirect"
    assert routes[paths["callback_url"]] == "lifecycle_webhook"
    assert routes[paths["webhook_base_url"] + "**"] == "data_webhook"


def test_every_deployed_route_has_the_csp_and_pages_may_connect_only_to_themselves_and_firestore():
    csp = [
        h["value"]
        for rule in FIREBASE["hosting"]["headers"]
        for h in rule["headers"]
        if h["key"] == "Content-Security-Policy"
    ]
    everywhere = next(rule for rule in FIREBASE["hosting"]["headers"] if rule["source"] == "**")
    assert len(csp) == 1 and {"key": "Content-Security-Policy", "value": csp[0]} in everywhere["headers"]
    csp = csp[0]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]
    assert connect == ["'self'", "https://firestore.googleapis.com"]  # the local gateway adds the emulator
