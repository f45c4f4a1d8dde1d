"""The owner page is live only while it is open: `companies.owner_page_until` says until when. Whatever changes
what it shows (a turn answered or skipped, a handoff, a takeover) asks for a refresh of the page's view through
the `owner` queue — and costs nothing when no page is open."""

from __future__ import annotations

import logging

from aiadmin.core.models import Company, Document, utcnow
from aiadmin.core.queues import OWNER
from aiadmin.core.task_queue import Task, TaskQueue, task_name

log = logging.getLogger("aiadmin.whatsapp.owner_feed")


class OwnerViewTask(Document):
    salon_id: int


def changed(queue: TaskQueue | None, company: Company, because: str) -> bool:
    """`because`: what changed (a message id, a command): a repeated change queues nothing more."""
    if queue is None or company.owner_page_until is None or company.owner_page_until <= utcnow():
        return False
    task = Task(
        queue=OWNER.name,
        name=task_name("owner-view", company.salon_id, because),
        function="owner_view_worker",
        payload=OwnerViewTask(salon_id=company.salon_id).to_firestore(),
    )
    try:
        return queue.enqueue(task)
    except Exception as exc:  # the page catches up on its next refresh; the customer's turn must not fail
        log.warning("owner page refresh not queued", extra={"salon_id": company.salon_id, "error": str(exc)[:200]})
        return False
