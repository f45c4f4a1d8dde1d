"""HTTP entry points (functions-framework, Cloud Functions gen2). Each one is thin: parse, call, map."""

from __future__ import annotations

import flask
import functions_framework

from aiadmin.ai import nudges, waitlist
from aiadmin.ai import turn as ai_turn
from aiadmin.ai.providers import get_provider
from aiadmin.channels import bots, intake
from aiadmin.channels import sender as channel_sender
from aiadmin.core import repositories
from aiadmin.core.caller_auth import verify_caller
from aiadmin.core.errors import AppError, NotFound, ServiceUnavailable
from aiadmin.core.firestore_db import get_db
from aiadmin.core.http import json_body, json_endpoint, json_response, page_endpoint, task_payload
from aiadmin.core.logs import configure_logging
from aiadmin.core.models import (
    ActivateRequest,
    DataBatchTask,
    LinkRequest,
    PairingRequest,
    PostActivationTask,
    WebhookTask,
)
from aiadmin.core.settings import get_settings
from aiadmin.core.task_queue import get_task_queue
from aiadmin.core.validation import validate
from aiadmin.marketplace import (
    activation,
    onboarding,
    owner_channels,
    owner_page,
    owner_reports,
    owner_view,
    post_activation,
    registration,
    webhook_intake,
    webhook_processing,
)
from aiadmin.marketplace.health import check_health, public_view
from aiadmin.reminders import delivery as reminder_delivery
from aiadmin.reminders import notices as reminder_notices
from aiadmin.reminders import outreach
from aiadmin.sync import runner as sync_runner
from aiadmin.sync.notice_plan import NoticeTask
from aiadmin.sync.outreach_plan import OutreachTask
from aiadmin.sync.reminder_plan import ReminderTask
from aiadmin.sync.timetable import JOBS_BY_NAME
from aiadmin.whatsapp.chat import AiTurnTask, SendRequest
from aiadmin.whatsapp.owner_feed import OwnerViewTask
from aiadmin.whatsapp.session_status import normalize_pairing_phone
from aiadmin.yclients.client import get_yclients

configure_logging(get_settings().log_level)

ONBOARDING_PATH = "/marketplace/onboarding"
OWNER_PATH = "/marketplace/owner"


@functions_framework.http
@page_endpoint
def registration_redirect(request: flask.Request):
    """GET /auth/yclients/redirect — the marketplace Registration Redirect URL."""
    settings = get_settings()
    parsed = registration.parse_redirect(request.args, settings)
    token, active = registration.register(parsed, settings, get_db(), get_yclients())
    # The owner opening the app of a salon that works already lands on the owner page, not on onboarding.
    return flask.redirect(f"{OWNER_PATH if active else ONBOARDING_PATH}?token={token}", code=302)


@functions_framework.http
@json_endpoint("POST")
def activate(request: flask.Request):
    """POST /marketplace/activate {token}."""
    body = validate(ActivateRequest, json_body(request))
    result = activation.activate(body.token, get_settings(), get_db(), get_yclients(), get_task_queue())
    return json_response(
        {
            "success": True,
            "message": "Integration already active" if result.already_active else "Integration activated",
            "salon_id": result.salon_id,
            "status": "active",
            "already_active": result.already_active,
            "post_activation_queued": result.post_activation_queued,
        }
    )


@functions_framework.http
@json_endpoint("POST")
def lifecycle_webhook(request: flask.Request):
    """POST /webhook/yclients — uninstall / freeze from the YCLIENTS marketplace."""
    intake = webhook_intake.accept_lifecycle(json_body(request), get_settings(), get_db(), get_task_queue())
    return json_response({"success": True, "receipt": intake.key, "duplicate": intake.duplicate})


@functions_framework.http
@json_endpoint("POST")
def data_webhook(request: flask.Request):
    """POST /webhook/yclients/{salon_id}/{token} — record, client, staff, service changes."""
    parts = request.path.strip("/").split("/")
    if len(parts) != 4 or parts[:2] != ["webhook", "yclients"]:
        raise NotFound("no such webhook URL")
    intake = webhook_intake.accept_data(
        json_body(request), parts[2], parts[3], get_settings(), get_db(), get_task_queue()
    )
    return json_response({"success": True, "receipt": intake.key, "duplicate": intake.duplicate})


