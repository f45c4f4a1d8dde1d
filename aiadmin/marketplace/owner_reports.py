"""Owner notices that come from the schedule rather than a conversation: a sync module that has not worked for
two hours, and the daily summary at the owner's chosen local hour (off by default). The summary is built from
the day's activity counters (`aiadmin.whatsapp.activity`), never by scanning conversations."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import Company, utcnow
from aiadmin.core.russian import plural
from aiadmin.core.settings import Settings
from aiadmin.core.task_queue import TaskQueue
from aiadmin.sync.timetable import MODULE_TITLES
from aiadmin.whatsapp import activity, chat, owner_notices

log = logging.getLogger("aiadmin.marketplace.owner_reports")

SYNC_FAILING_AFTER = timedelta(hours=2)
SUMMARY_JOB = "owner-summaries"


def sync_failing(
    db: firestore.Client,
    queue: TaskQueue,
    settings: Settings,
    salon_id: int,
    module: str,
    failing_since: datetime,
    error: str,
) -> bool:
    """Told once per run of failures, once it has lasted SYNC_FAILING_AFTER."""
    if utcnow() - failing_since < SYNC_FAILING_AFTER:
        return False
    company = repositories.get_company(db, salon_id)
    if company is None:
        return False
    since = failing_since.astimezone(company.zone())
    text = (
        f"AI Admin не может обновить из YCLIENTS «{MODULE_TITLES.get(module, module)}» с {since:%d.%m %H:%M}. "
        "Бот отвечает по последним загруженным данным — они могут быть устаревшими. "
        f"Мы уже разбираемся; если это продлится, проверьте доступ приложения в YCLIENTS. Ошибка: {error[:150]}"
    )
    dedup = f"{module}-{failing_since:%Y%m%d%H%M%S}"
    return owner_notices.notify(db, queue, settings.session_host_url, company, "sync_failing", dedup, text)


def waiting_count(db: firestore.Client, salon_id: int) -> int:
    query = (
        db.collection(chat.CONVERSATIONS)
        .where(filter=FieldFilter("salon_id", "==", salon_id))
        .order_by("waiting_since", direction=firestore.Query.DESCENDING)
        .limit(100)
    )
    return sum(1 for _ in query.stream())


def summary_text(day: activity.DayActivity, waiting: int) -> str:
    answered = len(day.customers)
    text = f"Вчера бот ответил {plural(answered, 'клиенту', 'клиентам', 'клиентам')}"
    done = [
        f"записал {day.count('booked')}",
        f"перенёс {day.count('rescheduled')}",
        f"отменил {day.count('cancelled')}",
    ]
    text += ", " + ", ".join(done) + "."
    if day.handoffs:
        text += f" Просили администратора: {len(day.handoffs)}."
    if waiting:
        text += f" {plural(waiting, 'вопрос ждёт', 'вопроса ждут', 'вопросов ждут')} вас."
    else:
        text += " Ответа человека никто не ждёт."
    return text


def send_summary(db: firestore.Client, queue: TaskQueue, settings: Settings, company: Company, now: datetime) -> bool:
    yesterday = now.astimezone(company.zone()).date() - timedelta(days=1)
    day = activity.days(db, company.salon_id, yesterday, 1)[0]
    text = summary_text(day, waiting_count(db, company.salon_id))
    return owner_notices.notify(db, queue, settings.session_host_url, company, "summary", yesterday.isoformat(), text)


def dispatch_summaries(db: firestore.Client, queue: TaskQueue, settings: Settings, now: datetime | None = None) -> int:
    """Hourly: every active salon whose owner asked for a summary at this local hour gets yesterday's."""
    now = now or utcnow()
    query = db.collection(repositories.COMPANIES).where(filter=FieldFilter("owner.summary_hour", ">=", 0))
    sent = 0
    for snap in query.stream():
        company = Company.model_validate(snap.to_dict())
        if company.integration_status != IntegrationStatus.ACTIVE:
            continue
        if now.astimezone(company.zone()).hour != company.owner.summary_hour:
            continue
        try:
            sent += send_summary(db, queue, settings, company, now)
        except Exception:
            log.exception("daily summary failed", extra={"salon_id": company.salon_id})
    return sent
