"""Enqueue HTTP tasks for our own task handlers: Cloud Tasks in production, the local dispatcher in dev.

Task names are deterministic, so enqueueing the same work twice creates one task.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from google.api_core import retry as gretry

from aiadmin.core import firestore_clock
from aiadmin.core.errors import ServiceUnavailable
from aiadmin.core.queues import QUEUES
from aiadmin.core.settings import Settings, get_settings

log = logging.getLogger("aiadmin.tasks")

TASK_SECRET_HEADER = "X-AIAdmin-Task-Secret"  # noqa: S105 - a header name
_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")


def task_name(*parts: object) -> str:
    return _NAME_OK.sub("-", "-".join(str(p) for p in parts))[:500]


@dataclass(frozen=True)
class Task:
    queue: str
    name: str
    function: str  # the handler's function name; its URL is <tasks_target_base_url>/<function>
    payload: dict[str, Any]
    delay_s: float = 0.0
    schedule_at: datetime | None = None  # an absolute time instead of a delay (reminders)
    headers: dict[str, str] = field(default_factory=dict)
    target_url: str | None = None  # a target that is not a function (the session host's /send)


class TaskQueue(Protocol):
    def enqueue(self, task: Task) -> bool:
        """True when created, False when a task of that name already exists. Raises ServiceUnavailable."""

    def ping(self) -> None:
        """Raise when the queue service cannot be reached."""


def _target_url(settings: Settings, task: Task) -> str:
    return task.target_url or f"{settings.require('tasks_target_base_url')}/{task.function}"


def _audience(url: str, task: Task) -> str:
    """A function's token is for its URL; a Cloud Run service (the host's /send) accepts its origin only."""
    if task.target_url is None:
        return url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _due(task: Task, now: datetime) -> datetime:
    if task.schedule_at is not None:
        return task.schedule_at.astimezone(UTC)
    return now + timedelta(seconds=task.delay_s)


def _check_queue(task: Task) -> None:
    if task.queue not in QUEUES:
        raise ValueError(f"unknown queue {task.queue!r}")


_CREATE_RETRY = gretry.Retry(
    initial=0.2, maximum=2.0, multiplier=2.0, timeout=10.0, predicate=gretry.if_transient_error
)


class CloudTasksQueue:
    def __init__(self, settings: Settings, client: Any = None):
        from google.cloud import tasks_v2  # imported lazily: local runs never load it

        self._tasks_v2 = tasks_v2
        self._client = client or tasks_v2.CloudTasksClient()
        self._settings = settings
        self._project = settings.require("google_cloud_project")

    def _queue_path(self, queue: str) -> str:
        return self._client.queue_path(self._project, self._settings.region, queue)

    def enqueue(self, task: Task) -> bool:
        from google.api_core import exceptions as gexc
        from google.protobuf import timestamp_pb2

        _check_queue(task)
        parent = self._queue_path(task.queue)
        url = _target_url(self._settings, task)
        http_request: dict[str, Any] = {
            "http_method": self._tasks_v2.HttpMethod.POST,
            "url": url,
            "headers": {"Content-Type": "application/json", **task.headers},
            "body": json.dumps(task.payload).encode(),
        }
        if self._settings.tasks_service_account:
            http_request["oidc_token"] = {
                "service_account_email": self._settings.tasks_service_account,
                "audience": _audience(url, task),
            }
        body: dict[str, Any] = {"name": f"{parent}/tasks/{task.name}", "http_request": http_request}
        if task.schedule_at is not None or task.delay_s > 0:
            ts = timestamp_pb2.Timestamp()
            # A delay counts from Cloud Tasks' clock, not ours: a skewed host must not hold a reply back.
            ts.FromDatetime(_due(task, firestore_clock.server_now()))
            body["schedule_time"] = ts
        started = time.perf_counter()
        try:
            # Retrying a named task is safe: a lost success comes back as AlreadyExists.
            self._client.create_task(parent=parent, task=body, timeout=10.0, retry=_CREATE_RETRY)
        except gexc.AlreadyExists:
            log.info("task already exists", extra={"task_name": task.name, "queue": task.queue})
            return False
        except gexc.GoogleAPICallError as exc:
            log.error("enqueue failed", extra={"task_name": task.name, "queue": task.queue, "error": str(exc)})
            raise ServiceUnavailable("task queue unavailable", code="queue_unavailable") from exc
        log.info(
            "task enqueued",
            extra={
                "task_name": task.name,
                "queue": task.queue,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return True

    def ping(self) -> None:
        self._client.get_queue(name=self._queue_path(next(iter(QUEUES))), timeout=5.0)


class LocalDispatcherQueue:
    """Talks to `devstack/task_dispatcher.py`, which dispatches like Cloud Tasks (dedup by name included)."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._session = requests.Session()

    def enqueue(self, task: Task) -> bool:
        _check_queue(task)
        headers = dict(task.headers)
        if self._settings.task_shared_secret:
            headers[TASK_SECRET_HEADER] = self._settings.task_shared_secret.get_secret_value()
        body = {
            "name": task.name,
            "url": _target_url(self._settings, task),
            "payload": task.payload,
            "schedule_time": _due(task, datetime.now(UTC)).isoformat(),  # the dispatcher shares our clock
            "headers": headers,
        }
        for attempt in (1, 2, 3):
            try:
                resp = self._session.post(
                    f"{self._settings.tasks_local_url}/queues/{task.queue}/tasks", json=body, timeout=2.0
                )
            except requests.RequestException as exc:
                log.warning(
                    "local enqueue failed",
                    extra={"task_name": task.name, "attempt": attempt, "error": type(exc).__name__},
                )
                time.sleep(0.05 * attempt)
                continue
            if resp.status_code == 409:
                return False
            if resp.status_code == 201:
                return True
            log.warning("local enqueue refused", extra={"task_name": task.name, "status": resp.status_code})
        raise ServiceUnavailable("task queue unavailable", code="queue_unavailable")

    def ping(self) -> None:
        self._session.get(f"{self._settings.tasks_local_url}/healthz", timeout=2.0).raise_for_status()


@lru_cache(maxsize=1)
def get_task_queue() -> TaskQueue:
    settings = get_settings()
    return LocalDispatcherQueue(settings) if settings.tasks_driver == "local" else CloudTasksQueue(settings)