@functions_framework.http
@json_endpoint("GET")
def health(request: flask.Request):
    """GET /marketplace/health."""
    settings = get_settings()
    healthy, body = check_health(settings)
    try:
        verify_caller(request.headers, settings, settings.tasks_target_base_url)
    except AppError:
        body = public_view(healthy)  # anyone may ask whether we are up; only we see why not
    return json_response(body, 200 if healthy else 503)


@functions_framework.http
@json_endpoint("POST")
def webhook_worker(request: flask.Request):
    """Task: apply one stored webhook."""
    task = task_payload(request, WebhookTask)
    outcome = webhook_processing.process_receipt(get_db(), task.receipt_key)
    return json_response({"success": True, "state": outcome.state, "detail": outcome.detail})


@functions_framework.http
@json_endpoint("POST")
def data_webhook_worker(request: flask.Request):
    """Task: the data-change receipts of one salon, in arrival order."""
    task = task_payload(request, DataBatchTask)
    outcome = webhook_processing.process_data_batch(get_db(), task.salon_id, get_yclients(), get_task_queue())
    return json_response({"success": True, "state": outcome.state, "detail": outcome.detail})


@functions_framework.http
@json_endpoint("POST")
def post_activation_worker(request: flask.Request):
    """Task: the one follow-up of an activation."""
    task = task_payload(request, PostActivationTask)
    did = post_activation.handle(
        get_db(), task, request.headers.get("X-CloudTasks-TaskName"), get_yclients(), get_task_queue(), get_settings()
    )
    return json_response({"success": True, "duplicate": not did})


@functions_framework.http
@json_endpoint("POST")
def sync_dispatch(request: flask.Request):
    """Cloud Scheduler: one timetable job -> one sync task per active salon and module, named by the slot."""
    body = task_payload(request, sync_runner.DispatchRequest)
    slot = sync_runner.slot_of(request.headers.get("X-CloudScheduler-ScheduleTime"))
    if body.job not in JOBS_BY_NAME:
        raise NotFound(f"no sync job named {body.job!r}", code="unknown_job")
    if body.job == owner_reports.SUMMARY_JOB:
        sent = owner_reports.dispatch_summaries(get_db(), get_task_queue(), get_settings())
        return json_response({"success": True, "job": body.job, "summaries": sent})
    created, existing = sync_runner.dispatch(get_db(), get_task_queue(), body.job, slot)
    return json_response({"success": True, "job": body.job, "slot": slot, "created": created, "existing": existing})


@functions_framework.http
@json_endpoint("POST")
def sync_worker(request: flask.Request):
    """Task: one sync module of one salon. A transient failure answers 503 so Cloud Tasks tries again."""
    task = task_payload(request, sync_runner.SyncTask)
    settings = get_settings()
    result = sync_runner.run(
        get_db(),
        get_yclients(),
        task.salon_id,
        task.module,
        slot=task.slot,
        ops_per_second=settings.sync_write_ops_per_s,
        queue=get_task_queue(),
    )
    if result.failing_since is not None:
        owner_reports.sync_failing(
            get_db(), get_task_queue(), settings, task.salon_id, task.module, result.failing_since, result.detail
        )
    if result.retry:
        raise ServiceUnavailable(f"sync {task.module} failed: {result.detail}", code="sync_failed")
    body = {"success": result.state != "failed", "state": result.state, "detail": result.detail}
    return json_response({**body, **vars(result.counts)})


@functions_framework.http
@json_endpoint("GET")
def onboarding_session(request: flask.Request):
    """GET /marketplace/api/session — the page's first call: checks the token, names the salon and its view."""
    settings = get_settings()
    claims = onboarding.claims_from_header(request.headers.get("Authorization"), settings)
    return json_response(onboarding.overview(get_db(), claims, onboarding.view_of(claims, settings)))


