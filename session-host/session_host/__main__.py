"""`python -m session_host`: hold the salons' WhatsApp sessions until SIGTERM, then let go within 10 s."""

from __future__ import annotations

import os
import signal
import socket
import threading

from werkzeug.serving import make_server

from aiadmin.core.firestore_db import get_db
from aiadmin.core.logs import configure_logging
from aiadmin.core.settings import get_settings
from session_host import exit_deadline
from session_host.drivers import make_driver
from session_host.http_api import create_app
from session_host.outbound import Sender
from session_host.sessions import SessionHost

EXIT_DEADLINE_S = 9.5  # Cloud Run kills the container 10 s after SIGTERM; leave the stacks in the log before that


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    if settings.env != "local":
        settings.require("session_host_url")  # deployed, every caller is checked against it: refuse to start without
    holder = settings.host_id or f"{socket.gethostname()}-{os.getpid()}"
    host = SessionHost(get_db(), lambda sink: make_driver(settings, sink), holder, lease_ttl_s=settings.wa_lease_ttl_s)
    secret = settings.task_shared_secret.get_secret_value() if settings.task_shared_secret else ""
    sender = Sender(get_db(), host, settings.wa_send_interval_s, settings.wa_send_jitter_s, settings.wa_send_burst)
    app = create_app(host, secret, sender, deployed=settings if settings.env != "local" else None)
    server = make_server("0.0.0.0", settings.session_host_port, app, threaded=True)  # noqa: S104
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    host.start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    exit_deadline.wait_for_stop(stop)
    exit_deadline.arm(EXIT_DEADLINE_S)
    server.shutdown()
    host.shutdown(timeout_s=8.0)


if __name__ == "__main__":
    main()
