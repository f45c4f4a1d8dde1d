"""Write-behind for session status documents. The session actor decides a session's status at once; a small pool
writes it. Per session only the newest pending status is written (a QR that rotated twice before its write is
written once), and one session's writes never overtake each other. The status and its projections for the pages
watching it (`onboarding_views`) go in one batch: one round trip, and a page never sees what the status lacks."""

from __future__ import annotations

import logging
import queue
import threading
import time

from google.cloud import firestore

from aiadmin.whatsapp.onboarding_view import add_projections
from aiadmin.whatsapp.qr_image import qr_data_url
from aiadmin.whatsapp.session_status import WA_SESSIONS, SessionStatus

log = logging.getLogger("session_host.status_writer")


class StatusWriter:
    def __init__(self, db: firestore.Client, workers: int = 6):
        self._db = db
        self._pending: dict[str, tuple[SessionStatus, str | None]] = {}
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._ready: queue.Queue[str] = queue.Queue()
        self.submitted = 0  # statuses decided
        self.written = 0  # documents written (fewer when newer statuses replaced older pending ones)
        for i in range(workers):
            threading.Thread(target=self._work, name=f"status-writer-{i}", daemon=True).start()

    def submit(self, status: SessionStatus, qr_payload: str | None = None) -> None:
        sid = status.session_id
        with self._lock:
            waiting = sid in self._pending or sid in self._inflight
            self._pending[sid] = (status, qr_payload)
            self.submitted += 1
            if not waiting:
                self._ready.put(sid)

    def flush(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending and not self._inflight:
                    return True
            time.sleep(0.01)
        return False

    def _work(self) -> None:
        while True:
            sid = self._ready.get()
            with self._lock:
                status, payload = self._pending.pop(sid)
                self._inflight.add(sid)
            try:
                if payload is not None:  # rendering a QR costs ~20 ms of CPU: done here, not in the actor
                    status = status.model_copy(update={"qr": qr_data_url(payload)})
                batch = self._db.batch()
                batch.set(self._db.collection(WA_SESSIONS).document(sid), status.to_firestore())
                add_projections(batch, self._db, status)
                batch.commit()
                self.written += 1
            except Exception:
                log.exception("status write failed", extra={"session_id": sid})
            finally:
                with self._lock:
                    self._inflight.discard(sid)
                    if sid in self._pending:
                        self._ready.put(sid)