@functions_framework.http
@json_endpoint("POST")
def onboarding_qr(request: flask.Request):
    """POST /marketplace/api/qr — start or reuse the salon's session in QR mode."""
    settings = get_settings()
    claims = onboarding.claims_from_header(request.headers.get("Authorization"), settings)
    body = validate(LinkRequest, json_body(request) if request.get_data() else {})
    view = onboarding.view_of(claims, settings)
    return json_response(onboarding.request_link(get_db(), claims, "qr", view=view, confirm_relink=body.confirm_relink))


@functions_framework.http
@json_endpoint("POST")
def onboarding_pairing_code(request: flask.Request):
    """POST /marketplace/api/pairing-code {phone_number} — a code to enter on the salon's phone."""
    settings = get_settings()
    claims = onboarding.claims_from_header(request.headers.get("Authorization"), settings)
    body = validate(PairingRequest, json_body(request))
    phone = normalize_pairing_phone(body.phone_number)
    view = onboarding.view_of(claims, settings)
    return json_response(
        onboarding.request_link(get_db(), claims, "pairing", phone, view=view, confirm_relink=body.confirm_relink)
    )


@functions_framework.http
@json_endpoint("GET")
def onboarding_status(request: flask.Request):
    """GET /marketplace/api/status/{session_id}."""
    settings = get_settings()
    claims = onboarding.claims_from_header(request.headers.get("Authorization"), settings)
    session_id = request.path.rstrip("/").rsplit("/", 1)[-1]
    view = onboarding.view_of(claims, settings)
    return json_response(onboarding.session_status(get_db(), claims, session_id, view))


@functions_framework.http
@json_endpoint("GET", "POST", "PUT", "DELETE")
def owner_api(request: flask.Request):
    """/marketplace/owner/api/… — the owner page: POST access-code, POST access-code/verify {code} (anyone with
    the salon's token), and for its owner: GET page, GET conversations/{phone}, POST conversations/{phone}/takeover
    |resume|reply, POST phone-code {phone}, PUT settings, PUT|DELETE channels/{telegram|max} {bot_token},
    POST channels/{telegram|max}/owner-link."""
    settings = get_settings()
    claims = onboarding.claims_from_header(request.headers.get("Authorization"), settings)
    db = get_db()
    parts = request.path.rstrip("/").split("/api/", 1)[-1].split("/")
    match (request.method, parts):
        case ("POST", ["access-code"]):
            host_url = settings.require("session_host_url")
            return json_response(owner_page.send_access_code(db, get_task_queue(), host_url, settings, claims))
        case ("POST", ["access-code", "verify"]):
            body = validate(owner_page.AccessCode, json_body(request))
            return json_response(owner_page.verify_access_code(db, settings, claims, body.code))
        case ("GET", ["page"]):
            return json_response(owner_page.open_page(db, claims, settings))
        case ("GET", ["conversations", phone]):
            return json_response(owner_page.transcript(db, claims, phone))
        case ("POST", ["conversations", phone, "takeover"]):
            return json_response(owner_page.take_over(db, claims, phone))
        case ("POST", ["conversations", phone, "resume"]):
            return json_response(owner_page.give_back(db, claims, phone))
        case ("POST", ["conversations", phone, "reply"]):
            body = validate(owner_page.Reply, json_body(request))
            host_url = settings.require("session_host_url")
            cap = settings.owner_replies_per_day
            return json_response(owner_page.reply(db, get_task_queue(), host_url, claims, phone, body, cap))
        case ("POST", ["phone-code"]):
            body = validate(owner_page.PhoneCodeRequest, json_body(request))
            host_url = settings.require("session_host_url")
            return json_response(owner_page.send_phone_code(db, get_task_queue(), host_url, settings, claims, body))
        case ("PUT", ["channels", channel]):
            body = validate(bots.BotTokenIn, json_body(request))
            return json_response(owner_channels.connect(db, settings, claims, channel, body.bot_token))
        case ("DELETE", ["channels", channel]):
            return json_response(owner_channels.disconnect(db, settings, claims, channel))
        case ("POST", ["channels", channel, "owner-link"]):
            return json_response(owner_channels.owner_link(db, claims, channel))
        case ("PUT", ["settings"]):
            change = validate(owner_page.SettingsChange, json_body(request))
            queue, host_url = get_task_queue(), settings.session_host_url
            return json_response(owner_page.change_settings(db, queue, host_url, settings, claims, change))
    raise NotFound(f"no owner API {request.method} {'/'.join(parts)[:80]}", code="not_found")


