"""A local Cloud Tasks stand-in: named HTTP tasks, deduplicated by name (unlike the gcloud emulator),
scheduled, dispatched with Cloud Tasks headers, retried with backoff up to the queue's max attempts.

API: POST /queues/<queue>/tasks {name, url, payload, schedule_time (ISO 8601) | delay_s, headers}
       -> 201 | 409 (name exists)
     GET /tasks[?queue=&state=] -> [{name, queue, schedule_time, state, attempts, …}]
     POST /tasks/<name>:run -> dispatches it now, as Cloud Tasks' RunTask (404 unknown, 409 already done)
     GET /healthz
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, jsonify, request

from aiadmin.core.logs import configure_logging
from aiadmin.core.queues import QUEUES

log = logging.getLogger("devstack.tasks")


@dataclass
class TaskRecord:
    queue: str
    name: str
    url: str
    payload: Any
    headers: dict[str, str]
    eta: float
    schedule_time: str = ""  # ISO 8601, UTC: when it is (or was) due
    created: float = field(default_factory=time.time)
    state: str = "pending"  # pending | running | done | failed
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None


class Dispatcher:
    def __init__(self, backoff_scale: float = 1.0, concurrency: int = 8, tombstone_s: float = 3600):
        self.tasks: dict[str, TaskRecord] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._lock = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dispatch")
        self._session = requests.Session()
        self.backoff_scale = backoff_scale
        self.tombstone_s = tombstone_s
        self._stop = False
        threading.Thread(target=self._loop, daemon=True, name="dispatcher").start()

    def create(self, queue: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if queue not in QUEUES:
            return 404, {"error": f"unknown queue {queue!r}"}
        if not body.get("name") or not body.get("url"):
            return 400, {"error": "name and url are required"}
        key = f"{queue}/{body['name']}"
        with self._lock:
            old = self.tasks.get(key)
            if old and (old.state in ("pending", "running") or time.time() - old.created < self.tombstone_s):
                return 409, {"error": "task already exists", "name": body["name"]}
            rec = TaskRecord(
                queue=queue,
                name=body["name"],
                url=body["url"],
                payload=body.get("payload"),
                headers=dict(body.get("headers") or {}),
                eta=_eta(body),
            )
            rec.schedule_time = _iso(rec.eta)
            self.tasks[key] = rec
            heapq.heappush(self._heap, (rec.eta, next(self._seq), key))
            self._lock.notify()
        return 201, {"name": rec.name}

    def _loop(self) -> None:
        while not self._stop:
            with self._lock:
                while not self._heap or self._heap[0][0] > time.time():
                    timeout = None if not self._heap else max(0.0, self._heap[0][0] - time.time())
                    self._lock.wait(timeout)
                _, _, key = heapq.heappop(self._heap)
                rec = self.tasks.get(key)
                if rec is None or rec.state != "pending":
                    continue  # cleared, or a stale heap entry
                if self._running(rec.queue) >= QUEUES[rec.queue].max_concurrent_dispatches:
                    rec.eta = time.time() + 0.05  # the queue's concurrency is used up: as Cloud Tasks, wait
                    heapq.heappush(self._heap, (rec.eta, next(self._seq), key))
                    continue
                rec.state = "running"
            self._pool.submit(self._dispatch, key, rec)

    def _running(self, queue: str) -> int:
        return sum(1 for r in self.tasks.values() if r.queue == queue and r.state == "running")

    def _dispatch(self, key: str, rec: TaskRecord) -> None:
        spec = QUEUES[rec.queue]
        headers = {
            **rec.headers,
            "Content-Type": "application/json",
            "X-CloudTasks-QueueName": rec.queue,
            "X-CloudTasks-TaskName": rec.name,
            "X-CloudTasks-TaskRetryCount": str(rec.attempts),
            "X-CloudTasks-TaskExecutionCount": str(rec.attempts),
        }
        try:
            # Cloud Tasks waits up to 10 min for an HTTP target by default; a large salon's sync can take a while.
            resp = self._session.post(rec.url, json=rec.payload, headers=headers, timeout=600)
            rec.last_status, rec.last_error = resp.status_code, None if resp.ok else resp.text[:300]
            ok = 200 <= resp.status_code < 300
        except requests.RequestException as exc:
            rec.last_status, rec.last_error, ok = None, type(exc).__name__, False
        rec.attempts += 1
        with self._lock:
            if ok:
                rec.state = "done"
            elif rec.attempts >= spec.max_attempts:
                rec.state = "failed"
            else:
                delay = min(spec.min_backoff_s * 2 ** (rec.attempts - 1), spec.max_backoff_s) * self.backoff_scale
                rec.state, rec.eta = "pending", time.time() + delay
                heapq.heappush(self._heap, (rec.eta, next(self._seq), key))
                self._lock.notify()
        log.log(
            logging.INFO if ok else logging.WARNING,
            "task %s -> %s",
            rec.name,
            rec.last_status,
            extra={"task_name": rec.name, "queue": rec.queue, "attempt": rec.attempts, "state": rec.state},
        )

    def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Until no task is being dispatched (tests use it between cases)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not any(r.state == "running" for r in self.tasks.values()):
                    return
            time.sleep(0.02)

    def clear(self) -> None:
        with self._lock:
            self.tasks.clear()
            self._heap.clear()

    def run_now(self, name: str, queue: str | None = None) -> tuple[int, dict[str, Any]]:
        """RunTask: dispatch a waiting task now, whatever its schedule."""
        with self._lock:
            found = [(k, r) for k, r in self.tasks.items() if r.name == name and queue in (None, r.queue)]
            if not found:
                return 404, {"error": f"no task {name!r}"}
            key, rec = found[0]
            if rec.state != "pending":
                return 409, {"error": f"task {name!r} is {rec.state}"}
            rec.eta = time.time()
            heapq.heappush(self._heap, (rec.eta, next(self._seq), key))
            self._lock.notify()
            return 200, asdict(rec)

    def listing(self, queue: str | None, state: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                asdict(r)
                for r in self.tasks.values()
                if (queue is None or r.queue == queue) and (state is None or r.state == state)
            ]


def _eta(body: dict[str, Any]) -> float:
    if body.get("schedule_time"):
        return datetime.fromisoformat(str(body["schedule_time"])).timestamp()
    return time.time() + float(body.get("delay_s") or 0)


def _iso(eta: float) -> str:
    return datetime.fromtimestamp(eta, UTC).isoformat(timespec="seconds")


def create_app(dispatcher: Dispatcher) -> Flask:
    app = Flask("task_dispatcher")

    @app.post("/queues/<queue>/tasks")
    def create(queue: str):
        status, body = dispatcher.create(queue, request.get_json(silent=True) or {})
        return jsonify(body), status

    @app.get("/tasks")
    def tasks():
        return jsonify(dispatcher.listing(request.args.get("queue"), request.args.get("state")))

    @app.post("/tasks/<path:spec>")
    def run(spec: str):
        name, _, verb = spec.rpartition(":")
        if verb != "run" or not name:
            return jsonify({"error": "POST /tasks/<name>:run"}), 404
        status, body = dispatcher.run_now(name, request.args.get("queue"))
        return jsonify(body), status

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok", "queues": sorted(QUEUES)})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--backoff-scale", type=float, default=1.0)
    args = parser.parse_args()
    configure_logging("INFO")
    from werkzeug.serving import make_server

    make_server(args.host, args.port, create_app(Dispatcher(args.backoff_scale)), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
