"""Benchmark: reminders for a salon with 10,000 future bookings (issue 16).

The YCLIENTS stand-in (under YCLIENTS's rate limit, with our client's limiter) serves a large salon; the Firestore
emulator stores it; the task queue is an in-memory one with Cloud Tasks' semantics (a task name is taken once).
Prints for the first full bookings sync, an immediate re-sync, and an incremental sync after 1,000 bookings were
moved: wall time, bookings written, reminder tasks created and found existing; then the moved bookings' old
reminder tasks firing: how many send nothing, and the time per task.

    .venv/bin/python -m bench.reminders_load        (or `make bench-reminders`)
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PORT, YCLIENTS_PORT, PROJECT, SALON = 18780, 18790, "demo-aiadmin-bench-reminders", 962302
BOOKINGS, MOVED = 10_000, 1_000

os.environ.update(
    {
        "ENV": "local",
        "LOG_LEVEL": "WARNING",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{EMULATOR_PORT}",
        "SESSION_HOST_URL": "http://127.0.0.1:9",
    }
)


class CloudTasksLike:
    """Named tasks, each name taken once (as Cloud Tasks); nothing is dispatched."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tasks: dict[str, object] = {}
        self.calls = 0

    def enqueue(self, task) -> bool:
        with self.lock:
            self.calls += 1
            if task.name in self.tasks:
                return False
            self.tasks[task.name] = task
            return True

    def ping(self) -> None:
        return None


def main() -> None:
    from werkzeug.serving import make_server

    from aiadmin.core import repositories
    from aiadmin.core.firestore_db import get_db
    from aiadmin.core.logs import configure_logging
    from aiadmin.core.models import Company
    from aiadmin.core.settings import get_settings
    from aiadmin.reminders import delivery
    from aiadmin.sync import runner
    from aiadmin.sync.reminder_plan import ReminderTask
    from aiadmin.yclients.client import YclientsClient
    from aiadmin.yclients.rate_limiter import SlidingWindowLimiter
    from devstack import firestore_emulator
    from devstack.yclients_salon import Salon
    from devstack.yclients_standin import StandinConfig, StandinState, create_app

    configure_logging("WARNING")
    state = StandinState()
    salon = Salon.large(SALON, clients=6000, staff=60, services=120, records=BOOKINGS, days=27)
    state.salons[SALON] = salon
    config = StandinConfig("bench-partner", "bench-user", "1", "http://127.0.0.1:9/r", "http://127.0.0.1:9/c")
    server = make_server("127.0.0.1", YCLIENTS_PORT, create_app(config, state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emu = firestore_emulator.start(EMULATOR_PORT, ROOT / "test-output" / "bench-reminders-emulator.log")
    try:
        firestore_emulator.wait_ready(os.environ["FIRESTORE_EMULATOR_HOST"], proc=emu)
        db = get_db()
        company = Company(salon_id=SALON, title="Большой салон", integration_status="active")
        repositories.company_ref(db, SALON).set(company.to_firestore())
        yc = YclientsClient(
            f"http://127.0.0.1:{YCLIENTS_PORT}", "bench-partner", "bench-user", limiter=SlidingWindowLimiter(5, 200)
        )
        queue = CloudTasksLike()
        print(f"salon: {BOOKINGS} bookings over the next 27 days, 60 masters")
        print(f"  {'run':44} {'seconds':>8} {'written':>8} {'enqueues':>9} {'created':>8} {'existing':>9}")

        def sync(label: str, module: str) -> None:
            calls, created = queue.calls, len(queue.tasks)
            t0 = time.perf_counter()
            result = runner.run(db, yc, SALON, module, slot=label, queue=queue)
            secs = time.perf_counter() - t0
            assert result.state == "ok", result.detail
            st = runner.load_state(db, SALON, module)
            made = len(queue.tasks) - created
            enq = queue.calls - calls
            print(f"  {label:44} {secs:8.2f} {st.written:8d} {enq:9d} {made:8d} {enq - made:9d}")

        sync("first full bookings sync", "bookings_full")
        sync("immediate re-sync (nothing changed)", "bookings_full")
        old = {name: t for name, t in queue.tasks.items()}
        moved = [r for r in salon.records.values() if not r["deleted"]][:MOVED]
        for rec in moved:
            start = datetime.fromisoformat(rec["datetime"]).replace(tzinfo=None) + timedelta(days=1)
            salon.put_record(rec["id"], rec["staff_id"], rec["services"][0]["id"], start, rec["client"]["id"])
        time.sleep(1.1)  # the incremental pass asks for changes since the last run began
        sync(f"incremental bookings after {MOVED} moves", "bookings")

        moved_ids = {r["id"] for r in moved}
        stale = [t for t in old.values() if t.payload["record_id"] in moved_ids]
        settings = get_settings()
        t0 = time.perf_counter()
        outcomes = [delivery.deliver(db, ReminderTask.model_validate(t.payload), queue, settings) for t in stale]
        secs = time.perf_counter() - t0
        skipped = sum(1 for o in outcomes if o == "skipped: the booking was moved")
        print(
            f"\nold reminder tasks of the moved bookings firing: {len(stale)}, sent nothing: {skipped}, "
            f"{secs / max(1, len(stale)) * 1000:.1f} ms each (2 Firestore reads: the salon and the booking)"
        )
        print(
            "reminder planning itself reads nothing from Firestore: it uses the booking just written and the salon "
            "the sync already holds"
        )
    finally:
        server.shutdown()
        emu.terminate()
        emu.wait(10)


if __name__ == "__main__":
    main()
