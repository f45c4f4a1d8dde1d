"""`make sync SALON=962302`: queue every sync module of one salon on the running local stack, wait for the tasks,
print each module's sync state."""

from __future__ import annotations

import argparse
import os
import sys
import time

from devstack.stack import Ports, local_env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--salon", type=int, default=962302)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    os.environ.update({k: v for k, v in local_env(Ports.from_env()).items() if k not in os.environ})

    from aiadmin.core import repositories
    from aiadmin.core.firestore_db import get_db
    from aiadmin.core.task_queue import get_task_queue
    from aiadmin.sync.runner import enqueue_modules, load_state
    from aiadmin.sync.timetable import MODULES

    db = get_db()
    company = repositories.get_company(db, args.salon)
    if company is None:
        print(f"salon {args.salon} is not registered here (open the onboarding link from `make dev` first)")
        return 1
    if company.integration_status != "active":
        print(f"salon {args.salon} is {company.integration_status}; sync runs for active salons only")
        return 1
    started = time.time()
    slot = f"manual-{int(started)}"
    modules = tuple(m for m in MODULES if m != "bookings")  # the full bookings pass covers the incremental one
    queued = enqueue_modules(get_task_queue(), args.salon, modules, slot, reason="make sync")
    print(f"queued {queued} sync tasks for salon {args.salon}")
    pending = set(modules)
    while pending and time.time() - started < args.timeout:
        for module in sorted(pending):
            state = load_state(db, args.salon, module)
            if state.last_slot == slot and state.state in ("ok", "failed"):
                pending.discard(module)
                line = f"{module:16} {state.state:6} read {state.read:5}  written {state.written:5}  "
                line += f"deleted {state.deleted:4}  requests {state.yclients_requests:3}  {state.last_duration_ms} ms"
                print(line + (f"  error: {state.last_error}" if state.state == "failed" else ""))
        time.sleep(0.5)
    if pending:
        print(f"still running after {args.timeout}s: {', '.join(sorted(pending))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
