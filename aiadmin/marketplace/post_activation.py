"""The post-activation task: right after a salon is activated, sync what the bot needs first (company and
services) inline, queue every other module, then send the salon's WhatsApp a welcome message. Every module stands
alone: one that fails is recorded (`setup_failed` event, its sync state) and retried (at once when the failure is
transient, on the timetable when it is not), while the others, the welcome message and the page go on; the page
says what will load later. Safe to run again: the first step records once per activation, the syncs write only
changes, task names and the message key are deterministic, so a retry adds no second task and no second message."""

from __future__ import annotations

import logging

from google.cloud import firestore

from aiadmin.core import repositories
from aiadmin.core.models import Company, Event, PostActivationRun, PostActivationTask, session_id_for
from aiadmin.core.russian import plural
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync import runner
from aiadmin.sync.documents import SERVICES
from aiadmin.sync.timetable import ACTIVATION_FIRST, ACTIVATION_THEN, MODULE_TITLES
from aiadmin.whatsapp import chat, onboarding_view
from aiadmin.whatsapp.chat import SendRequest
from aiadmin.yclients.client import YclientsClient

log = logging.getLogger("aiadmin.post_activation")


def later_text(modules: list[str]) -> str:
    """«Салон подключён; услуги и цены загрузятся позже — мы повторим автоматически.»"""
    titles = list(dict.fromkeys(MODULE_TITLES[m] for m in modules))
    listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " и " + titles[-1]
    return f"Салон подключён; {listed} загрузятся позже — мы повторим автоматически."


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
    catalogue = f" ({plural(services, 'услуга', 'услуги', 'услуг')} в каталоге)" if services else ""
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
    """True when this call was the activation's first run. Module failures never raise: they are recorded and
    retried on their own. Storage failures raise, and Cloud Tasks runs the whole (idempotent) task again."""
    first = _record_once(db, task, task_name)
    session_id = session_id_for(task.salon_id)
    slot = f"act-{task.activation_id}"
    onboarding_view.report_setup(db, session_id, "loading")
    failed: list[str] = []
    retry_now: list[str] = []
    for module in ACTIVATION_FIRST:
        result = runner.run(
            db, yclients, task.salon_id, module, slot=slot, ops_per_second=settings.sync_write_ops_per_s, queue=queue
        )
        if result.state == "skipped":
            log.info("post-activation stopped: salon not active", extra={"salon_id": task.salon_id})
            return first
        if result.state == "failed":
            failed.append(module)
            if result.retry:
                retry_now.append(module)
            _setup_failed_event(db, task, module, result.detail)
    # A transient failure gets its own sync task (retried by Cloud Tasks); a permanent one waits for the timetable.
    queued = runner.enqueue_modules(queue, task.salon_id, (*ACTIVATION_THEN, *retry_now), slot, reason="activation")
    welcomed = _send_welcome(db, queue, settings, task)
    if failed:
        onboarding_view.report_setup(db, session_id, "partial", later_text(failed))
    else:
        onboarding_view.report_setup(db, session_id, "done")
    log.log(
        logging.WARNING if failed else logging.INFO,
        "post-activation done",
        extra={
            "salon_id": task.salon_id,
            "first_run": first,
            "sync_tasks_queued": queued,
            "welcome_queued": welcomed,
            "failed_modules": failed,
        },
    )
    return first


def _setup_failed_event(db: firestore.Client, task: PostActivationTask, module: str, detail: str) -> None:
    batch = db.batch()
    event = Event(salon_id=task.salon_id, type="setup_failed", data={"module": module, "detail": detail[:300]})
    repositories.add_event(batch, db, event, f"setup-failed-{task.activation_id}-{module}")
    batch.commit()
