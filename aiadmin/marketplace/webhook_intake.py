"""Webhook intake: authenticate, store the raw delivery under an idempotency key, queue the work, answer.

Nothing here acts on the webhook: a serverless instance may be frozen the moment it has answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.core import repositories
from aiadmin.core.errors import BadRequest, NotFound, ServiceUnavailable, Unauthorized
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import (
    DataBatchTask,
    DataWebhook,
    LifecycleWebhook,
    ReceiptKind,
    WebhookReceipt,
    WebhookTask,
    salon_id_from_text,
    utcnow,
)
from aiadmin.core.queues import WEBHOOKS
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.core.validation import validate
from aiadmin.marketplace import webhook_url_token

log = logging.getLogger("aiadmin.webhooks")

RECEIPT_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Intake:
    key: str
    duplicate: bool
    queued: bool  # its work is queued (or already done)


def idempotency_key(kind: ReceiptKind, salon_id: int, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{kind}:{salon_id}:{canonical}".encode()).hexdigest()


# Data-change webhooks of one salon are applied by one task per window, in arrival order: fewer task runs,
# and a record's create/update/delete are never applied by two workers at once.
DATA_BATCH_WINDOW_S = 2
_recent_batches: set[str] = set()  # per instance: skip enqueue calls already made (names dedup anyway)


def _task_for(receipt: WebhookReceipt) -> Task:
    if receipt.kind == "lifecycle":
        return Task(
            queue=WEBHOOKS.name,
            name=task_name("wh", receipt.key[:40], int(receipt.received_at.timestamp() * 1000)),
            function="webhook_worker",
            payload=WebhookTask(receipt_key=receipt.key).model_dump(),
        )
    now = receipt.received_at.timestamp()
    window = int(now // DATA_BATCH_WINDOW_S)
    return Task(
        queue=WEBHOOKS.name,
        name=task_name("whdata", receipt.salon_id, window),
        function="data_webhook_worker",
        payload=DataBatchTask(salon_id=receipt.salon_id, window=window).model_dump(),
        delay_s=(window + 1) * DATA_BATCH_WINDOW_S - now,
    )


def _enqueue(queue: TaskQueue, receipt: WebhookReceipt) -> bool:
    task = _task_for(receipt)
    if task.name in _recent_batches:
        return True
    try:
        created = queue.enqueue(task)
    except Exception:
        # The receipt is stored. A lifecycle sender is told to retry (503); a later data webhook of the same
        # salon queues a batch that picks this receipt up too.
        log.exception("webhook stored but not queued", extra={"receipt": receipt.key, "salon_id": receipt.salon_id})
        return False
    if receipt.kind == "data":
        if len(_recent_batches) > 10_000:
            _recent_batches.clear()
        _recent_batches.add(task.name)
    log.debug("webhook task %s", "queued" if created else "already queued", extra={"task_name": task.name})
    return True


def store_and_queue(
    db: firestore.Client,
    queue: TaskQueue,
    settings: Settings,
    kind: ReceiptKind,
    salon_id: int,
    body: dict[str, Any],
) -> Intake:
    key = idempotency_key(kind, salon_id, body)
    now = utcnow()
    receipt = WebhookReceipt(
        key=key, kind=kind, salon_id=salon_id, body=body, received_at=now, expire_at=now + RECEIPT_RETENTION
    )
    ref = repositories.receipt_ref(db, key)
    started = time.perf_counter()
    try:
        ref.create(receipt.to_firestore())
    except gexc.Conflict:
        snapshot = ref.get()
        existing = repositories.load_receipt(snapshot)
        window = timedelta(seconds=settings.webhook_dedup_window_s)
        # Freeze, payment, freeze: the second freeze is news, not the first one delivered again.
        if (
            existing is not None
            and now - existing.received_at < window
            and not (kind == "lifecycle" and _newer_lifecycle(db, existing))
        ):
            ref.update({"deliveries": firestore.Increment(1)})
            queued = existing.state != "received" or _enqueue(queue, existing)
            log.info("duplicate webhook delivery", extra={"receipt": key, "salon_id": salon_id, "kind": kind})
            return Intake(key, duplicate=True, queued=queued)
        # Same content long after the first delivery: a new happening (say, a second uninstall).
        ref.update(receipt.to_firestore(), option=db.write_option(last_update_time=snapshot.update_time))
    stored = time.perf_counter()
    queued = _enqueue(queue, receipt)
    timing = {
        "store_ms": round((stored - started) * 1000, 1),
        "enqueue_ms": round((time.perf_counter() - stored) * 1000, 1),
    }
    log.info("webhook stored", extra={"receipt": key, "salon_id": salon_id, "kind": kind, "queued": queued, **timing})
    return Intake(key, duplicate=False, queued=queued)


def _newer_lifecycle(db: firestore.Client, receipt: WebhookReceipt) -> bool:
    """Did another lifecycle webhook of this salon arrive after this one?"""
    query = (
        db.collection(repositories.WEBHOOK_RECEIPTS)
        .where(filter=FieldFilter("salon_id", "==", receipt.salon_id))
        .where(filter=FieldFilter("kind", "==", "lifecycle"))
        .where(filter=FieldFilter("received_at", ">", receipt.received_at))
        .limit(1)
    )
    return any(True for _ in query.stream())


def accept_lifecycle(body: dict[str, Any], settings: Settings, db: firestore.Client, queue: TaskQueue) -> Intake:
    hook = validate(LifecycleWebhook, body)
    token_ok = hmac.compare_digest(hook.partner_token.encode(), settings.require("yclients_partner_token").encode())
    app_ok = hmac.compare_digest(str(hook.application_id).encode(), settings.require("yclients_app_id").encode())
    if not (token_ok and app_ok):
        raise Unauthorized("partner_token or application_id does not match", code="bad_partner_token")
    stored = {k: v for k, v in body.items() if k != "partner_token"}  # secrets never reach storage
    intake = store_and_queue(db, queue, settings, "lifecycle", hook.salon_id, stored)
    if not intake.queued:
        raise ServiceUnavailable("webhook stored but not queued yet; deliver it again", code="queue_unavailable")
    return intake


def accept_data(
    body: dict[str, Any],
    salon_id_text: str,
    token: str,
    settings: Settings,
    db: firestore.Client,
    queue: TaskQueue,
) -> Intake:
    salon_id = salon_id_from_text(salon_id_text)
    if salon_id is None:
        raise NotFound("unknown webhook URL", code="unknown_webhook_url")
    company = repositories.get_company(db, salon_id)
    if company is None or company.integration_status == IntegrationStatus.UNINSTALLED:
        raise NotFound("unknown webhook URL", code="unknown_webhook_url")
    try:
        webhook_url_token.check(settings.require("webhook_secret"), salon_id, company.webhook_nonce, token)
    except NotFound:
        # An earlier install's URL, or a guess: refused, and counted from this log line (a log-based metric) —
        # never by a write an anonymous caller could make as often as they like.
        log.warning("webhook to a retired or forged URL", extra={"salon_id": salon_id, "event": "forged_webhook"})
        raise
    hook = validate(DataWebhook, body)
    if hook.company_id != salon_id:
        raise BadRequest(f"company_id {hook.company_id} does not match this salon's URL", code="salon_mismatch")
    return store_and_queue(db, queue, settings, "data", salon_id, body)
