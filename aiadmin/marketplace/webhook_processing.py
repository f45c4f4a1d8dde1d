"""The webhook task: apply a stored lifecycle webhook exactly once (receipt, company, event, host command in
one transaction); and the data-change receipts of one salon, in arrival order, to its synced data."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import ValidationError

from aiadmin.channels import bots
from aiadmin.core import repositories
from aiadmin.core.errors import ServiceUnavailable
from aiadmin.core.integration_status import IntegrationStatus, after_payment, check_transition
from aiadmin.core.models import (
    Company,
    DataWebhook,
    Event,
    LifecycleWebhook,
    WaCommand,
    WebhookReceipt,
    session_id_for,
    utcnow,
)
from aiadmin.core.settings import get_settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync import changes
from aiadmin.sync.modules import Context
from aiadmin.yclients.client import YclientsClient, YclientsUnavailable

log = logging.getLogger("aiadmin.webhook_processing")

S = IntegrationStatus


@dataclass(frozen=True)
class Outcome:
    state: str  # processed | ignored | rejected | already_done | deferred | missing
    detail: str


def _apply_lifecycle(
    tx: firestore.Transaction,
    db: firestore.Client,
    hook: LifecycleWebhook,
    company: Company | None,
    key: str,
    delivery: str,
) -> Outcome:
    """`delivery` names what this delivery writes: a retried task rewrites its own documents, a later identical
    webhook (say, a second uninstall after a reinstall) writes new ones."""
    if company is None:
        return Outcome("ignored", f"salon {hook.salon_id} is not registered")
    status = company.integration_status
    now = utcnow()
    event_name = hook.event.strip().lower()
    if event_name == "uninstall":
        if status == S.UNINSTALLED:
            return Outcome("processed", "already uninstalled")
        update = {
            "integration_status": S.UNINSTALLED.value,
            "whatsapp_connected": False,
            "api_key": None,
            "webhook_nonce": None,  # the data-webhook URL dies with the install
        }
        event_type, detail = "uninstalled", f"{status} -> uninstalled; session stop requested"
        _ask_host(tx, db, hook.salon_id, "stop", "uninstall", delivery)
    elif event_name == "freeze":
        if status == S.FROZEN:
            return Outcome("processed", "already frozen")
        if status == S.UNINSTALLED:
            return Outcome("processed", "uninstalled: nothing to freeze (a reinstall starts afresh)")
        check_transition(status, S.FROZEN)
        update = {"integration_status": S.FROZEN.value, "frozen_from": status.value}
        event_type, detail = "frozen", f"{status} -> frozen"
        # Even before activation: a linked WhatsApp answers nobody, a QR on the owner's page stops.
        _ask_host(tx, db, hook.salon_id, "pause", "freeze", delivery)
    elif event_name == "payment":
        update, event_type, detail = {"last_payment_date": now}, "payment_received", "payment recorded"
        if status == S.FROZEN:
            back = after_payment(company.frozen_from)
            update.update(integration_status=back.value, frozen_from=None)
            detail += f"; frozen -> {back}"
            if back == S.ACTIVE or company.whatsapp_connected:  # a stored link to resume
                _ask_host(tx, db, hook.salon_id, "resume", "payment", delivery)
    else:
        return Outcome("ignored", f"unknown lifecycle event {hook.event!r}")
    tx.update(repositories.company_ref(db, hook.salon_id), {**update, "updated_at": now})
    event = Event(salon_id=hook.salon_id, type=event_type, data={"status_from": str(status), "receipt": key})
    repositories.add_event(tx, db, event, f"wh-{delivery}")
    return Outcome("processed", detail)


def _ask_host(
    tx: firestore.Transaction, db: firestore.Client, salon_id: int, command: str, reason: str, delivery: str
) -> None:
    session_id = session_id_for(salon_id)
    cmd = WaCommand(session_id=session_id, salon_id=salon_id, command=command, reason=reason)  # type: ignore[arg-type]
    repositories.record_command(tx, db, cmd, command_id=f"{session_id}-{command}-{delivery}")


def _skip(receipt: WebhookReceipt | None) -> Outcome | None:
    if receipt is None:
        return Outcome("missing", "no receipt with that key")
    if receipt.state != "received":
        return Outcome("already_done", receipt.state)
    if receipt.kind == "data":
        return Outcome("deferred", "data-change receipts are applied per salon by the data worker")
    return None


def process_receipt(db: firestore.Client, key: str) -> Outcome:
    """Apply one stored lifecycle webhook, after any of the same salon's that arrived before it and still wait
    (a freeze and then a payment must not apply as a payment and then a freeze because their tasks ran so)."""
    own = repositories.load_receipt(repositories.receipt_ref(db, key).get())
    skipped = _skip(own)  # a plain read first: repeats and not-yet-processed kinds cost no transaction
    if skipped is not None:
        return _logged(key, skipped)
    assert own is not None  # _skip answers for a missing receipt
    for earlier in _waiting_lifecycle(db, own.salon_id, own):
        if earlier.key != key:
            _logged(earlier.key, _apply_receipt(db, earlier.key))
    return _logged(key, _apply_receipt(db, key))


def _waiting_lifecycle(db: firestore.Client, salon_id: int, upto: WebhookReceipt) -> list[WebhookReceipt]:
    """The salon's unapplied lifecycle receipts that arrived no later than `upto`, oldest first."""
    query = (
        db.collection(repositories.WEBHOOK_RECEIPTS)
        .where(filter=FieldFilter("salon_id", "==", salon_id))
        .where(filter=FieldFilter("kind", "==", "lifecycle"))
        .where(filter=FieldFilter("state", "==", "received"))
        .where(filter=FieldFilter("received_at", "<=", upto.received_at))
        .order_by("received_at")
        .limit(50)
    )
    return [WebhookReceipt.model_validate(d.to_dict()) for d in query.stream()]


