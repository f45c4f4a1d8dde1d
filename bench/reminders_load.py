"""Benchmark: reminders for a salon with 10,000 future bookings (issue 16).

The YCLIENTS stand-in (under YCLIENTS's rate limit, with our client's limiter) serves a large salon; the Firestore
emulator stores it; the task queue is an in-memory one with Cloud Tasks' semantics (a task name is taken once).
Prints for the first full bookings sync, an immediate re-sync, and an incremental sync after 1,000 bookings were
moved: wall time, bookings written, reminder tasks created and found existing; then the moved bookings' old
reminder tasks firing: how many send nothing, and the time per task.

    .venv/bin/python -m bench.reminders_load        (or `make bench-reminders`)
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import datetime, timedelta

EMULATOR_PORT, YCLIENTS_PORT, PROJECT, SALON = 18840, 18850, "demo-aiadmin-bench-reminders", 962302
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="the salon's size (0.01: a smoke run in seconds)")
    scale = parser.parse_args().scale
    bookings, moved_n = max(10, round(BOOKINGS * scale)), max(1, round(MOVED * scale))
    from aiadmin.core.logs import configure_logging
    from aiadmin.core.settings import get_settings
    from aiadmin.reminders import delivery
    from aiadmin.sync import runner
    from aiadmin.sync.reminder_plan import ReminderTask
    from bench.large_salon_stack import served
    from devstack.yclients_salon import Salon

    configure_logging("WARNING")
    salon = Salon.large(
        SALON,
        clients=max(10, round(6000 * scale)),
        staff=max(3, round(60 * scale)),
        services=120,
        records=bookings,
        days=27,
    )
    with served(
        salon, yclients_port=YCLIENTS_PORT, emulator_port=EMULATOR_PORT, log_name="bench-reminders-emulator.log"
    ) as (_, db, yc):
        queue = CloudTasksLike()
        print(f"salon: {bookings} bookings over the next 27 days")
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
        moved = [r for r in salon.records.values() if not r["deleted"]][:moved_n]
        for rec in moved:
            start = datetime.fromisoformat(rec["datetime"]).replace(tzinfo=None) + timedelta(days=1)
            salon.put_record(rec["id"], rec["staff_id"], rec["services"][0]["id"], start, rec["client"]["id"])
        time.sleep(1.1)  # the incremental pass asks for changes since the last run began
        sync(f"incremental bookings after {moved_n} moves", "bookings")

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


if __name__ == "__main__":
    main()
