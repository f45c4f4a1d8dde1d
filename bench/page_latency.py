"""Benchmark: from the session host's status write to the onboarding page's DOM, in real headless Chromium.

The page is the built onboarding page behind the local gateway, listening to its `onboarding_views` document in
the Firestore emulator (with the security rules). This script plays the session host: it submits statuses
through the host's own StatusWriter (the status and the page's view in one batch) and the page records, with a
MutationObserver, when each status reaches its DOM. Latency = DOM time - the status's `updated_at` (the moment
the host decided it), so it includes the writer's queue, the QR render for QR statuses, the commit, the
listener and the page's render.

    .venv/bin/python -m bench.page_latency [--count 100] [--interval 0.2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PORT, GATEWAY_PORT, PROJECT = 18860, 18870, "demo-aiadmin-bench-page"
SALON = 962302
SID = f"company_{SALON}"

os.environ.update(
    {
        "ENV": "local",
        "LOG_LEVEL": "WARNING",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{EMULATOR_PORT}",
        "JWT_SECRET": "bench-jwt-secret-0123456789abcdef",
        "WEBHOOK_SECRET": "bench-webhook-secret-0123456789",
        "YCLIENTS_PARTNER_TOKEN": "bench",
        "YCLIENTS_APP_ID": "1",
        "BASE_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
        "TASKS_DRIVER": "local",
        "TASK_SHARED_SECRET": "bench",
    }
)

OBSERVER = """
window.__seen = [];
new MutationObserver(() => {
  const app = document.getElementById('app');
  window.__seen.push({ updated: Number(app.dataset.updated), at: performance.timeOrigin + performance.now() });
}).observe(document.getElementById('app'), { attributes: true, attributeFilter: ['data-updated'] });
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100, help="statuses per series")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between statuses")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from aiadmin.core import repositories
    from aiadmin.core.firestore_db import get_db
    from aiadmin.core.models import Company, utcnow
    from aiadmin.marketplace import registration_token
    from aiadmin.whatsapp.onboarding_view import view_for
    from aiadmin.whatsapp.session_status import SessionState, status_for
    from devstack import chromium, firestore_emulator, web_build
    from devstack.gateway import Gateway
    from session_host.status_writer import StatusWriter

    web_build.ensure_built()
    emu = firestore_emulator.start(EMULATOR_PORT, ROOT / "test-output" / "bench-page-emulator.log")
    server = None
    try:
        host = os.environ["FIRESTORE_EMULATOR_HOST"]
        firestore_emulator.wait_ready(host, proc=emu)
        firestore_emulator.load_rules(host, PROJECT, ROOT / "web" / "firestore.rules")
        firestore_emulator.wipe(host, PROJECT)
        db = get_db()
        repositories.company_ref(db, SALON).set(
            Company(salon_id=SALON, title="Салон «Бенчмарк»", integration_status="pending_whatsapp").to_firestore()
        )
        secret = os.environ["JWT_SECRET"]
        token = registration_token.issue(secret, SALON, [SALON], 3600)
        claims = registration_token.verify(secret, token, 3600)
        view = view_for(secret, claims)
        server = make_server("127.0.0.1", GATEWAY_PORT, Gateway(), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        writer = StatusWriter(db)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium.executable(), headless=True, args=chromium.ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"http://127.0.0.1:{GATEWAY_PORT}/marketplace/onboarding?token={token}")
            page.wait_for_selector("#app[data-feed=listener]")
            page.evaluate(OBSERVER)
            results = {}
            for series in ("pairing_code", "qr"):
                page.evaluate("window.__seen = []")
                sent = []
                for i in range(args.count):
                    if series == "qr":
                        expires = {"qr_expires_at": utcnow() + timedelta(seconds=20)}
                        status = status_for(SID, SALON, SessionState.QR, mode="qr", views=[view], **expires)
                        writer.submit(status, qr_payload=f"2@bench-{i}-" + "x" * 160)
                    else:
                        status = status_for(
                            SID,
                            SALON,
                            SessionState.PAIRING_CODE,
                            mode="pairing",
                            pairing_code=f"{i:04d}-BNCH",
                            pairing_expires_at=utcnow() + timedelta(seconds=160),
                            views=[view],
                        )
                        writer.submit(status)
                    sent.append(round(status.updated_at.timestamp() * 1000, 3))
                    time.sleep(args.interval)
                writer.flush(10)
                time.sleep(1.0)
                seen = {round(s["updated"], 0): s["at"] for s in page.evaluate("window.__seen")}
                lat = [seen[round(u, 0)] - u for u in sent if round(u, 0) in seen]
                results[series] = (lat, len(sent))
            browser.close()
    finally:
        if server is not None:
            server.shutdown()
        emu.terminate()
        emu.wait(10)

    print(f"status write -> page DOM, headless Chromium, {args.count} statuses per series every {args.interval}s")
    for series, (lat, total) in results.items():
        label = "QR (incl. ~20 ms PNG render)" if series == "qr" else "pairing code"
        if not lat:
            print(f"  {label:30} none of {total} reached the DOM")
            continue
        print(
            f"  {label:30} p50 {statistics.median(lat):6.1f} ms   p95 {pct(lat, 0.95):6.1f} ms   "
            f"max {max(lat):6.1f} ms   reached DOM {len(lat)}/{total}"
        )


if __name__ == "__main__":
    main()
