"""Running sync: the scheduler's dispatch (one task per active salon and module, named by the scheduled slot),
the worker (one module of one salon, recorded in `sync_state`), and the queueing used after an activation."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, Field

from aiadmin.core import repositories
from aiadmin.core.integration_status import IntegrationStatus
from aiadmin.core.models import utcnow
from aiadmin.core.queues import SYNC
from aiadmin.core.task_queue import Task, TaskQueue, task_name
from aiadmin.sync.documents import SYNC_STATE, SyncState
from aiadmin.sync.modules import MODULE_FUNCTIONS, Context
from aiadmin.sync.timetable import JOBS_BY_NAME, MODULES
from aiadmin.sync.writer import Counts, WriteFailed
from aiadmin.yclients.client import YclientsClient, YclientsError, YclientsUnavailable

log = logging.getLogger("aiadmin.sync")


class SyncTask(BaseModel):
    salon_id: int
    module: str = Field(pattern="^(" + "|".join(MODULES) + ")$")
    slot: str  # what scheduled this run: "20261126T0815" for a timetable slot, "act-<id>" after an activation
    reason: str = "schedule"


class DispatchRequest(BaseModel):
    job: str


@dataclass(frozen=True)
class RunResult:
    state: str  # ok | failed | skipped
    counts: Counts
    retry: bool = False  # a transient failure: the task should be tried again
    detail: str = ""
    failing_since: datetime | None = None  # failed: since when this module has not worked


class TransientSyncError(RuntimeError):
    """YCLIENTS or Firestore did not answer usefully: Cloud Tasks should try again later."""


def state_ref(db: firestore.Client, salon_id: int, module: str) -> firestore.DocumentReference:
    return db.collection(SYNC_STATE).document(f"{salon_id}_{module}")


def load_state(db: firestore.Client, salon_id: int, module: str) -> SyncState:
    snap = state_ref(db, salon_id, module).get()
    return SyncState.model_validate(snap.to_dict()) if snap.exists else SyncState(salon_id=salon_id, module=module)


def slot_of(schedule_time: str | None, now: datetime | None = None) -> str:
    """The scheduled minute a run belongs to (Cloud Scheduler's X-CloudScheduler-ScheduleTime), so a retried
    dispatch names the same tasks and Cloud Tasks drops the repeats."""
    at = now or utcnow()
    if schedule_time:
        try:
            at = datetime.fromisoformat(schedule_time.replace("Z", "+00:00"))
        except ValueError:
            log.warning("unreadable schedule time; using now", extra={"schedule_time": schedule_time})
    return at.strftime("%Y%m%dT%H%M")


def sync_task(salon_id: int, module: str, slot: str, reason: str, delay_s: float = 0.0) -> Task:
    payload = SyncTask(salon_id=salon_id, module=module, slot=slot, reason=reason)
    return Task(
        queue=SYNC.name,
        name=task_name("sync", salon_id, module, slot),
        function="sync_worker",
        payload=payload.model_dump(),
        delay_s=delay_s,
    )


def active_salons(db: firestore.Client) -> list[int]:
    query = db.collection(repositories.COMPANIES).where(
        filter=FieldFilter("integration_status", "==", IntegrationStatus.ACTIVE.value)
    )
    return sorted(int(snap.id) for snap in query.select(["integration_status"]).stream())


def dispatch(db: firestore.Client, queue: TaskQueue, job_name: str, slot: str) -> tuple[int, int]:
    """One task per (active salon, module of the job). Returns (created, already there)."""
    job = JOBS_BY_NAME.get(job_name)
    if job is None:
        raise KeyError(job_name)
    created = existing = 0
    for salon_id in active_salons(db):
        for module in job.modules:
            if queue.enqueue(sync_task(salon_id, module, slot, reason=job.name)):
                created += 1
            else:
                existing += 1
    log.info(
        "sync dispatched", extra={"job": job_name, "slot": slot, "tasks_created": created, "tasks_existing": existing}
    )
    return created, existing


def enqueue_modules(queue: TaskQueue, salon_id: int, modules: tuple[str, ...], slot: str, reason: str) -> int:
    return sum(1 for module in modules if queue.enqueue(sync_task(salon_id, module, slot, reason)))


def run(
    db: firestore.Client,
    yclients: YclientsClient,
    salon_id: int,
    module: str,
    *,
    slot: str | None = None,
    ops_per_second: int = 500,
    require_active: bool = True,
    queue: TaskQueue | None = None,
) -> RunResult:
    """Sync one module of one salon and record how it went. Never raises for YCLIENTS's answers: a transient
    failure is reported with `retry=True`, a permanent one (401/403/404: access gone) is recorded and not retried."""
    company = repositories.get_company(db, salon_id)
    if company is None or (require_active and company.integration_status != IntegrationStatus.ACTIVE):
        status = company.integration_status if company else "not registered"
        log.info(
            "sync skipped: salon not active", extra={"salon_id": salon_id, "sync_module": module, "status": status}
        )
        return RunResult("skipped", Counts(), detail=f"salon is {status}")
    previous = load_state(db, salon_id, module)
    ref = state_ref(db, salon_id, module)
    started = utcnow()
    ref.set({"salon_id": salon_id, "module": module, "state": "running", "last_started_at": started}, merge=True)
    since = previous.last_success_at
    if module == "bookings":  # a full pass counts as a starting point for the incremental one
        full = load_state(db, salon_id, "bookings_full").last_success_at
        since = max((t for t in (since, full) if t is not None), default=None)
    ctx = Context(db, yclients, company, ops_per_second=ops_per_second, last_success_at=since, queue=queue)
    requests_before = yclients.thread_requests()
    t0 = time.perf_counter()
    try:
        counts = MODULE_FUNCTIONS[module](ctx)
    except (YclientsError, WriteFailed, TransientSyncError) as exc:
        transient = isinstance(exc, YclientsUnavailable | WriteFailed | TransientSyncError)
        duration = round((time.perf_counter() - t0) * 1000, 1)
        failing_since = previous.failing_since if previous.consecutive_failures else started
        ref.set(
            {
                "state": "failed",
                "failing_since": failing_since,
                "last_error": f"{type(exc).__name__}: {exc}"[:500],
                "last_error_at": utcnow(),
                "last_duration_ms": duration,
                "consecutive_failures": previous.consecutive_failures + 1,
                "yclients_requests": yclients.thread_requests() - requests_before,
                "last_slot": slot,
            },
            merge=True,
        )
        log.error(
            "sync failed",
            extra={"salon_id": salon_id, "sync_module": module, "error": str(exc)[:300], "will_retry": transient},
        )
        return RunResult("failed", Counts(), retry=transient, detail=str(exc)[:300], failing_since=failing_since)
    duration = round((time.perf_counter() - t0) * 1000, 1)
    state = SyncState(
        salon_id=salon_id,
        module=module,
        state="ok",
        last_started_at=started,
        last_success_at=started,  # the next incremental pass asks for changes since this run began
        last_duration_ms=duration,
        read=counts.read,
        written=counts.written,
        deleted=counts.deleted,
        unchanged=counts.unchanged,
        yclients_requests=yclients.thread_requests() - requests_before,
        last_error=previous.last_error,
        last_error_at=previous.last_error_at,
        consecutive_failures=0,
        last_slot=slot,
    )
    ref.set(state.to_firestore())
    log.info(
        "sync done",
        extra={
            "salon_id": salon_id,
            "sync_module": module,
            "duration_ms": duration,
            "read": counts.read,
            "written": counts.written,
            "deleted": counts.deleted,
            "yclients_requests": state.yclients_requests,
        },
    )
    return RunResult("ok", counts)
