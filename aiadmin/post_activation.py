"""The post-activation task: right after a salon is activated, sync what the bot needs first (company and
services) inline, queue every other module, then send the salon's WhatsApp a welcome message. Safe to run again:
the first step records once per activation, the syncs write only changes, task names and the message key are
deterministic, so a retry adds no second task and no second message."""

from __future__ import annotations

import logging

from google.cloud import firestore

from aiadmin import chat, onboarding_view, repositories
from aiadmin.chat import SendRequest
from aiadmin.errors import ServiceUnavailable
from aiadmin.models import Company, Event, PostActivationRun, PostActivationTask, session_id_for
from aiadmin.settings import Settings
from aiadmin.sync import runner
from aiadmin.sync.documents import SERVICES
from aiadmin.sync.timetable import ACTIVATION_FIRST, ACTIVATION_THEN
from aiadmin.task_queue import TaskQueue
from aiadmin.yclients_client import YclientsClient

log = logging.getLogger("aiadmin.post_activation")

SETUP_FAILED = "Не удалось загрузить данные салона из YCLIENTS. Мы повторим автоматически и напишем, если не выйдет."


def _record_once(db: firestore.Client, task: PostActivationTask, task_name: str | None) -> bool:
    """True the first time this activation's follow-up runs."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        ref = repositories.post_activation_ref(db, task.salon_id)
        snap = ref.get(transaction=tx)
        if snap.exists and snap.get("activation_id") == task.activation_id:
            return False
        tx.set(
            ref,
            PostActivationRun(
                salon_id=task.salon_id,
                activation_id=task.activation_id,
                task_name=task_name,
                note="sync queued, welcome message follows the first sync",
            ).to_firestore(),
        )
        repositories.add_event(
            tx,
            db,
            Event(salon_id=task.salon_id, type="post_activation_received", data={"activation_id": task.activation_id}),
        )
        return True

    return run(db.transaction())


def welcome_text(company: Company, services: int) -> str:
    catalogue = f" ({services} услуг в каталоге)" if services else ""
    return (
        f"Здравствуйте! AI Admin подключён к WhatsApp салона «{company.title}».\n\n"
        f"Теперь бот круглосуточно отвечает клиентам салона: цены и услуги{catalogue}, свободное время, "
        "запись, перенос и отмена записи в YCLIENTS — только после подтверждения клиента.\n\n"
        "Если клиент попросит администратора, бот передаст разговор вам. "
        "Отключить бота можно в YCLIENTS → Интеграции → AI Admin."
    )


def _send_welcome(db: firestore.Client, queue: TaskQueue, settings: Settings, task: PostActivationTask) -> bool:
    company = repositories.get_company(db, task.salon_id)
    if company is None or not company.whatsapp_phone:
        log.warning("no WhatsApp number to welcome", extra={"salon_id": task.salon_id})
        return False
    services = repositories.company_ref(db, task.salon_id).collection(SERVICES).count().get()[0][0].value
    request = SendRequest(
        key=f"welcome-{task.salon_id}-{task.activation_id}",
        salon_id=task.salon_id,
        phone=company.whatsapp_phone,
        text=welcome_text(company, int(services)),
    )
    return chat.queue_send(queue, settings.require("session_host_url"), request)


def handle(
    db: firestore.Client,
    task: PostActivationTask,
    task_name: str | None,
    yclients: YclientsClient,
    queue: TaskQueue,
    settings: Settings,
) -> bool:
    """True when this call was the activation's first run. Raises ServiceUnavailable to be retried."""
    first = _record_once(db, task, task_name)
    session_id = session_id_for(task.salon_id)
    slot = f"act-{task.activation_id}"
    onboarding_view.report_setup(db, session_id, "loading")
    for module in ACTIVATION_FIRST:
        result = runner.run(
            db, yclients, task.salon_id, module, slot=slot, ops_per_second=settings.sync_write_ops_per_s
        )
        if result.state == "skipped":
            log.info("post-activation stopped: salon not active", extra={"salon_id": task.salon_id})
            return first
        if result.state == "failed":
            onboarding_view.report_setup(db, session_id, "failed", SETUP_FAILED)
            _setup_failed_event(db, task, module, result.detail)
            if result.retry:
                raise ServiceUnavailable(f"{module} sync failed, will retry: {result.detail}", code="sync_failed")
            return first
    queued = runner.enqueue_modules(queue, task.salon_id, ACTIVATION_THEN, slot, reason="activation")
    welcomed = _send_welcome(db, queue, settings, task)
    onboarding_view.report_setup(db, session_id, "done")
    log.info(
        "post-activation done",
        extra={"salon_id": task.salon_id, "first_run": first, "sync_tasks_queued": queued, "welcome_queued": welcomed},
    )
    return first


def _setup_failed_event(db: firestore.Client, task: PostActivationTask, module: str, detail: str) -> None:
    batch = db.batch()
    event = Event(salon_id=task.salon_id, type="setup_failed", data={"module": module, "detail": detail[:300]})
    repositories.add_event(batch, db, event, f"setup-failed-{task.activation_id}-{module}")
    batch.commit()