def _apply_receipt(db: firestore.Client, key: str) -> Outcome:
    ref = repositories.receipt_ref(db, key)

    uninstalled: list[int] = []

    @firestore.transactional
    def run(tx: firestore.Transaction) -> Outcome:
        receipt = repositories.load_receipt(ref.get(transaction=tx))
        skipped = _skip(receipt)
        if skipped is not None:
            return skipped
        assert receipt is not None  # _skip answers for a missing receipt
        hook = LifecycleWebhook.model_validate({**receipt.body, "partner_token": ""})
        uninstalled[:] = [hook.salon_id] if hook.event.strip().lower() == "uninstall" else []
        company = repositories.get_company(db, hook.salon_id, transaction=tx)
        # One id per delivery: a retried task rewrites its own event, a later identical webhook adds its own.
        delivery = f"{key[:20]}-{int(receipt.received_at.timestamp() * 1000)}"
        outcome = _apply_lifecycle(tx, db, hook, company, key, delivery)
        tx.update(ref, {"state": outcome.state, "outcome": outcome.detail, "processed_at": utcnow()})
        return outcome

    outcome = run(db.transaction())
    if uninstalled and outcome.state == "processed":
        _let_bots_go(db, uninstalled[0])
    return outcome


def _let_bots_go(db: firestore.Client, salon_id: int) -> None:
    """An uninstalled salon's Telegram and MAX bots: their webhooks deleted at the messenger and their sealed
    tokens dropped (best effort: a messenger down now leaves the link for the owner page or an operator)."""
    settings = get_settings()
    for link in bots.links(db, salon_id):
        try:
            bots.disconnect(db, settings, salon_id, link.channel)
        except Exception:
            log.warning("bot not let go on uninstall", extra={"salon_id": salon_id, "channel": link.channel})


def _logged(key: str, outcome: Outcome) -> Outcome:
    log.log(
        logging.WARNING if outcome.state in ("rejected", "missing") else logging.INFO,
        "webhook receipt %s: %s",
        outcome.state,
        outcome.detail,
        extra={"receipt": key},
    )
    return outcome


def pending_data_receipts(db: firestore.Client, salon_id: int, limit: int = 500) -> list[WebhookReceipt]:
    """The salon's unapplied data-change receipts, oldest first (index: salon_id, kind, state, received_at)."""
    query = (
        db.collection(repositories.WEBHOOK_RECEIPTS)
        .where(filter=FieldFilter("salon_id", "==", salon_id))
        .where(filter=FieldFilter("kind", "==", "data"))
        .where(filter=FieldFilter("state", "==", "received"))
        .order_by("received_at")
        .limit(limit)
    )
    return [WebhookReceipt.model_validate(d.to_dict()) for d in query.stream()]


def process_data_batch(
    db: firestore.Client, salon_id: int, yclients: YclientsClient, queue: TaskQueue | None = None
) -> Outcome:
    """Apply the salon's waiting data-change receipts to its synced data, oldest first. If YCLIENTS cannot be
    reached the rest stay `received` and ServiceUnavailable makes the task try again, in the same order."""
    pending = pending_data_receipts(db, salon_id)
    if not pending:
        return Outcome("processed", "nothing waiting")
    company = repositories.get_company(db, salon_id)
    if company is None or company.integration_status != S.ACTIVE:
        status = company.integration_status if company else "not registered"
        for receipt in pending:
            _finish_receipt(db, receipt.key, "ignored", f"salon is {status}")
        return Outcome("ignored", f"{len(pending)} receipts ignored: salon is {status}")
    ctx = Context(db, yclients, company, queue=queue)
    hooks: dict[str, DataWebhook] = {}
    for receipt in pending:
        try:
            hooks[receipt.key] = DataWebhook.model_validate(receipt.body)
        except ValidationError as exc:
            _finish_receipt(db, receipt.key, "rejected", f"not a data webhook: {exc.error_count()} problems")
    # Each object is read again from YCLIENTS once per batch, for the last webhook that names it.
    last = {(h.resource.strip().lower(), str(h.resource_id)): key for key, h in hooks.items()}
    applied = 0
    for receipt in pending:
        hook = hooks.get(receipt.key)
        if hook is None:
            continue
        if last[(hook.resource.strip().lower(), str(hook.resource_id))] != receipt.key:
            _finish_receipt(db, receipt.key, "processed", "superseded by a later webhook for the same object")
            applied += 1
            continue
        try:
            result = changes.apply(ctx, hook, queue)
        except YclientsUnavailable as exc:
            log.warning(
                "data webhooks paused: YCLIENTS unavailable",
                extra={"salon_id": salon_id, "applied": applied, "waiting": len(pending) - applied},
            )
            raise ServiceUnavailable(f"YCLIENTS unavailable: {exc}", code="yclients_unavailable") from exc
        _finish_receipt(db, receipt.key, result.state, result.detail)
        applied += 1
    log.info("data-change receipts applied", extra={"salon_id": salon_id, "applied": applied})
    return Outcome("processed", f"{applied} of {len(pending)} receipts applied")


def _finish_receipt(db: firestore.Client, key: str, state: str, detail: str) -> None:
    repositories.receipt_ref(db, key).update({"state": state, "outcome": detail[:500], "processed_at": utcnow()})
