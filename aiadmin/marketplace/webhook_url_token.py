"""Per-salon data-webhook URLs: `/webhook/yclients/{salon_id}/{token}`, the token an HMAC of the salon and its
install's nonce under a server secret. Only YCLIENTS learns the URL (at activation); a reinstall gets a new nonce,
so a URL from an earlier install (or one that leaked) stops working. Salons activated before nonces existed keep
the nonce-less token until they are reinstalled; an uninstalled salon answers no URL at all."""

from __future__ import annotations

import hashlib
import hmac

from aiadmin.core.errors import NotFound


def token_for(secret: str, salon_id: int, nonce: str | None = None) -> str:
    subject = f"yclients-data-webhook:{salon_id}" + (f":{nonce}" if nonce else "")
    return hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()[:40]


def webhook_url(base_url: str, secret: str, salon_id: int, nonce: str | None) -> str:
    return f"{base_url}/webhook/yclients/{salon_id}/{token_for(secret, salon_id, nonce)}"


def check(secret: str, salon_id: int, nonce: str | None, token: str) -> None:
    if not hmac.compare_digest(token_for(secret, salon_id, nonce).encode(), token.encode()):
        raise NotFound("unknown webhook URL", code="unknown_webhook_url")
