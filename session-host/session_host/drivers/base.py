"""The one interface both WhatsApp drivers implement (neonize in production, simulated locally)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from session_host.events import DriverEvent

Mode = Literal["qr", "pairing", "restore"]
EventSink = Callable[[str, DriverEvent], None]


class WhatsAppDriver(Protocol):
    def start(self, session_id: str, mode: Mode, phone: str | None = None) -> None:
        """Open the socket. qr: emit QrCode events; pairing: emit a PairingCode for `phone`; restore: connect with
        stored credentials (emit Connected, or LoggedOut when there are none). Events go to the sink."""

    def stop(self, session_id: str) -> None:
        """Close the socket, keep the credentials (shutdown, lease lost)."""

    def logout(self, session_id: str) -> None:
        """Unlink the device and wipe the credentials (uninstall, logged out)."""

    def has_credentials(self, session_id: str) -> bool: ...

    def send_text(self, session_id: str, to_phone: str, text: str) -> str:
        """Send and return WhatsApp's message id. Raises SendError (permanent or transient: nothing was sent) or
        SendOutcomeUnknown (handed over, no answer in SEND_TIMEOUT_S: it may have arrived)."""

    def close(self) -> None:
        """Stop every client (SIGTERM)."""
