"""Activation: store the API key, tell YCLIENTS (callback/redirect), then mark the salon active and queue
the post-activation work. Safe to call twice: an active salon gets success without a second callback."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from google.cloud import firestore

from aiadmin.core import repositories
from aiadmin.core.errors import Conflict, NotFound, UpstreamError
from aiadmin.core.integration_status import IntegrationStatus, check_transition
from aiadmin.core.models import (
    Company,
    Event,
    Installer,
    PostActivationTask,
    RegistrationClaims,
    normalize_phone,
    utcnow,
)
from aiadmin.core.queues import POST_ACTIVATION
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.marketplace import registration_token, webhook_url_token
from aiadmin.marketplace.registration import registration_of
from aiadmin.yclients.client import YclientsClient, YclientsError, YclientsRejected

log = logging.getLogger("aiadmin.activation")

S = IntegrationStatus
# An `activating` left behind by a crashed instance may be taken over after this long.
STALE_ACTIVATION = timedelta(minutes=2)


@dataclass(frozen=True)
class ActivationResult:
    salon_id: int
    already_active: bool
    post_activation_queued: bool


def _begin(db: firestore.Client, salon_id: int) -> Company | None:
    """Move the salon to `activating` with its API key stored. None: it is already active."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> Company | None:
        company = repositories.get_company(db, salon_id, transaction=tx)
        if company is None:
            raise NotFound(f"salon {salon_id} is not registered", code="salon_not_registered")
        status = company.integration_status
        if status == S.ACTIVE:
            return None
        if status == S.UNINSTALLED:
            raise Conflict("the integration was disabled in YCLIENTS: connect again from YCLIENTS", code="uninstalled")
        if status == S.FROZEN:
            raise Conflict("the integration is frozen in YCLIENTS", code="frozen")
        if (
            status == S.ACTIVATING
            and company.activation_started_at
            and (utcnow() - company.activation_started_at < STALE_ACTIVATION)
        ):
            raise Conflict("activation is already in progress", code="activation_in_progress")
        if not company.whatsapp_connected:
            raise Conflict("WhatsApp is not connected yet", code="whatsapp_not_connected")
        if status != S.ACTIVATING:
            check_transition(status, S.ACTIVATING)
        now = utcnow()
        # A key from a failed attempt is reused: YCLIENTS may have stored it even if we saw a timeout.
        api_key = company.api_key or secrets.token_hex(32)
        updated = company.model_copy(
            update={
                "integration_status": S.ACTIVATING,
                "api_key": api_key,
                # Like the key, kept across retries (YCLIENTS may hold the URL of a try we saw fail).
                "webhook_nonce": company.webhook_nonce or secrets.token_hex(16),
                "api_key_created_at": company.api_key_created_at if company.api_key else now,
                "activation_id": uuid.uuid4().hex[:16],
                "activation_started_at": now,
                "updated_at": now,
            }
        )
        tx.set(repositories.company_ref(db, salon_id), updated.to_firestore(), merge=True)
        repositories.add_event(
            tx,
            db,
            Event(
                salon_id=salon_id,
                type="activation_started",
                data={"status_from": str(status), "activation_id": updated.activation_id},
            ),
        )
        return updated

    return run(db.transaction())


def _finish(
    db: firestore.Client,
    salon_id: int,
    activation_id: str,
    error: YclientsError | None,
    detail: dict | None = None,
    installer: Installer | None = None,
) -> None:
    """`installer`: who completed this activation; recorded on the first activation of an install only."""
    target = S.ACTIVATION_FAILED if error else S.ACTIVE

    @firestore.transactional
    def run(tx: firestore.Transaction) -> None:
        company = repositories.get_company(db, salon_id, transaction=tx)
        if company is None or company.activation_id != activation_id or company.integration_status != S.ACTIVATING:
            # Uninstalled (or taken over) while we waited for YCLIENTS: that newer state wins.
            raise Conflict("the salon changed state during activation; reload the page", code="state_changed")
        check_transition(company.integration_status, target)
        now = utcnow()
        update: dict = {"integration_status": target, "updated_at": now}
        if error:
            update["activation_error"] = error.message
            event = Event(
                salon_id=salon_id,
                type="integration_failed",
                data={
                    "reason": error.message,
                    "yclients_status": error.upstream_status,
                    "code": error.code,
                    "activation_id": activation_id,
                },
            )
        else:
            update.update(activated_at=now, activation_error=None)
            if installer is not None and (company.installer is None or company.activated_at is None):
                update["installer"] = installer.to_firestore()
            event = Event(
                salon_id=salon_id,
                type="integration_activated",
                data={"activation_id": activation_id, **(detail or {})},
            )
        tx.update(repositories.company_ref(db, salon_id), update)
        repositories.add_event(tx, db, event)

    run(db.transaction())


