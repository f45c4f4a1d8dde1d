"""What the sync and reminder benchmarks share: a large salon served by the YCLIENTS stand-in under YCLIENTS's
rate limit (5 req/s, 200 req/min, with our client's limiter), the Firestore emulator, and the salon's company
document marked active. The caller sets FIRESTORE_EMULATOR_HOST before importing aiadmin."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def served(salon: Any, *, yclients_port: int, emulator_port: int, log_name: str) -> Iterator[tuple[Any, Any, Any]]:
    """(stand-in state, Firestore client, YCLIENTS client) while the stand-in and the emulator run."""
    from werkzeug.serving import make_server

    from aiadmin.core import repositories
    from aiadmin.core.firestore_db import get_db
    from aiadmin.core.models import Company
    from aiadmin.yclients.client import YclientsClient
    from aiadmin.yclients.rate_limiter import SlidingWindowLimiter
    from devstack import firestore_emulator
    from devstack.yclients_standin import StandinConfig, StandinState, create_app

    state = StandinState()
    state.salons[salon.salon_id] = salon
    config = StandinConfig("bench-partner", "bench-user", "1", "http://127.0.0.1:9/r", "http://127.0.0.1:9/c")
    server = make_server("127.0.0.1", yclients_port, create_app(config, state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emu = firestore_emulator.start(emulator_port, ROOT / "test-output" / log_name)
    try:
        firestore_emulator.wait_ready(os.environ["FIRESTORE_EMULATOR_HOST"], proc=emu)
        db = get_db()
        company = Company(salon_id=salon.salon_id, title="Большой салон", integration_status="active")
        repositories.company_ref(db, salon.salon_id).set(company.to_firestore())
        yc = YclientsClient(
            f"http://127.0.0.1:{yclients_port}", "bench-partner", "bench-user", limiter=SlidingWindowLimiter(5, 200)
        )
        yield state, db, yc
    finally:
        server.shutdown()
        emu.terminate()
        emu.wait(10)