@functions_framework.http
@json_endpoint("POST")
def owner_view_worker(request: flask.Request):
    """Task: rebuild the open owner pages' view of one salon (a turn answered or skipped, a handoff)."""
    task = task_payload(request, OwnerViewTask)
    return json_response({"success": True, "views": owner_view.refresh(get_db(), task.salon_id)})


@functions_framework.http
@json_endpoint("POST")
def ai_turn_worker(request: flask.Request):
    """Task: the AI turn of one conversation (a burst of a customer's messages becomes one turn)."""
    task = task_payload(request, AiTurnTask)
    result = ai_turn.handle(get_db(), task, get_yclients(), get_task_queue(), get_settings(), get_provider())
    return json_response({"success": True, "state": result.state, "commands": list(result.commands)})


@functions_framework.http
@json_endpoint("POST")
def reminder_worker(request: flask.Request):
    """Task: one reminder of one booking, at its `schedule_time`; sent only if the booking still stands."""
    task = task_payload(request, ReminderTask)
    outcome = reminder_delivery.deliver(get_db(), task, get_task_queue(), get_settings())
    return json_response({"success": True, "state": outcome})


@functions_framework.http
@json_endpoint("POST")
def notice_worker(request: flask.Request):
    """Task: tell a customer about a booking the salon made, moved or cancelled (a minute after, merged)."""
    task = task_payload(request, NoticeTask)
    outcome = reminder_notices.deliver(get_db(), task, get_task_queue(), get_settings())
    return json_response({"success": True, "state": outcome})


@functions_framework.http
@json_endpoint("POST")
def channel_webhook(request: flask.Request):
    """POST /channels/{telegram|max}/{salon_id} — the salon's bot's updates, proved by the webhook's secret."""
    parts = request.path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "channels" or not parts[2].isdigit():
        raise NotFound("no such channel webhook", code="not_found")
    channel, salon_id = parts[1], int(parts[2])
    secret = (
        request.headers.get(intake.SECRET_HEADER.get(channel, ""), None) if channel in intake.SECRET_HEADER else None
    )
    settings = get_settings()
    state = intake.accept(get_db(), get_task_queue(), settings, channel, salon_id, secret, json_body(request))
    return json_response({"ok": True, "state": state})


@functions_framework.http
@json_endpoint("POST")
def channel_send_worker(request: flask.Request):
    """Task: one Telegram or MAX message, sent once; a refusal passes it down the customer's cascade."""
    req = task_payload(request, SendRequest)
    attempt = int(request.headers.get("X-CloudTasks-TaskRetryCount", "0") or 0)
    state = channel_sender.deliver(get_db(), get_task_queue(), get_settings(), req, attempt)
    return json_response({"success": True, "state": state})


@functions_framework.http
@json_endpoint("POST")
def outreach_worker(request: flask.Request):
    """Task: a message the salon sends first after a visit (a review request, a word after a missed visit, «пора
    на…»), or a salon's day of «пора на…» worked out."""
    task = task_payload(request, OutreachTask)
    db, queue, settings = get_db(), get_task_queue(), get_settings()
    if task.kind == "nudge_scan":
        company = repositories.get_company(db, task.salon_id)
        queued = nudges.scan(db, company, queue) if company is not None else 0
        return json_response({"success": True, "state": f"queued {queued}"})
    if task.kind == "nudge":
        return json_response({"success": True, "state": nudges.deliver(db, task, queue, settings, get_yclients())})
    if task.kind in ("waitlist", "waitlist_next"):
        return json_response({"success": True, "state": waitlist.offer(db, task, queue, settings, get_yclients())})
    return json_response({"success": True, "state": outreach.deliver(db, task, queue, settings)})
