"""Benchmark: syncing a large salon from the YCLIENTS stand-in (served under YCLIENTS's rate limit, 5 req/s and
200 req/min, with our client's limiter) into the Firestore emulator.

Salon: 5,000 clients, 25 staff, 200 services, 30 days of schedules, 3,000 records from today on (and 1,000 in
the past 60 days, for the visit history). Prints, per module and in
total: wall time, YCLIENTS requests, Firestore documents written and deleted, for the first full sync, an
immediate re-sync (target: almost no writes), one hourly today-and-tomorrow schedule run and one incremental
bookings run after a few changes.

    .venv/bin/python -m bench.sync_load        (or `make bench-sync`)
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta

EMULATOR_PORT, YCLIENTS_PORT, PROJECT, SALON = 18680, 18690, "demo-aiadmin-bench-sync", 962302
FULL = ("company", "services", "staff", "clients", "schedules_30d", "bookings_full", "visits")

os.environ.update(
    {
        "ENV": "local",
        "LOG_LEVEL": "WARNING",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{EMULATOR_PORT}",
    }
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="the salon's size (0.01: a smoke run in seconds)")
    scale = parser.parse_args().scale
    from aiadmin.core.logs import configure_logging
    from aiadmin.sync import runner
    from bench.large_salon_stack import served
    from devstack.yclients_salon import Salon

    configure_logging("WARNING")
    built = time.perf_counter()
    clients, staff, services, records = (max(5, round(n * scale)) for n in (5000, 25, 200, 3000))
    salon = Salon.large(
        SALON, clients=clients, staff=staff, services=services, records=records, past_records=records // 3, days=30
    )
    print(
        f"large salon built in {time.perf_counter() - built:.1f}s: "
        f"{clients} clients, {staff} staff, {services} services, {records} records"
    )
    with served(
        salon, yclients_port=YCLIENTS_PORT, emulator_port=EMULATOR_PORT, log_name="bench-sync-emulator.log"
    ) as (state, db, yc):

        def sync(label: str, modules: tuple[str, ...]) -> None:
            rows = []
            began = time.perf_counter()
            for module in modules:
                t0 = time.perf_counter()
                result = runner.run(db, yc, SALON, module, slot=label)
                st = runner.load_state(db, SALON, module)
                assert result.state == "ok", (module, result.detail)
                rows.append((module, time.perf_counter() - t0, st.yclients_requests, st.written, st.deleted, st.read))
            total = time.perf_counter() - began
            print(f"\n{label}: {total:.1f}s wall")
            print(f"  {'module':16} {'seconds':>8} {'requests':>9} {'written':>8} {'deleted':>8} {'items':>7}")
            for module, secs, reqs, written, deleted, read in rows:
                print(f"  {module:16} {secs:8.2f} {reqs:9d} {written:8d} {deleted:8d} {read:7d}")
            sums = [sum(r[i] for r in rows) for i in (2, 3, 4, 5)]
            print(f"  {'total':16} {total:8.2f} {sums[0]:9d} {sums[1]:8d} {sums[2]:8d} {sums[3]:7d}")
            print(f"  (+ {len(rows) * 2} sync_state writes: one 'running' and one result per module)")

        sync("first full sync", FULL)
        sync("immediate re-sync", FULL)
        sync("hourly today+tomorrow schedules", ("schedules_today",))
        sync("incremental bookings, nothing changed", ("bookings",))
        for i, rec in enumerate(list(salon.records.values())[:5]):
            start = datetime.fromisoformat(rec["datetime"]).replace(tzinfo=None) + timedelta(minutes=30)
            salon.put_record(rec["id"], rec["staff_id"], rec["services"][0]["id"], start, rec["client"]["id"])
            if i == 0:
                salon.delete_record(rec["id"])
        sync("incremental bookings after 4 moves and 1 cancellation", ("bookings",))
        print(
            f"\nYCLIENTS requests in all: {yc.requests_sent}, of them answered 429 by the stand-in: {state.throttled}"
        )


if __name__ == "__main__":
    main()