def _queue_post_activation(queue: TaskQueue, db: firestore.Client, company: Company) -> bool:
    """Deterministic task name per activation; the handler is idempotent on top of that."""
    run = repositories.post_activation_ref(db, company.salon_id).get()
    if run.exists and run.get("activation_id") == company.activation_id:
        return True
    payload = PostActivationTask(salon_id=company.salon_id, activation_id=company.activation_id or "")
    try:
        queue.enqueue(
            Task(
                queue=POST_ACTIVATION.name,
                function="post_activation_worker",
                payload=payload.model_dump(),
                name=task_name("post-activation", company.salon_id, company.activation_id),
            )
        )
    except Exception:
        log.exception("post-activation task not queued", extra={"salon_id": company.salon_id})
        return False
    return True


def _require_installed(yclients: YclientsClient, salon_id: int, app_id: str) -> None:
    """YCLIENTS took the callback; the salon must also show our application as installed, or a link for a salon
    that never chose AI Admin could bring it live."""
    status = yclients.connection_status(salon_id, app_id)
    if status != "active":
        raise YclientsRejected(
            f"AI Admin is not installed in this salon in YCLIENTS (connection status: {status or 'none'})",
            code="not_installed",
        )


def _installer(db: firestore.Client, claims: RegistrationClaims) -> Installer:
    registration = registration_of(db, claims.jti)
    if registration is None:  # a token issued before registrations were kept: its user id only
        return Installer(user_id=claims.uid)
    user = registration.user
    return Installer(user_id=user.id, name=user.name, phone=normalize_phone(user.phone))


def activate(
    token: str, settings: Settings, db: firestore.Client, yclients: YclientsClient, queue: TaskQueue
) -> ActivationResult:
    claims = registration_token.verify(settings.require("jwt_secret"), token, settings.registration_ttl_s)
    salon_id = claims.salon_id
    app_id = settings.require("yclients_app_id")
    webhook_secret = settings.require("webhook_secret")
    base_url = settings.require("base_url")

    company = _begin(db, salon_id)
    if company is None:
        active = repositories.get_company(db, salon_id)
        assert active is not None
        queued = _queue_post_activation(queue, db, active)
        log.info("activation repeated on an active salon", extra={"salon_id": salon_id})
        return ActivationResult(salon_id, already_active=True, post_activation_queued=queued)

    assert company.api_key and company.activation_id
    try:
        result = yclients.marketplace_callback(
            salon_id=salon_id,
            application_id=app_id,
            api_key=company.api_key,
            webhook_urls=[webhook_url_token.webhook_url(base_url, webhook_secret, salon_id, company.webhook_nonce)],
            attempts=settings.activation_callback_attempts,
            timeout_s=settings.activation_callback_timeout_s,
        )
        _require_installed(yclients, salon_id, app_id)
    except YclientsError as exc:
        _finish(db, salon_id, company.activation_id, exc)
        log.error(
            "activation failed",
            extra={"salon_id": salon_id, "reason": exc.message, "yclients_status": exc.upstream_status},
        )
        raise UpstreamError(
            f"YCLIENTS refused the activation: {exc.message}",
            code="activation_failed",
            details={"yclients_status": exc.upstream_status, "reason": exc.message},
        ) from exc
    _finish(
        db,
        salon_id,
        company.activation_id,
        None,
        {"yclients_status": result.status, "already_installed": result.already_installed},
        installer=_installer(db, claims),
    )
    log.info("integration activated", extra={"salon_id": salon_id, "yclients_status": result.status})
    queued = _queue_post_activation(queue, db, company)
    return ActivationResult(salon_id, already_active=False, post_activation_queued=queued)
