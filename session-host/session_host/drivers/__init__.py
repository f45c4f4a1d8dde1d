"""Driver selection: WHATSAPP_DRIVER=neonize (production) or simulated (local stack and tests)."""

from __future__ import annotations

from pathlib import Path

from aiadmin.core.errors import ConfigurationError
from aiadmin.core.settings import Settings
from session_host.drivers.base import EventSink, WhatsAppDriver


def make_driver(settings: Settings, sink: EventSink) -> WhatsAppDriver:
    store = Path(settings.wa_credentials)
    if settings.whatsapp_driver == "simulated":
        if settings.env != "local":  # its /simulator/ API would let anyone "scan" a salon's QR
            raise ConfigurationError(f"WHATSAPP_DRIVER=simulated runs only with ENV=local, not {settings.env}")
        from session_host.drivers.simulated import SimulatedWhatsApp

        return SimulatedWhatsApp(
            sink,
            store / "simulated-devices.sqlite3",
            qr_ttl_s=settings.sim_qr_ttl_s,
            qr_rotations=settings.sim_qr_rotations,
        )
    from session_host.drivers.neonize_driver import NeonizeWhatsApp, PostgresStore, SqliteStores

    stores: PostgresStore | SqliteStores
    if settings.wa_credentials.startswith(("postgres://", "postgresql://")):
        from aiadmin.core.firestore_db import get_db
        from session_host.device_registry import DeviceRegistry

        stores = PostgresStore(settings.wa_credentials, DeviceRegistry(get_db()))
    else:
        stores = SqliteStores(store)
    return NeonizeWhatsApp(sink, stores, max_clients=settings.wa_sessions_per_host, proxy_url=settings.wa_proxy_url)
