"""Driver selection: WHATSAPP_DRIVER=neonize (production) or simulated (local stack and tests)."""

from __future__ import annotations

from pathlib import Path

from aiadmin.settings import Settings
from session_host.drivers.base import EventSink, WhatsAppDriver


def make_driver(settings: Settings, sink: EventSink) -> WhatsAppDriver:
    if settings.whatsapp_driver == "simulated":
        from session_host.drivers.simulated import SimulatedWhatsApp

        return SimulatedWhatsApp(sink, Path(settings.wa_credentials))
    raise NotImplementedError("the neonize driver is not built yet (issue #3 continues); use WHATSAPP_DRIVER=simulated")
