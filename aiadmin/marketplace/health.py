"""Real health checks: settings present (booleans only), a Firestore round trip, the task queue reachable. The
public answer says only up or degraded; the details (which setting is missing, which salon's sync fails) are for
callers that pass the private endpoints' check (`aiadmin.core.caller_auth`): our invoker account, or locally the
shared secret."""

from __future__ import annotations

import logging
import time
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from aiadmin.core.firestore_db import get_db
from aiadmin.core.settings import REQUIRED_SETTINGS, Settings
from aiadmin.core.task_queue import get_task_queue
from aiadmin.sync.documents import SYNC_STATE

log = logging.getLogger("aiadmin.health")


def _timed(check) -> tuple[bool, float, str | None]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return False, round((time.perf_counter() - started) * 1000, 1), type(exc).__name__
    return True, round((time.perf_counter() - started) * 1000, 1), None


def failing_syncs(limit: int = 20) -> list[str]:
    """`{salon}_{module}` of sync modules whose last run failed: shown, not fatal (one salon's YCLIENTS trouble
    is not the service's); the alert policies watch the `sync failed` log lines."""
    query = get_db().collection(SYNC_STATE).where(filter=FieldFilter("state", "==", "failed")).limit(limit)
    return sorted(snap.id for snap in query.select(["state"]).stream())


def check_health(settings: Settings) -> tuple[bool, dict[str, Any]]:
    missing = settings.missing()
    configured = {name.upper(): name.upper() not in missing for name in REQUIRED_SETTINGS}
    fs_ok, fs_ms, fs_err = _timed(lambda: get_db().collection("_health").document("probe").get(timeout=5))
    q_ok, q_ms, q_err = _timed(lambda: get_task_queue().ping())
    failed = [name for name, ok in (("firestore", fs_ok), ("task_queue", q_ok)) if not ok]
    failing: list[str] = []
    if fs_ok:
        _timed(lambda: failing.extend(failing_syncs()))
    healthy = not missing and not failed
    body: dict[str, Any] = {
        "status": "ok" if healthy else "degraded",
        "env": settings.env,
        "settings": configured,
        "checks": {
            "firestore": {"ok": fs_ok, "ms": fs_ms, **({"error": fs_err} if fs_err else {})},
            "task_queue": {
                "ok": q_ok,
                "ms": q_ms,
                "driver": settings.tasks_driver,
                **({"error": q_err} if q_err else {}),
            },
        },
        "missing": missing,
        "failed": failed,
        "sync": {"failing": failing},
    }
    if not healthy:
        log.warning("health check failed", extra={"missing": missing, "failed": failed})
    return healthy, body


def public_view(healthy: bool) -> dict[str, Any]:
    return {"status": "ok" if healthy else "degraded"}
